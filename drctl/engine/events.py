"""Run events: the one contract shared by the journal, the live view, ``status`` and (later) reports.

Every event is a frozen dataclass with a ``type`` (its journal name) and the time it happened on the run's clock.
The journal stores each as one JSON line (see ``journal.py`` and docs/journal.md for the envelope and the hash
chain); ``codec.to_data``/``codec.from_data`` are the only (de)serialisers, so a reader can never drift from a
writer.
A change that removes or renames a field bumps ``SCHEMA_VERSION``; adding an optional field does not.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

# a journaled shape like the others here, defined below the actions that name people too (gate.approval)
from drctl.core.identity import Identity as Identity

SCHEMA_VERSION = 1


class StepOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RunEnding(StrEnum):
    """How a run ended (``run.finished``). A paused run has not ended: it is resumable."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABORTED = "aborted"


class PauseReason(StrEnum):
    INTERRUPT = "interrupt"  # Ctrl-C
    TERMINATE = "terminate"  # SIGTERM
    HANGUP = "hangup"  # SIGHUP: the terminal closed or the SSH session dropped; pauses as SIGTERM does
    DECISION = "decision"  # a step with on_failure: pause failed and nobody could be asked


class Question(StrEnum):
    FAILURE = "failure"  # retry, skip or abort a failed step
    INTERRUPT = "interrupt"  # continue or abort after Ctrl-C
    UNCHECKED = "unchecked"  # re-run a mutating step that has no done-check (resume)


class Phase(StrEnum):
    """A drill's phases, in order. Other runs have no phases (``StepInfo.phase`` is None)."""

    FAILOVER = "failover"  # the drill's steps, forward (source -> target): the RTO is measured here
    HOLD = "hold"  # the verification hold on the target, probing its health
    FAILBACK = "failback"  # the same steps reversed (target -> source), verifying the source again


class Choice(StrEnum):
    RETRY = "retry"
    SKIP = "skip"
    ABORT = "abort"
    CONTINUE = "continue"
    RERUN = "rerun"


@dataclass(frozen=True)
class StepInfo:
    """A step as this run sees it (``run.started``), so the journal alone describes the run."""

    id: str
    uses: str
    needs: tuple[str, ...]
    budget_seconds: float
    timeout_seconds: float
    mutating: bool
    on_failure: str
    attempts: int
    name: str | None = None
    background_every_seconds: float | None = None
    #: a drill's phase; ``id`` is then the step's key in the run, ``<phase>:<playbook step id>`` (``hold`` for
    #: the hold), since the same playbook step runs in both directions. None outside drills.
    phase: Phase | None = None


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a playbook's lock."""

    run_id: str
    pid: int
    host: str
    since: str
    playbook: str
    #: the OS user running the holder (machine-wide locks are shared by every user of the machine)
    user: str | None = None
    #: the application the lock is for: ``<playbook name>@<subscription>``
    application: str | None = None
    #: the holder's state directory (absolute), where ``drctl status`` finds its run
    state_dir: str | None = None


@dataclass(frozen=True)
class PhaseInfo:
    """One phase of a drill and the direction it runs in."""

    name: Phase
    source: str
    target: str


@dataclass(frozen=True)
class WindowCheck:
    """The change-window rule as checked when a drill started (docs/drills.md)."""

    #: the playbook declares change windows (without any, drills may run at any time)
    declared: bool
    #: the drill started inside a window
    inside: bool
    #: the window open at the start, described (local time and zone), or None
    window: str | None = None
    #: the operator's reason for starting outside every window (``--outside-window --reason``)
    override_reason: str | None = None
    #: when the next window opens, described; None when the drill started inside one or none is declared
    next_opening: str | None = None
    #: a rehearsal against the sandbox: change windows protect the real estate, so the rule did not apply
    sandbox: bool = False


@dataclass(frozen=True)
class DrillInfo:
    """What makes a run a drill: its phases, the hold, and the change-window check."""

    hold_seconds: float
    probe_interval_seconds: float
    #: the target's health URL the hold probes (None: the target declares none, the hold only waits)
    probe_url: str | None
    phases: tuple[PhaseInfo, ...]
    window: WindowCheck


@dataclass(frozen=True)
class Environment:
    """Where a run runs: Azure (an ARM endpoint, tenant, subscription) or a sandbox seeded from an estate.

    Resume refuses another environment; a run against a sandbox is a rehearsal, never drill evidence.
    """

    #: ``azure``, ``sandbox`` or ``none`` (a playbook with no Azure step)
    kind: str
    arm_endpoint: str | None = None
    tenant: str | None = None
    subscription: str | None = None
    #: a sandbox: the sha256 of the estate it was seeded with (the same estate on resume), else None
    estate_sha256: str | None = None
    #: a sandbox: it was started by the run itself (``--sandbox``), not by ``drctl sandbox up``
    embedded: bool = False
    #: a sandbox: the ``--sandbox-fault`` rules it was started with
    faults: tuple[str, ...] = ()
    #: sha256 of the ARM endpoint and subscription: what resume compares, since a subscription taken from a
    #: ``${VAR}`` is redacted in the journal
    target_sha256: str | None = None

    @property
    def rehearsal(self) -> bool:
        return self.kind == "sandbox"


def target_digest(arm_endpoint: str, subscription: str) -> str:
    """``Environment.target_sha256``: one ARM endpoint and subscription, without writing the subscription down."""
    import hashlib

    return hashlib.sha256(f"{arm_endpoint.rstrip('/').lower()}\n{subscription.strip().lower()}".encode()).hexdigest()


@dataclass(frozen=True)
class ObjectiveVerdict:
    """One objective against what the run achieved (``engine/verdict.py`` says how each is computed)."""

    #: RTO, RPO or MTTR
    name: str
    objective_seconds: float
    #: the figure (RTO: T0 until clients are served by the target); None when there is none
    achieved_seconds: float | None
    #: None: not known yet (the run has not ended), or not measured and not required (an RPO without failover)
    met: bool | None
    #: ``met``, ``not met``, ``unmeasured``, ``pending``
    status: str
    #: how the figure was obtained, in words
    basis: str
    #: RTO: when the new records answered at the authoritative servers (seconds since T0), if known
    authoritative_seconds: float | None = None
    #: RTO: the previous TTL clients may keep the old answer for, if known
    client_lag_seconds: float | None = None
    #: RPO: ``measured``, ``at most`` (an upper bound), ``none by construction`` (planned), ``unmeasured``
    evidence: str | None = None
    #: RTO: how the traffic switch was seen to serve clients, in words, the same in every view: ``DNS verified at
    #: the authoritative servers at T+6s + previous TTL 5m``, ``Front Door routing seen at its host name...``
    switch: str | None = None


@dataclass(frozen=True)
class RunVerdict:
    """The run's one verdict, computed once from its journal; every view shows this, none recomputes it."""

    #: ``passed``, ``breached`` (steps succeeded, an objective was not met), ``failed``, ``aborted``,
    #: ``not finished``
    result: str
    #: PASSED, OBJECTIVE BREACHED, FAILED, ABORTED, NOT FINISHED
    headline: str
    #: the run's exit code (docs/exit-codes.md), or None before the run ends
    exit_code: int | None
    #: why it did not pass (empty when it did)
    reasons: tuple[str, ...]
    objectives: tuple[ObjectiveVerdict, ...]
    #: the run drove a sandbox: a rehearsal, not evidence
    rehearsal: bool = False


@dataclass(frozen=True, kw_only=True)
class Event:
    type: ClassVar[str]
    at: datetime


_TYPES: dict[str, type[Event]] = {}


def _event(name: str) -> typing.Callable[[type[Event]], type[Event]]:
    def register(cls: type[Event]) -> type[Event]:
        cls.type = name
        _TYPES[name] = cls
        return cls

    return register


# --- the run -------------------------------------------------------------------------------------------------


@_event("run.started")
@dataclass(frozen=True, kw_only=True)
class RunStarted(Event):
    run_id: str
    playbook_name: str
    playbook_path: str
    playbook_sha256: str
    mode: str
    source: str
    target: str
    operator: Identity
    pid: int
    drctl_version: str
    t0: datetime
    #: T0 came from --declared-at (otherwise it is the run start)
    declared: bool
    rto_seconds: float
    rpo_seconds: float
    options: dict[str, Any]
    steps: tuple[StepInfo, ...]
    #: steps of the playbook that this mode leaves out (``when``)
    excluded_steps: tuple[str, ...]
    critical_path: tuple[str, ...]
    critical_path_seconds: float
    #: names (never values) of the environment variables resolved and redacted
    secrets: tuple[str, ...] = ()
    #: the MTTR target, when the playbook sets one
    mttr_seconds: float | None = None
    #: a drill's phases, hold and change-window check; None for failover and failback runs
    drill: DrillInfo | None = None
    #: where the run runs (None in journals written before drctl recorded it)
    environment: Environment | None = None


@_event("run.resumed")
@dataclass(frozen=True, kw_only=True)
class RunResumed(Event):
    operator: Identity
    pid: int
    drctl_version: str
    playbook_sha256: str
    #: the playbook changed since the run began and the operator resumed anyway (``--force --reason``)
    forced: bool = False
    reason: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    #: the steps as the resumed run sees them (they differ from run.started only after ``--force``)
    steps: tuple[StepInfo, ...] = ()
    #: where the resumed run runs (the same environment as ``run.started``'s, or resume refuses)
    environment: Environment | None = None


@_event("journal.repaired")
@dataclass(frozen=True, kw_only=True)
class JournalRepaired(Event):
    """A torn last line (a crash mid-write) was cut off; its bytes were kept aside in ``saved_to``."""

    line: int
    dropped_bytes: int
    saved_to: str


@_event("lock.taken_over")
@dataclass(frozen=True, kw_only=True)
class LockTakenOver(Event):
    lock: str
    previous: Holder


@_event("run.paused")
@dataclass(frozen=True, kw_only=True)
class RunPaused(Event):
    reason: PauseReason
    step: str | None = None
    #: what the operator can do next, as a command line
    next: str = ""


@_event("run.interrupted")
@dataclass(frozen=True, kw_only=True)
class RunInterrupted(Event):
    """A second Ctrl-C forced the process down; written best-effort."""

    in_flight: tuple[str, ...]


@_event("run.finished")
@dataclass(frozen=True, kw_only=True)
class RunFinished(Event):
    ending: RunEnding
    exit_code: int
    failed_steps: tuple[str, ...] = ()
    #: steps that failed with ``on_failure: continue``; the run went on without them
    advisory_failures: tuple[str, ...] = ()
    skipped_steps: tuple[str, ...] = ()
    rto_achieved_seconds: float | None = None
    rpo_exposure_seconds: float | None = None
    breached: tuple[str, ...] = ()
    #: an action recorded ``service.restored``: ``rto_achieved_seconds`` measures a real restoration
    service_restored: bool = False
    #: the run's verdict, computed from the journal (``engine/verdict.py``); None in older journals
    verdict: RunVerdict | None = None


# --- steps ---------------------------------------------------------------------------------------------------


@_event("step.started")
@dataclass(frozen=True, kw_only=True)
class StepStarted(Event):
    step: str
    attempt: int


@_event("attempt.started")
@dataclass(frozen=True, kw_only=True)
class AttemptStarted(Event):
    step: str
    attempt: int


@_event("attempt.failed")
@dataclass(frozen=True, kw_only=True)
class AttemptFailed(Event):
    """An attempt failed with a transient error and another follows after ``retry_in_seconds``."""

    step: str
    attempt: int
    error: str
    error_type: str
    retry_in_seconds: float


@_event("step.succeeded")
@dataclass(frozen=True, kw_only=True)
class StepSucceeded(Event):
    step: str
    attempt: int
    summary: str
    changed: bool
    duration_seconds: float
    facts: dict[str, Any] = field(default_factory=dict)


@_event("step.failed")
@dataclass(frozen=True, kw_only=True)
class StepFailed(Event):
    step: str
    attempt: int
    error: str
    error_type: str
    duration_seconds: float
    on_failure: str
    timed_out: bool = False
    #: the action did not return after its timeout; its thread was left behind
    abandoned: bool = False


@_event("step.interrupted")
@dataclass(frozen=True, kw_only=True)
class StepInterrupted(Event):
    """A wait with no effect was stopped by a pause; the step is pending again."""

    step: str
    attempt: int


@_event("step.checked")
@dataclass(frozen=True, kw_only=True)
class StepChecked(Event):
    """Resume asked the done-check of a step that had started but not finished. ``done``: completed by check."""

    step: str
    attempt: int
    done: bool


@_event("step.skipped")
@dataclass(frozen=True, kw_only=True)
class StepSkipped(Event):
    step: str
    reason: str
    by: Identity


@_event("step.progress")
@dataclass(frozen=True, kw_only=True)
class StepProgress(Event):
    step: str
    text: str


@_event("fact")
@dataclass(frozen=True, kw_only=True)
class Fact(Event):
    step: str
    kind: str
    data: dict[str, Any]


@_event("repeat.started")
@dataclass(frozen=True, kw_only=True)
class RepeatStarted(Event):
    step: str
    repetition: int


@_event("repeat.finished")
@dataclass(frozen=True, kw_only=True)
class RepeatFinished(Event):
    step: str
    repetition: int
    outcome: StepOutcome
    summary: str
    duration_seconds: float


# --- people --------------------------------------------------------------------------------------------------


@_event("approval.requested")
@dataclass(frozen=True, kw_only=True)
class ApprovalRequested(Event):
    step: str
    request_id: str
    prompt: str
    require_reason: bool
    approvers: tuple[str, ...]
    deadline: datetime


@_event("approval.granted")
@dataclass(frozen=True, kw_only=True)
class ApprovalGranted(Event):
    step: str
    request_id: str
    approver: Identity
    via: str
    reason: str | None = None


@_event("approval.rejected")
@dataclass(frozen=True, kw_only=True)
class ApprovalRejected(Event):
    step: str
    request_id: str
    approver: Identity
    via: str
    reason: str | None = None


@_event("approval.refused")
@dataclass(frozen=True, kw_only=True)
class ApprovalRefused(Event):
    """An answer that could not count (not a named approver, or no reason where one is required)."""

    step: str
    request_id: str
    approver: Identity
    why: str


@_event("approval.timed_out")
@dataclass(frozen=True, kw_only=True)
class ApprovalTimedOut(Event):
    step: str
    request_id: str


@_event("decision.requested")
@dataclass(frozen=True, kw_only=True)
class DecisionRequested(Event):
    question: Question
    step: str | None = None
    error: str | None = None


@_event("decision.made")
@dataclass(frozen=True, kw_only=True)
class DecisionMade(Event):
    question: Question
    choice: Choice
    by: Identity
    step: str | None = None
    reason: str | None = None


# --- objectives ----------------------------------------------------------------------------------------------


@_event("objective.at_risk")
@dataclass(frozen=True, kw_only=True)
class ObjectiveAtRisk(Event):
    """The projected finish (now + the remaining critical path of budgets) breaks the RTO. Once per run."""

    projected_finish: datetime
    projected_seconds: float
    rto_seconds: float


@_event("objective.rto_breached")
@dataclass(frozen=True, kw_only=True)
class RtoBreached(Event):
    elapsed_seconds: float
    rto_seconds: float


@_event("objective.rpo_breached")
@dataclass(frozen=True, kw_only=True)
class RpoBreached(Event):
    step: str
    exposure_seconds: float
    rpo_seconds: float


def event_types() -> dict[str, type[Event]]:
    """Every event type by its journal name."""
    return dict(_TYPES)


def event_class(name: object) -> type[Event] | None:
    return _TYPES.get(name) if isinstance(name, str) else None
