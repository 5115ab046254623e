"""A step context for testing an action outside a run, the way Temporal's activity test environment does it.

    ctx = FakeStepContext(scope, services=FakeServices.with_azure(sandbox.env()))
    outcome = implementation.run(params, ctx)
    assert ctx.recorded("sql.failover")[0]["mode"] == "planned"

``FakeStepContext`` implements ``actions.runtime.StepContext`` as the engine's context does
(``engine/context.py``) for everything an action can observe, and keeps the rest in lists a test reads:

- time is a ``FakeClock``: ``sleep`` moves it at once (and raises ``TimedOut`` at the step's deadline, as the
  engine does), so a poll loop or a back-off costs no wall time; ``FakeClock.call_at`` changes the world at a
  point of fake time (an app that comes up three seconds into a wait);
- ``record`` keeps each fact (``facts``), checked to be JSON as the journal writes it; ``journaled(kind)``
  answers from facts seeded at construction (an earlier attempt, a process that crashed) and those recorded
  since, as the engine's fact book does;
- ``progress`` keeps each line (``lines``);
- ``request_approval`` takes the next scripted ``Answer`` the engine would accept (approvers, reason), and
  without one waits until the step's deadline and raises ``TimedOut``, as nobody answering does in a run;
- ``next_attempt()`` is the same step run again after a crash: every fact so far seeded through a JSON round
  trip (what a resumed run reads back from its journal), a new attempt number, the same clock and services.

The service bag holds real clients: ``FakeServices.with_azure(environ)`` registers drctl's own
``AzureClients`` for the endpoints, credentials and CA an environment names (the sandbox's ``env()``), and the
``network`` settings (``net.config.NetworkConfig``: resolve overrides, CA, DNS servers) read from the same
mapping, so an action under test drives the real Azure SDK and drctl's HTTP, SMTP and DNS clients against that
sandbox over HTTPS, and nothing is read from or written to ``os.environ``. A context built without services
has ``network`` settings without overrides, as a run outside any sandbox. Nothing here imports the engine
(tests/test_layers.py) or the Azure SDK at import time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from drctl.actions.runtime import Approval, Cancelled, Interrupted, ServiceBag, TimedOut
from drctl.core.clock import FakeClock as EngineFakeClock
from drctl.core.identity import Identity, matches, same_person
from drctl.net.config import NetworkConfig
from drctl.playbook.enums import Mode
from drctl.playbook.secrets import SecretStore

if TYPE_CHECKING:
    from drctl.actions.base import Scope
    from drctl.actions.runtime import StepContext
    from drctl.azure.clients import AzureClients
    from drctl.playbook.model import Playbook

#: the approvers entry meaning "anyone but the operator" (``gate.OTHERS``)
_OTHERS = "others"
#: who answers an approval in a test unless it says otherwise: not the operator
APPROVER = Identity("approver", "desk")


class FakeClock(EngineFakeClock):
    """The engine's fake clock (``core.clock.FakeClock``: moves only when a step sleeps or a test calls ``advance``;
    ``call_at`` runs a callback at a point of fake time), starting at the real time by default: the sandbox dates
    what it serves (a storage account's last sync time, a database's last commit) by the wall clock, and an action
    compares those dates with ``ctx.now()``."""

    def __init__(self, start: datetime | None = None) -> None:
        super().__init__(start or datetime.now(UTC))


class FakeServices(ServiceBag):
    """The engine's own service bag (``actions.runtime.ServiceBag``), with a constructor for the sandbox's Azure."""

    @classmethod
    def with_azure(cls, environ: Mapping[str, str], *, subscription: str | None = None) -> FakeServices:
        """A bag whose ``azure`` service is drctl's ``AzureClients`` for what ``environ`` names (ARM endpoint,
        authority, service principal, CA bundle) and whose ``network`` service is the ``NetworkConfig`` it names:
        the sandbox's ``env()`` points both at the sandbox."""
        services = cls()
        services.register("azure", lambda: azure_clients(environ, subscription=subscription))
        network = NetworkConfig.from_environ(environ)
        services.register("network", lambda: network)
        return services


def azure_clients(environ: Mapping[str, str], *, subscription: str | None = None) -> AzureClients:
    """drctl's Azure clients configured from ``environ`` alone (nothing is read from ``os.environ``)."""
    from drctl.azure.clients import AzureClients
    from drctl.azure.config import load_config

    return AzureClients(load_config(playbook_subscription=subscription, environ=environ))


class FakeSecrets(SecretStore):
    """The run's secret store (``playbook.secrets.SecretStore``), with a constructor from a playbook and ``leaks``."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        super().__init__(values or {})

    @classmethod
    def for_playbook(cls, playbook: Playbook, environ: Mapping[str, str]) -> FakeSecrets:
        """The values of every ``${NAME}`` the playbook uses that ``environ`` has."""
        from drctl.playbook.refs import env_names

        names = env_names(playbook.model_dump(mode="json", by_alias=True))
        return cls({name: environ[name] for name in names if name in environ})

    def leaks(self, text: str) -> list[str]:
        """The names of the secrets ``text`` shows (for asserting that none reached a fact or a line)."""
        if self._pattern is None:
            return []
        return sorted({self._names[m.group(0)] for m in self._pattern.finditer(text)})


@dataclass(frozen=True)
class Answer:
    """A person's answer to the next approval request (the prompt, ``drctl approve``, ``--yes``...)."""

    approved: bool = True
    reason: str | None = None
    who: Identity = APPROVER
    via: str = "file"
    #: answers only a request of this topic ("gate", "data-loss"); any when None
    topic: str | None = None


@dataclass(frozen=True)
class ApprovalRequest:
    prompt: str
    require_reason: bool
    approvers: tuple[str, ...]
    topic: str


class FakeStepContext:
    """``actions.runtime.StepContext`` for one attempt of one step, with what the action did kept in lists."""

    def __init__(
        self,
        scope: Scope,
        *,
        mode: Mode = Mode.FAILOVER,
        step_id: str = "step",
        run_id: str = "run-test",
        attempt: int = 1,
        repetition: int | None = None,
        services: FakeServices | None = None,
        secrets: FakeSecrets | None = None,
        clock: FakeClock | None = None,
        t0: datetime | None = None,
        timeout: float = 600.0,
        facts: Iterable[tuple[str, Mapping[str, Any]]] = (),
        answers: Iterable[Answer] = (),
        prior: Approval | None = None,
        operator: Identity = Identity("operator", "console"),
        run_facts: Mapping[str, str] | None = None,
        run_facts_seeded: Iterable[tuple[str, Mapping[str, Any]]] = (),
    ) -> None:
        self._scope = scope
        self._mode = mode
        self._step_id = step_id
        self._run_id = run_id
        self._attempt = attempt
        self._repetition = repetition
        self._services = services or FakeServices({"network": NetworkConfig})
        self._secrets = secrets or FakeSecrets()
        self.clock = clock or FakeClock()
        self._t0 = t0 or self.clock.now()
        #: on the clock's monotonic scale, as the engine's step deadline
        self._timeout = timeout
        self.deadline = self.clock.monotonic() + timeout
        self._lock = threading.Lock()
        #: facts journaled before this attempt (an earlier attempt, a crashed process), oldest first
        self.seeded: list[tuple[str, dict[str, Any]]] = [(k, dict(d)) for k, d in facts]
        #: facts other steps of the run journaled (each with its ``step``), what ``run_journaled`` adds to this step's
        self.run_seeded: list[tuple[str, dict[str, Any]]] = [(k, dict(d)) for k, d in run_facts_seeded]
        #: facts this attempt recorded, in order
        self.facts: list[tuple[str, dict[str, Any]]] = []
        #: progress lines, in order
        self.lines: list[str] = []
        #: every sleep the action asked for, in seconds
        self.sleeps: list[float] = []
        self.answers: list[Answer] = list(answers)
        self.requests: list[ApprovalRequest] = []
        self._prior = prior
        self.operator = operator
        self._run_facts = dict(run_facts or {})
        self._reason: type[Cancelled] | None = None
        self._interrupting = False

    # ---- what the step is -------------------------------------------------------------------------------
    @property
    def run_id(self) -> str:
        return self._run_id

    @property
    def step_id(self) -> str:
        return self._step_id

    @property
    def attempt(self) -> int:
        return self._attempt

    @property
    def repetition(self) -> int | None:
        return self._repetition

    @property
    def mode(self) -> Mode:
        return self._mode

    @property
    def scope(self) -> Scope:
        return self._scope

    @property
    def playbook(self) -> Playbook:
        return self._scope.playbook

    @property
    def t0(self) -> datetime:
        return self._t0

    @property
    def rto_deadline(self) -> datetime:
        return self._t0 + self._scope.playbook.objectives.rto

    @property
    def secrets(self) -> FakeSecrets:
        return self._secrets

    @property
    def services(self) -> FakeServices:
        return self._services

    @property
    def cancelled(self) -> bool:
        return self._reason is not None or self.clock.monotonic() >= self.deadline

    def now(self) -> datetime:
        return self.clock.now()

    def run_facts(self) -> Mapping[str, str]:
        from drctl.durations import format_duration

        objectives = self.playbook.objectives
        elapsed = self.now() - self._t0
        facts = {
            "playbook": self.playbook.name,
            "mode": self._mode.value,
            "run_id": self._run_id,
            "operator": self.operator.os_user,
            "status": "running",
            "elapsed": format_duration(elapsed),
            "rto": format_duration(objectives.rto),
            "rto_remaining": format_duration(objectives.rto - elapsed),
            "projected": f"T+{format_duration(elapsed)}",
            "rpo": format_duration(objectives.rpo),
            "rpo_exposure": "not measured yet",
            "steps_done": "0/1",
        }
        # the step's own direction, as the engine gives it
        return {**facts, **self._run_facts, "source": self._scope.source_name, "target": self._scope.target_name}

    # ---- the journal ------------------------------------------------------------------------------------
    def record(self, kind: str, data: Mapping[str, Any]) -> None:
        # the journal writes facts as JSON (unknown types as their str()); a fact that is not even that fails here
        json.dumps(dict(data), default=str)
        with self._lock:
            self.facts.append((kind, dict(data)))

    def journaled(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(data) for k, data in [*self.seeded, *self.facts] if k == kind]

    def run_journaled(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            own = [{**data, "step": self._step_id} for k, data in [*self.seeded, *self.facts] if k == kind]
            return [{**data} for k, data in self.run_seeded if k == kind] + own

    def recorded(self, kind: str) -> list[dict[str, Any]]:
        """The facts of ``kind`` this attempt recorded (seeded ones left out), oldest first."""
        with self._lock:
            return [dict(data) for k, data in self.facts if k == kind]

    def kinds(self) -> list[str]:
        """The kinds this attempt recorded, in order."""
        with self._lock:
            return [k for k, _ in self.facts]

    def progress(self, text: str) -> None:
        with self._lock:
            self.lines.append(text)

    def next_attempt(self, **changes: Any) -> FakeStepContext:
        """The same step after a crash or a failed attempt: what was journaled so far read back from JSON, the next
        attempt number, the same clock, services and secrets; approvals granted stand (``prior_approval``)."""
        journal = json.loads(json.dumps([*self.seeded, *self.facts], default=str))
        settings: dict[str, Any] = {
            "mode": self._mode,
            "step_id": self._step_id,
            "run_id": self._run_id,
            "attempt": self._attempt + 1,
            "repetition": self._repetition,
            "services": self._services,
            "secrets": self._secrets,
            "clock": self.clock,
            "t0": self._t0,
            "timeout": self._timeout,
            "facts": [(k, d) for k, d in journal],
            "prior": self._prior,
            "operator": self.operator,
            "run_facts": self._run_facts,
            # the other steps' facts are the same run's: a retry of this step still reads them
            "run_facts_seeded": [(k, d) for k, d in json.loads(json.dumps(self.run_seeded, default=str))],
        }
        return FakeStepContext(self._scope, **{**settings, **changes})

    # ---- stopping ---------------------------------------------------------------------------------------
    def cancel(self, reason: type[Cancelled] = TimedOut) -> None:
        """What the runner does at a timeout or a journal failure: the next check or sleep raises ``reason``."""
        self._reason = reason

    def interrupt(self) -> None:
        """A pausing run: interruptible sleeps raise ``Interrupted``."""
        self._interrupting = True

    def check_cancelled(self) -> None:
        if self._reason is not None:
            raise self._reason()
        if self.clock.monotonic() >= self.deadline:
            raise TimedOut()

    def sleep(self, seconds: float, *, interruptible: bool = False) -> None:
        self.check_cancelled()
        if interruptible and self._interrupting:
            raise Interrupted()
        with self._lock:
            self.sleeps.append(seconds)
        remaining = self.deadline - self.clock.monotonic()
        self.clock.advance(min(max(0.0, seconds), remaining))
        if seconds >= remaining:
            raise TimedOut()
        self.check_cancelled()

    # ---- approvals --------------------------------------------------------------------------------------
    def request_approval(
        self, prompt: str, *, require_reason: bool = False, approvers: Sequence[str] = (), topic: str = "gate"
    ) -> Approval:
        self.requests.append(ApprovalRequest(prompt, require_reason, tuple(approvers), topic))
        while self.answers:
            answer = self.answers.pop(0)
            if self._refused(answer, approvers=approvers, require_reason=require_reason, topic=topic):
                continue
            approval = Approval(answer.approved, answer.who, self.now(), answer.via, answer.reason)
            if approval.approved:
                self._prior = approval
            return approval
        # nobody (acceptable) answers: the wait lasts until the step's deadline, as in a run
        self.sleep(max(0.0, self.deadline - self.clock.monotonic()))
        raise TimedOut()

    def _refused(self, answer: Answer, *, approvers: Sequence[str], require_reason: bool, topic: str) -> bool:
        """The answers the engine's approval desk would not count (``engine/approvals.refusal``)."""
        if answer.topic is not None and answer.topic != topic:
            return True
        if answer.via == "yes" and topic != "gate":  # --yes never accepts a data loss
            return True
        if tuple(approvers) == (_OTHERS,):
            if answer.via in ("yes", "prompt") or same_person(answer.who, self.operator):
                return True
        elif approvers and not any(matches(answer.who, name) for name in approvers):
            return True
        return require_reason and answer.approved and not (answer.reason or "").strip()

    def prior_approval(self) -> Approval | None:
        return self._prior


if TYPE_CHECKING:

    def _is_a_step_context(ctx: FakeStepContext) -> StepContext:
        # mypy proves here that the fake implements the whole protocol an action is given
        return ctx
