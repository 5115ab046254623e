"""A run's state, rebuilt from its events: what resume, ``status``, ``runs`` and the live view all read.

``RunView.apply`` folds one event in; ``RunView.of(events)`` folds a whole journal. The view is an accumulator
(mutable on purpose: the live view feeds it one event at a time); everything it holds comes from events, so two
readers of one journal can never disagree.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from drctl.actions.fence.facts import FENCE_ITEM
from drctl.actions.runtime import Approval
from drctl.engine import events as ev


class StepState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"  # running, and waiting for an approval
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


class RunState(StrEnum):
    RUNNING = "running"  # no ending in the journal: running now, or stopped without a word (a crash)
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABORTED = "aborted"
    INTERRUPTED = "interrupted"  # a second Ctrl-C


FINISHED_STEP = {StepState.SUCCEEDED, StepState.SKIPPED}


@dataclass(frozen=True)
class OpenRisk:
    """An item of the old primary that stayed unfenced: it may take writes the new primary never sees."""

    kind: str
    name: str
    region: str
    #: why it could not be fenced, as its latest outcome says
    detail: str
    #: the step that fences it (its journal keys and earlier attempts are that step's)
    step: str
    at: datetime

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name} ({self.region})"


def restored_moment(fact: ev.Fact) -> datetime:
    """When a ``service.restored`` fact says clients were served (its ``at``, else when it was journaled)."""
    at = fact.data.get("at")
    return datetime.fromisoformat(at) if isinstance(at, str) else fact.at


def clients_served(facts: Iterable[ev.Fact], steps: Iterable[tuple[str, str]]) -> ev.Fact | None:
    """The ``service.restored`` fact that says when clients were served by the target over ``steps`` ((key,
    action) pairs: the run's, or a drill's failover phase), or None while they are not.

    Each traffic switch among them (``ActionSpec.moves_traffic``: DNS, Front Door, Traffic Manager) moves the
    clients of its own entry point, so clients are served when the *last* switch says so, and not before every
    switch has: the portal's DNS swap does not serve the API's clients still sent to the old region by Front
    Door. With no switch among them (an action of no family), the first fact recorded. The one rule the live
    clock, the verdict, ``status`` and the reports read.
    """
    from drctl.actions import registry
    from drctl.actions.runtime import FACT_SERVICE_RESTORED

    pairs = list(steps)
    keys = {key for key, _ in pairs}
    switches = {key for key, uses in pairs if registry.moves_traffic(uses)}
    first: dict[str, ev.Fact] = {}
    for fact in facts:
        if fact.kind == FACT_SERVICE_RESTORED and fact.step in keys:
            first.setdefault(fact.step, fact)
    if not switches:
        return next(iter(first.values()), None)
    if not switches <= first.keys():
        return None
    return max((first[key] for key in switches), key=restored_moment)


def open_risks(facts: Iterable[ev.Fact]) -> list[OpenRisk]:
    """What stays unfenced, from the journal alone: every item's latest ``fence.item`` outcome wins, so an item a
    later ``drctl fence`` or resume fenced is closed. The one place this is computed (status, runs, the run's last
    words and every report read it)."""
    latest: dict[tuple[str, str, str], ev.Fact] = {}
    for fact in facts:
        if fact.kind == FENCE_ITEM:
            d = fact.data
            latest[(str(d.get("kind")), str(d.get("name")), str(d.get("region")))] = fact
    return [
        OpenRisk(kind, name, region, str(f.data.get("detail") or ""), f.step, f.at)
        for (kind, name, region), f in latest.items()
        if f.data.get("fenced") is not True
    ]


@dataclass
class StepView:
    info: ev.StepInfo
    state: StepState = StepState.PENDING
    attempt: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration: float | None = None
    summary: str = ""
    error: str = ""
    #: completed because resume's done-check said so
    by_check: bool = False
    #: failed with on_failure: continue; the run went on
    advisory: bool = False
    timed_out: bool = False
    repetitions: int = 0
    last_repetition_at: datetime | None = None
    last_progress: str = ""
    #: a mutating step interrupted by a pause: an SDK wait inside its operation may have been cut short after
    #: Azure accepted the change, so it is checked (done-check) before it runs again
    check_before_rerun: bool = False

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def finished(self) -> bool:
        """Nothing left to do for it: succeeded, skipped, or failed without holding the run up."""
        return self.state in FINISHED_STEP or (self.state is StepState.FAILED and self.advisory)

    @property
    def interrupted_mid_way(self) -> bool:
        """Started and never finished: what resume must check before running it again."""
        return self.state in (StepState.RUNNING, StepState.WAITING)


@dataclass
class RunView:
    started: ev.RunStarted | None = None
    steps: dict[str, StepView] = field(default_factory=dict)
    state: RunState = RunState.RUNNING
    finished: ev.RunFinished | None = None
    paused: ev.RunPaused | None = None
    resumed: list[ev.RunResumed] = field(default_factory=list)
    approvals: list[ev.Event] = field(default_factory=list)
    #: request id -> the request, while unanswered
    pending_approvals: dict[str, ev.ApprovalRequested] = field(default_factory=dict)
    #: step -> the approval it was granted (a gate's done-check)
    granted: dict[str, Approval] = field(default_factory=dict)
    requests_per_step: dict[str, int] = field(default_factory=dict)
    #: step -> the unanswered failure question
    pending_decisions: dict[str, ev.DecisionRequested] = field(default_factory=dict)
    decisions: list[ev.DecisionMade] = field(default_factory=list)
    facts: list[ev.Fact] = field(default_factory=list)
    objective_events: list[ev.Event] = field(default_factory=list)
    rpo_exposure: float | None = None
    last_at: datetime | None = None
    events: int = 0

    @classmethod
    def of(cls, events: Iterable[ev.Event]) -> RunView:
        view = cls()
        for event in events:
            view.apply(event)
        return view

    @property
    def run_id(self) -> str:
        return self.started.run_id if self.started else "?"

    def apply(self, event: ev.Event) -> None:  # noqa: PLR0912, PLR0915 - one flat dispatch on the event type
        self.events += 1
        self.last_at = event.at
        step = self.steps.get(getattr(event, "step", None) or "")
        match event:
            case ev.RunStarted():
                self.started = event
                self.steps = {info.id: StepView(info) for info in event.steps}
            case ev.RunResumed():
                self.resumed.append(event)
                if event.steps:  # a forced resume may run a changed playbook: its steps are the ones that count
                    self.steps = {i.id: self.steps.get(i.id, StepView(i)) for i in event.steps}
                    for info in event.steps:
                        self.steps[info.id].info = info
                self.state, self.paused, self.finished = RunState.RUNNING, None, None
            case ev.RunPaused():
                self.state, self.paused = RunState.PAUSED, event
            case ev.RunInterrupted():
                self.state = RunState.INTERRUPTED
            case ev.RunFinished():
                self.finished = event
                self.state = RunState(event.ending.value)
            case ev.StepStarted() if step:
                step.started_at, step.finished_at, step.error = event.at, None, ""
                step.state, step.attempt = StepState.RUNNING, event.attempt
                step.check_before_rerun = False
            # attempts of a background step's repetitions leave the (finished) step as it is
            case ev.AttemptStarted() if step and step.interrupted_mid_way:
                step.state, step.attempt = StepState.RUNNING, event.attempt
            case ev.StepSucceeded() if step:
                step.state, step.finished_at, step.duration = StepState.SUCCEEDED, event.at, event.duration_seconds
                step.summary, step.attempt, step.error = event.summary, event.attempt, ""
            case ev.StepFailed() if step:
                step.state, step.finished_at, step.duration = StepState.FAILED, event.at, event.duration_seconds
                step.error, step.attempt, step.timed_out = event.error, event.attempt, event.timed_out
                step.advisory = event.on_failure == "continue"
            case ev.AttemptFailed() if step and step.interrupted_mid_way:
                step.error = event.error
            case ev.StepInterrupted() if step:
                step.state = StepState.PENDING
                step.check_before_rerun = step.info.mutating
            case ev.StepChecked() if step and event.done:
                step.state, step.by_check, step.finished_at = StepState.SUCCEEDED, True, event.at
                step.summary = "already done (done-check on resume)"
            case ev.StepSkipped() if step:
                step.state, step.summary, step.finished_at = StepState.SKIPPED, event.reason, event.at
            case ev.StepProgress() if step:
                step.last_progress = event.text
            case ev.RepeatFinished() if step:
                step.repetitions, step.last_repetition_at = event.repetition, event.at
            case ev.Fact():
                self._fact(event)
            case ev.ApprovalRequested():
                self.approvals.append(event)
                self.pending_approvals[event.request_id] = event
                self.requests_per_step[event.step] = self.requests_per_step.get(event.step, 0) + 1
                if step:
                    step.state = StepState.WAITING
            case ev.ApprovalGranted() | ev.ApprovalRejected() | ev.ApprovalTimedOut():
                self._answered(event, step)
            case ev.ApprovalRefused():
                self.approvals.append(event)
            case ev.DecisionRequested() if event.step:
                self.pending_decisions[event.step] = event
            case ev.DecisionMade():
                self.decisions.append(event)
                if event.choice is ev.Choice.CONTINUE:
                    self.state, self.paused = RunState.RUNNING, None
                if event.step:
                    self.pending_decisions.pop(event.step, None)
            case ev.ObjectiveAtRisk() | ev.RtoBreached() | ev.RpoBreached():
                self.objective_events.append(event)

    @property
    def open_risks(self) -> list[OpenRisk]:
        return open_risks(self.facts)

    def first_restored(self, among: Collection[str]) -> datetime | None:
        """When clients were served by the target over the steps ``among`` (a drill's failover phase): see
        ``clients_served``."""
        fact = clients_served(self.facts, [(k, v.info.uses) for k, v in self.steps.items() if k in among])
        return restored_moment(fact) if fact is not None else None

    @property
    def restored_at(self) -> datetime | None:
        """When clients were served by the target over the steps the RTO is about (a drill's failover phase, or
        the whole run): see ``clients_served``."""
        drill = self.started is not None and self.started.drill is not None
        among = [(k, v.info.uses) for k, v in self.steps.items() if not drill or v.info.phase is ev.Phase.FAILOVER]
        fact = clients_served(self.facts, among)
        return restored_moment(fact) if fact is not None else None

    def _fact(self, event: ev.Fact) -> None:
        from drctl.actions.runtime import FACT_RPO_EXPOSURE

        self.facts.append(event)
        seconds = event.data.get("seconds")
        if event.kind == FACT_RPO_EXPOSURE and isinstance(seconds, int | float):
            self.rpo_exposure = max(self.rpo_exposure or 0.0, float(seconds))

    def _answered(
        self, event: ev.ApprovalGranted | ev.ApprovalRejected | ev.ApprovalTimedOut, step: StepView | None
    ) -> None:
        self.approvals.append(event)
        self.pending_approvals.pop(event.request_id, None)
        if step and step.state is StepState.WAITING:
            step.state = StepState.RUNNING
        if isinstance(event, ev.ApprovalGranted):
            self.granted[event.step] = Approval(
                approved=True,
                approver=event.approver,
                at=event.at,
                via="journal",
                reason=event.reason,
            )
