"""What an action sees of a run: the engine's ``StepContext`` (``actions.runtime.StepContext``), the per-run
service bag, and the cancellation token the runner uses to stop a step at a safe point."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from drctl.actions.runtime import Approval, Cancelled, Interrupted, TimedOut
from drctl.actions.runtime import ServiceBag as ServiceBag
from drctl.core.clock import Clock
from drctl.core.waits import WAITS
from drctl.engine import events as ev
from drctl.engine.journal import Recorder
from drctl.playbook.secrets import SecretStore

if TYPE_CHECKING:
    from drctl.actions.base import Scope
    from drctl.engine.approvals import ApprovalDesk
    from drctl.playbook.enums import Mode
    from drctl.playbook.model import Playbook


#: the service holding the run's ``net.config.NetworkConfig`` (where probes, webhooks, SMTP and DNS queries connect)
NETWORK = "network"


class FactBook:
    """The facts each step journaled in this run, earlier attempts and processes (before a crash) included.

    What an action asks before a mutation it may already have made: the intent it recorded, the operation Azure
    accepted, the messages it sent. Filled from the journal on resume and kept current by ``ctx.record``.
    """

    def __init__(self, facts: Iterable[ev.Fact] = ()) -> None:
        self._lock = threading.Lock()
        self._by_step: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        #: every fact in journal order, across steps
        self._order: list[tuple[str, str, dict[str, Any]]] = []
        for fact in facts:
            self.add(fact.step, fact.kind, fact.data)

    def add(self, step: str, kind: str, data: Mapping[str, Any]) -> None:
        with self._lock:
            self._by_step.setdefault(step, []).append((kind, dict(data)))
            self._order.append((step, kind, dict(data)))

    def of(self, step: str, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(data) for k, data in self._by_step.get(step, ()) if k == kind]

    def everywhere(self, kind: str) -> list[dict[str, Any]]:
        """The facts of ``kind`` of every step, in journal order, each with its ``step``."""
        with self._lock:
            return [{**data, "step": step} for step, k, data in self._order if k == kind]


class Token:
    """How the runner stops one step: ``cancel`` (timeout, journal failure) ends any wait and makes
    ``check_cancelled`` raise; ``interrupt`` (a pausing run) ends only interruptible waits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reason: type[Cancelled] | None = None
        self.interrupting = False
        self._waiters: dict[threading.Event, bool] = {}

    def cancel(self, reason: type[Cancelled]) -> None:
        with self._lock:
            if self.reason is None:
                self.reason = reason
            for event in self._waiters:
                event.set()

    def interrupt(self) -> None:
        with self._lock:
            self.interrupting = True
            for event, interruptible in self._waiters.items():
                if interruptible:
                    event.set()

    def wait(self, clock: Clock, seconds: float, *, interruptible: bool) -> None:
        event = threading.Event()
        with self._lock:
            self._raise_if_stopped(interruptible)
            self._waiters[event] = interruptible
        try:
            clock.sleep(seconds, cancel=event)
        finally:
            with self._lock:
                del self._waiters[event]
        with self._lock:
            self._raise_if_stopped(interruptible)

    def _raise_if_stopped(self, interruptible: bool) -> None:
        if self.reason is not None:
            raise self.reason()
        if interruptible and self.interrupting:
            raise Interrupted()


@dataclass(frozen=True, kw_only=True)
class RunScope:
    """What every step of one run shares."""

    run_id: str
    mode: Mode
    scope: Scope
    t0: datetime
    rto_deadline: datetime
    clock: Clock
    recorder: Recorder
    secrets: SecretStore
    services: ServiceBag
    approvals: ApprovalDesk
    #: the runner's reaction to a fact (objective events); called after the fact is journaled
    on_fact: Callable[[str, str, Mapping[str, Any]], None]
    #: a snapshot of the run for messages: elapsed against the RTO, projection, steps done, RPO exposure
    facts: Callable[[], Mapping[str, str]] = dict
    #: facts journaled so far, per step (``ctx.journaled``): how a resumed step finds what it already did
    journaled: FactBook = field(default_factory=FactBook)


class EngineStepContext:
    """``actions.runtime.StepContext`` for one attempt of one step."""

    def __init__(
        self,
        run: RunScope,
        *,
        step_id: str,
        attempt: int,
        token: Token,
        deadline: float,
        repetition: int | None = None,
    ) -> None:
        self._run = run
        self._step_id = step_id
        self._attempt = attempt
        self._repetition = repetition
        self.token = token
        WAITS.bind(token)  # made on the thread that runs the step: SDK sleeps there end with the step
        #: on the run clock's monotonic scale
        self.deadline = deadline

    @property
    def run_id(self) -> str:
        return self._run.run_id

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
        return self._run.mode

    @property
    def scope(self) -> Scope:
        return self._run.scope

    @property
    def t0(self) -> datetime:
        return self._run.t0

    @property
    def rto_deadline(self) -> datetime:
        return self._run.rto_deadline

    @property
    def secrets(self) -> SecretStore:
        return self._run.secrets

    @property
    def services(self) -> ServiceBag:
        return self._run.services

    @property
    def playbook(self) -> Playbook:
        return self._run.scope.playbook

    @property
    def cancelled(self) -> bool:
        return self.token.reason is not None or self._run.clock.monotonic() >= self.deadline

    def now(self) -> datetime:
        return self._run.clock.now()

    def remaining(self) -> float:
        return self.deadline - self._run.clock.monotonic()

    def record(self, kind: str, data: Mapping[str, Any]) -> None:
        self._run.recorder.emit(ev.Fact(at=self.now(), step=self._step_id, kind=kind, data=dict(data)))
        self._run.journaled.add(self._step_id, kind, data)
        self._run.on_fact(self._step_id, kind, data)

    def journaled(self, kind: str) -> list[dict[str, Any]]:
        return self._run.journaled.of(self._step_id, kind)

    def run_journaled(self, kind: str) -> list[dict[str, Any]]:
        return self._run.journaled.everywhere(kind)

    def progress(self, text: str) -> None:
        self._run.recorder.emit(ev.StepProgress(at=self.now(), step=self._step_id, text=text))

    def check_cancelled(self) -> None:
        if self.token.reason is not None:
            raise self.token.reason()
        if self.remaining() <= 0:
            raise TimedOut()

    def sleep(self, seconds: float, *, interruptible: bool = False) -> None:
        self.check_cancelled()
        remaining = self.remaining()
        self.token.wait(self._run.clock, min(seconds, remaining), interruptible=interruptible)
        if seconds >= remaining:
            raise TimedOut()

    def run_facts(self) -> Mapping[str, str]:
        # the step's own direction: a drill's failback steps speak of target -> source
        return {**self._run.facts(), "source": self.scope.source_name, "target": self.scope.target_name}

    def request_approval(
        self, prompt: str, *, require_reason: bool = False, approvers: Sequence[str] = (), topic: str = "gate"
    ) -> Approval:
        return self._run.approvals.request(
            self, prompt=prompt, require_reason=require_reason, approvers=approvers, topic=topic
        )

    def prior_approval(self) -> Approval | None:
        return self._run.approvals.prior(self._step_id)
