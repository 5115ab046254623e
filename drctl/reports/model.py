"""The report: a run's evidence as frozen data, built from its journal alone (``build.py``), rendered as Markdown,
HTML, JSON and JUnit XML. The JSON form is these dataclasses as they are (``drctl.report/v1``, documented field
by field in docs/reports.md; a test keeps the two in step). Times are aware datetimes; ``*_seconds`` are floats,
offsets (``*_offset_seconds``) are from the run's T0.

Adding a field keeps ``drctl.report/v1``; removing or renaming one makes it ``v2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drctl.engine.events import Environment, Identity, WindowCheck

REPORT_SCHEMA = "drctl.report/v1"


@dataclass(frozen=True)
class Resumption:
    at: datetime
    operator: Identity
    drctl_version: str
    forced: bool
    reason: str | None


@dataclass(frozen=True)
class RunFacts:
    id: str
    playbook: str
    playbook_path: str
    playbook_sha256: str
    mode: str
    source: str
    target: str
    operator: Identity
    pid: int
    drctl_version: str
    t0: datetime
    t0_declared: bool
    started_at: datetime
    ended_at: datetime | None
    #: succeeded, failed, aborted (ended); paused, interrupted, running (not ended)
    state: str
    exit_code: int | None
    #: the run has ended (``run.finished``); a report of a run that has not is interim
    ended: bool
    rto_seconds: float
    rpo_seconds: float
    mttr_seconds: float | None
    #: the steps whose failure failed the run (the journal's ``run.finished.failed_steps``; a drill's failed
    #: hold is one, though the failback ran after it)
    failed_steps: tuple[str, ...]
    resumed: tuple[Resumption, ...]
    options: dict[str, Any]
    secrets: tuple[str, ...]
    #: where the run ran (``run.started.environment``; None in older journals)
    environment: Environment | None = None
    #: the run drove a sandbox: a rehearsal, not evidence (shown as a banner, never counted as a drill)
    rehearsal: bool = False


@dataclass(frozen=True)
class ObjectiveResult:
    #: RTO, RPO or MTTR
    name: str
    objective_seconds: float
    achieved_seconds: float | None
    #: None: not measured (RPO without evidence) or not known yet (a run that has not ended)
    met: bool | None
    #: how the figure was obtained, in words
    basis: str
    #: ``met``, ``not met``, ``unmeasured``, ``pending``
    status: str = ""
    #: RTO: when the new DNS answers were verified at the authoritative servers (seconds since T0)
    authoritative_seconds: float | None = None
    #: RTO: the previous TTL clients may keep the old answer for, added to the authoritative time
    client_lag_seconds: float | None = None
    #: RPO: ``measured``, ``at most``, ``none by construction``, ``unmeasured``
    evidence: str | None = None
    #: RTO: how the traffic switch was seen to serve clients (the verdict's words, ``ObjectiveVerdict.switch``)
    switch: str | None = None


@dataclass(frozen=True)
class HoldResult:
    url: str | None
    planned_seconds: float
    held_seconds: float
    probes: int
    failed: int
    passed: bool


@dataclass(frozen=True)
class Verdict:
    passed: bool
    #: PASSED, FAILED or NOT FINISHED
    headline: str
    #: why it did not pass (empty when it did)
    reasons: tuple[str, ...]
    objectives: tuple[ObjectiveResult, ...]
    hold: HoldResult | None
    #: passed, breached, failed, aborted, not finished (docs/exit-codes.md for the codes)
    result: str = ""
    #: the run's exit code, as the verdict gives it (None before the run ends)
    exit_code: int | None = None
    #: a rehearsal on a sandbox: not evidence
    rehearsal: bool = False


@dataclass(frozen=True)
class PhaseReport:
    #: failover, hold, failback (a drill); the mode's name for other runs
    name: str
    source: str
    target: str
    started_at: datetime | None
    ended_at: datetime | None
    start_offset_seconds: float | None
    end_offset_seconds: float | None
    #: from the phase's start (T0 for the first) until the service was restored in this direction
    time_to_restore_seconds: float | None
    restored_at: datetime | None
    steps: tuple[str, ...]


@dataclass(frozen=True)
class StepError:
    at: datetime
    attempt: int
    error: str
    error_type: str
    #: the step's final failure (otherwise an attempt that was retried, or an execution that was cut short)
    final: bool


@dataclass(frozen=True)
class StepReport:
    #: the step's key in the run (``failback:dns-swap`` in a drill)
    key: str
    #: the playbook's step id
    id: str
    phase: str | None
    name: str | None
    uses: str
    mutating: bool
    on_failure: str
    #: succeeded, failed, skipped, pending, running, waiting
    state: str
    #: failed with on_failure: continue and the run went on (a drill's failed hold is not advisory: it fails it)
    advisory: bool
    #: the attempt number of its last execution
    attempts: int
    max_attempts: int
    critical: bool
    budget_seconds: float
    planned_start_offset_seconds: float
    planned_finish_offset_seconds: float
    actual_seconds: float | None
    started_at: datetime | None
    finished_at: datetime | None
    start_offset_seconds: float | None
    finish_offset_seconds: float | None
    over_budget: bool
    changed: bool | None
    summary: str
    completed_by_check: bool
    timed_out: bool
    skip_reason: str | None
    errors: tuple[StepError, ...]


@dataclass(frozen=True)
class ApprovalRecord:
    step: str
    request_id: str
    prompt: str
    requested_at: datetime
    approvers: tuple[str, ...]
    require_reason: bool
    #: granted, rejected, refused, timed_out, pending
    outcome: str
    at: datetime | None
    approver: Identity | None
    via: str | None
    reason: str | None


@dataclass(frozen=True)
class DecisionRecord:
    at: datetime
    question: str
    choice: str
    step: str | None
    by: Identity
    reason: str | None


@dataclass(frozen=True)
class MessageRecord:
    step: str
    at: datetime
    sent: bool
    #: the request went out and no answer came (or drctl died while sending): the channel may have it
    in_doubt: bool
    channel: str | None
    kind: str | None
    audience: str | None
    title: str | None
    message_id: str | None
    error: str | None


@dataclass(frozen=True)
class DnsChange:
    step: str
    at: datetime
    fqdn: str | None
    type: str | None
    previous_values: tuple[str, ...]
    previous_ttl: int | None
    values: tuple[str, ...]
    ttl: int | None
    changed_at: datetime | None
    #: when clients really have moved: the change time plus the previous TTL
    clients_switch_by: datetime | None
    clients_switch_offset_seconds: float | None
    verified_at: datetime | None


@dataclass(frozen=True)
class RpoMeasurement:
    step: str
    at: datetime
    seconds: float | None
    source: str | None
    basis: str | None
    upper_bound: bool | None


@dataclass(frozen=True)
class RpoGate:
    step: str
    at: datetime
    gate_seconds: float | None
    exposure_seconds: float | None
    passed: bool | None
    by: str | None
    approver: str | None
    reason: str | None


@dataclass(frozen=True)
class RpoReport:
    objective_seconds: float
    #: the largest exposure measured (the journal's ``run.finished.rpo_exposure_seconds``), or None
    exposure_seconds: float | None
    measurements: tuple[RpoMeasurement, ...]
    gates: tuple[RpoGate, ...]


@dataclass(frozen=True)
class SqlFailover:
    step: str
    at: datetime
    failover_group: str | None
    mode: str | None
    primary: str | None
    secondary: str | None


@dataclass(frozen=True)
class FenceRecord:
    """One fencing outcome of an item of the region the run left (``fence.item``)."""

    step: str
    at: datetime
    kind: str
    name: str
    region: str
    fenced: bool
    detail: str
    #: "step" (the fence step), "fence" (`drctl fence RUN`) or "resume" (fenced again later)
    via: str | None


@dataclass(frozen=True)
class OpenRisk:
    """An item still unfenced by its latest outcome (``engine.replay.open_risks``): it may take writes."""

    kind: str
    name: str
    region: str
    detail: str
    step: str
    at: datetime


@dataclass(frozen=True)
class ArmCall:
    step: str
    at: datetime
    operation: str | None
    method: str | None
    path: str | None
    status: int | None
    request_id: str | None
    correlation_id: str | None


@dataclass(frozen=True)
class Probe:
    at: datetime
    offset_seconds: float
    n: int | None
    url: str | None
    status: int | None
    ok: bool
    seconds: float | None
    error: str | None


@dataclass(frozen=True)
class ObjectiveEvent:
    #: objective.at_risk, objective.rto_breached, objective.rpo_breached
    type: str
    at: datetime
    detail: str


@dataclass(frozen=True)
class StandbyResource:
    """One resource a standby step changed (its ``standby.prior``) and, when a ``standby.return`` step put it back,
    what that step found and whether the resource read back its prior state (``standby.returned``)."""

    #: the step that returned it, else the step that journaled its prior state
    step: str
    at: datetime
    region: str | None
    kind: str | None
    name: str | None
    #: the state before the run changed it (as journaled, the resource group included)
    prior: dict[str, Any] | None
    #: what the return found before putting it back (None: not returned in this run, or its family cannot say)
    found: dict[str, Any] | None
    #: the state it was returned to; None when no step of this run returned it
    returned: dict[str, Any] | None
    #: it reads its prior state back; None when no step of this run tried
    verified: bool | None
    detail: str | None
    #: the run whose priors it was returned to (this one, or an earlier one for a failback)
    priors_run: str | None


@dataclass(frozen=True)
class StandbyLeft:
    """A ``standby.return`` that found no prior state for its region and left it as it was."""

    step: str
    at: datetime
    region: str | None
    message: str | None


@dataclass(frozen=True)
class BackToStandby:
    resources: tuple[StandbyResource, ...] = ()
    left_as_is: tuple[StandbyLeft, ...] = ()


@dataclass(frozen=True)
class FactRecord:
    step: str
    at: datetime
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True)
class JournalCheck:
    lines: int
    #: the hash chain verifies from the first line to the last
    chain_verified: bool
    verification: str
    #: the sha256 of the last intact line: the chain's head, which names this exact journal
    head_sha256: str
    torn: bool


@dataclass(frozen=True)
class Report:
    schema: str
    #: the drctl that built the report (the run's own is ``run.drctl_version``)
    generated_by: str
    run: RunFacts
    verdict: Verdict
    phases: tuple[PhaseReport, ...]
    steps: tuple[StepReport, ...]
    approvals: tuple[ApprovalRecord, ...]
    decisions: tuple[DecisionRecord, ...]
    messages: tuple[MessageRecord, ...]
    dns: tuple[DnsChange, ...]
    rpo: RpoReport
    sql_failovers: tuple[SqlFailover, ...]
    arm_calls: tuple[ArmCall, ...]
    probes: tuple[Probe, ...]
    objective_events: tuple[ObjectiveEvent, ...]
    change_window: WindowCheck | None
    journal: JournalCheck
    #: every fact the run recorded, as journaled (the sections above read the kinds they know)
    facts: tuple[FactRecord, ...]
    #: every fencing outcome, in journal order (a later ``drctl fence RUN`` appends to them)
    fencing: tuple[FenceRecord, ...] = ()
    #: what stays unfenced: each item's latest outcome, unfenced
    open_risks: tuple[OpenRisk, ...] = ()
    #: what the standby steps changed and what went back to warm standby (``standby.prior``/``standby.returned``)
    back_to_standby: BackToStandby = BackToStandby()

    @property
    def is_drill(self) -> bool:
        return self.run.mode == "drill"

    def step(self, key: str) -> StepReport:
        return next(s for s in self.steps if s.key == key)
