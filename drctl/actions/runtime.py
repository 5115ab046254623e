"""The run-time action interface: what an action does when a run executes it.

``ActionSpec`` (``base.py``) says what an action *is* (parameters, defaults, how a plan reads it); an
``Implementation`` says what it *does*. It lives in the ``run`` module of the action's family
(``drctl/actions/gate/run.py``), which is imported only when a run starts, so ``validate`` and ``plan`` never import
an SDK.

Actions are synchronous: the engine calls them in worker threads (the Azure SDK is synchronous). An action:

- returns an ``Outcome`` (a one-line summary, JSON-able facts, whether it changed anything);
- raises ``TransientError`` for what is worth retrying (the step's retry policy decides how often), and
  ``ActionError`` (or anything else) for what is not; ``AbortRun`` ends the whole run (a rejected approval);
- checks ``ctx.check_cancelled()`` or sleeps with ``ctx.sleep()`` in any loop, so that timeouts and pauses stop it
  at a safe point, and lets ``Cancelled`` propagate (it is a ``BaseException`` so ``except Exception`` won't eat it);
- journals what it learns with ``ctx.record(kind, data)`` before relying on it (durable when the call returns).

See docs/engine.md for the whole contract and the fact kinds the engine itself understands.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar

from drctl.core.identity import Identity

# the cancellation exceptions are part of this protocol; they live in core because the Azure SDK's transport
# raises them too
from drctl.core.waits import Cancelled as Cancelled
from drctl.core.waits import Interrupted as Interrupted
from drctl.core.waits import Stopped as Stopped
from drctl.core.waits import TimedOut as TimedOut

if TYPE_CHECKING:
    from drctl.actions.base import ActionSpec, Params, Scope
    from drctl.playbook.enums import Mode
    from drctl.playbook.model import Playbook

Q = TypeVar("Q", bound="Params")

#: the fact kinds the engine reads (others are journaled and reported as they are)
FACT_RPO_EXPOSURE = "rpo.exposure"
FACT_SERVICE_RESTORED = "service.restored"


class TransientError(Exception):
    """Worth another attempt: throttling, a timeout on the wire, a resource busy with a previous operation.

    ``retry_after`` (seconds) is the least the engine waits before the next attempt (a 429's Retry-After).
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ActionError(Exception):
    """A failure another attempt would not cure; the step fails and its ``on_failure`` applies."""


class AbortRun(ActionError):
    """The whole run must stop, whatever the step's ``on_failure`` (an approver said no)."""


@dataclass(frozen=True)
class Outcome:
    summary: str
    changed: bool = False
    #: JSON-able evidence for the journal and the report (message ids, previous TTLs, ARM correlation ids...)
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """One read-only comparison of the live estate with what the step intends (for ``plan --preflight``)."""

    subject: str
    current: str | None
    intended: str | None
    severity: Literal["ok", "info", "warning", "error"] = "info"
    message: str = ""


@dataclass(frozen=True)
class Approval:
    approved: bool
    #: who answered: the OS user and host always, the Azure principal when a resolver knows it
    approver: Identity
    at: datetime
    #: how the answer came: "prompt", "file" (``drctl approve``), "yes" (``--yes``), "journal" (before a crash)
    via: str
    reason: str | None = None


class Secrets(Protocol):
    """The ``${ENV}`` values resolved at run start, and the redactor that keeps them out of every output."""

    def expand(self, value: Any) -> Any:
        """Substitute ``${NAME}`` in a string or nested data with the values read at run start."""
        ...

    def redact(self, text: str) -> str: ...


class Services(Protocol):
    """Per-run shared objects, created on first use from factories the CLI registers at run start."""

    def get(self, name: str) -> Any: ...


class ServiceBag:
    """Shared objects for one run, each created on first use by the factory registered under its name.

    The CLI registers factories when a run starts (the Azure clients, the network settings); the engine knows
    none of them but the network settings' default. A factory runs once even when several steps ask at the same
    moment. ``close`` closes what was made.
    """

    def __init__(self, factories: Mapping[str, Callable[[], Any]] | None = None) -> None:
        self._factories: dict[str, Callable[[], Any]] = dict(factories or {})
        self._made: dict[str, Any] = {}
        self._lock = threading.Lock()

    def register(self, name: str, factory: Callable[[], Any]) -> None:
        with self._lock:
            self._factories[name] = factory

    def provides(self, name: str) -> bool:
        with self._lock:
            return name in self._factories

    def get(self, name: str) -> Any:
        with self._lock:
            if name in self._made:
                return self._made[name]
            factory = self._factories.get(name)
            if factory is None:
                known = ", ".join(sorted(self._factories)) or "none"
                raise KeyError(f"no service {name!r} was registered for this run (registered: {known})")
            # under the lock: a factory (a credential, a client pool) must run once per run
            self._made[name] = factory()
            return self._made[name]

    def close(self) -> None:
        with self._lock:
            made, self._made = self._made, {}
        for service in made.values():
            close = getattr(service, "close", None)
            if callable(close):
                close()


class StepContext(Protocol):
    """What an action sees of the run. One context per attempt; the engine's own is ``engine.context``."""

    @property
    def run_id(self) -> str: ...
    @property
    def step_id(self) -> str: ...
    @property
    def attempt(self) -> int: ...
    @property
    def repetition(self) -> int | None:
        """Which repetition of a background step this is (1, 2...); None for the step's own (first) run."""
        ...

    @property
    def mode(self) -> Mode: ...
    @property
    def scope(self) -> Scope: ...
    @property
    def playbook(self) -> Playbook: ...
    @property
    def t0(self) -> datetime: ...
    @property
    def rto_deadline(self) -> datetime: ...
    @property
    def secrets(self) -> Secrets: ...
    @property
    def services(self) -> Services: ...
    @property
    def cancelled(self) -> bool: ...

    def now(self) -> datetime: ...

    def run_facts(self) -> Mapping[str, str]:
        """The run as messages speak of it: ``playbook``, ``mode``, ``elapsed``, ``rto_remaining``, ``projected``,
        ``steps_done``, ``rpo_exposure``... (the notify placeholders), each already formatted."""
        ...

    def record(self, kind: str, data: Mapping[str, Any]) -> None:
        """Journal a fact durably before returning (e.g. ``rpo.exposure`` with ``{"seconds": 42}``)."""
        ...

    def journaled(self, kind: str) -> list[dict[str, Any]]:
        """The facts of ``kind`` this step journaled earlier in the run, oldest first, before a crash included:
        what an action consults before repeating a mutation or a message (intents, accepted operations, sent
        messages)."""
        ...

    def run_journaled(self, kind: str) -> list[dict[str, Any]]:
        """The facts of ``kind`` every step of this run journaled, oldest first, each with its ``step`` key added:
        what an action reads of another step's work (was the database forced? what state did the standby steps
        find before they changed it?)."""
        ...

    def progress(self, text: str) -> None:
        """A line for the live view; journaled too."""
        ...

    def check_cancelled(self) -> None:
        """Raise ``Cancelled`` if the step must stop (timeout, journal failure)."""
        ...

    def sleep(self, seconds: float, *, interruptible: bool = False) -> None:
        """Sleep on the run's clock; raise ``TimedOut`` at the step deadline. ``interruptible``: a pausing run
        stops the wait with ``Interrupted`` (only for waits that change nothing, so re-running them is safe)."""
        ...

    def request_approval(
        self, prompt: str, *, require_reason: bool = False, approvers: Sequence[str] = (), topic: str = "gate"
    ) -> Approval:
        """Wait for an operator's answer (prompt, ``drctl approve``, ``--yes``) until the step's timeout.

        ``topic="data-loss"`` (accepting a forced failover's data loss) is never answered by ``--yes``: only a
        person, or ``--accept-data-loss "reason"`` given when the run started."""
        ...

    def prior_approval(self) -> Approval | None:
        """An approval this step was granted earlier in the run (before a crash), if any."""
        ...


@dataclass(frozen=True)
class Implementation(Generic[Q]):
    """What an action does. ``done`` and ``preflight`` are read-only."""

    run: Callable[[Q, StepContext], Outcome]
    #: "is the desired state already reached?": resume asks it before re-running an interrupted step. ``False``:
    #: run the step again. ``True``: done, and nothing was left to verify. An ``Outcome``: done, and the check ran
    #: the verification the crash interrupted and journaled the facts a completed step records (``service.restored``
    #: for DNS); its summary and facts become the step's result.
    done: Callable[[Q, StepContext], bool | Outcome] | None = None
    #: current against intended, for ``plan --preflight``
    preflight: Callable[[Q, StepContext], list[Finding]] | None = None


def load_implementation(spec: ActionSpec[Any]) -> Implementation[Any] | None:
    """Import the run-time half of an action when a run starts: through its family's ``run`` module (the registry
    knows the family), or for an action of no family through the loader its spec names. None when there is none."""
    if spec.implementation is not None:
        return spec.implementation()
    from drctl.actions import registry

    family = registry.family_of(spec.name)
    return family.run().implementation(spec.name) if family is not None else None
