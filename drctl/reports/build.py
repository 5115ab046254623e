"""Journal -> report, pure: everything comes from the journal's events (never from the playbook file), so a report
rebuilt a year later from the same journal says the same. ``load_report(path)`` reads and verifies the journal;
``build_report(contents, verdict)`` is the pure part."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from drctl import __version__
from drctl.core.schedule import CycleError, Node, Schedule, build
from drctl.engine import events as ev
from drctl.engine.journal import JournalFile, read_journal, verify_contents
from drctl.engine.journal import Verdict as ChainVerdict
from drctl.engine.replay import RunView, StepView
from drctl.engine.verdict import rehearsal
from drctl.errors import JournalError
from drctl.reports import evidence
from drctl.reports.model import (
    REPORT_SCHEMA,
    ApprovalRecord,
    DecisionRecord,
    FactRecord,
    JournalCheck,
    ObjectiveEvent,
    OpenRisk,
    Report,
    Resumption,
    RpoReport,
    RunFacts,
    StepError,
    StepReport,
)
from drctl.reports.phases import phase_reports
from drctl.reports.verdict import verdict_of


def load_report(journal: Path) -> Report:
    contents = read_journal(journal)
    return build_report(contents, verify_contents(contents))


def build_report(contents: JournalFile, chain: ChainVerdict) -> Report:
    events = contents.events()
    view = RunView.of(events)
    started = view.started
    if started is None:
        raise JournalError(f"{contents.path}: no run.started event; not a drctl journal")
    facts = [e for e in events if isinstance(e, ev.Fact)]
    run = _run_facts(view, started)
    steps = _steps(events, view, started, set(run.failed_steps))
    phases = phase_reports(events, started, steps, facts)
    return Report(
        schema=REPORT_SCHEMA,
        generated_by=__version__,
        run=run,
        verdict=verdict_of(events, facts, drill=started.drill is not None),
        phases=phases,
        steps=steps,
        approvals=_approvals(events),
        decisions=tuple(
            DecisionRecord(e.at, e.question.value, e.choice.value, e.step, e.by, e.reason)
            for e in events
            if isinstance(e, ev.DecisionMade)
        ),
        messages=evidence.messages(facts),
        dns=evidence.dns_changes(facts, started.t0),
        rpo=RpoReport(
            objective_seconds=started.rpo_seconds,
            exposure_seconds=view.rpo_exposure,
            measurements=evidence.rpo_measurements(facts),
            gates=evidence.rpo_gates(facts),
        ),
        sql_failovers=evidence.sql_failovers(facts),
        arm_calls=evidence.arm_calls(facts),
        probes=evidence.probes(facts, started.t0),
        objective_events=tuple(ObjectiveEvent(e.type, e.at, _objective_detail(e)) for e in view.objective_events),
        change_window=started.drill.window if started.drill else None,
        journal=JournalCheck(
            lines=len(contents.lines),
            chain_verified=chain.ok,
            verification=chain.message,
            head_sha256=contents.last_hash,
            torn=contents.torn is not None,
        ),
        facts=tuple(FactRecord(f.step, f.at, f.kind, dict(f.data)) for f in facts),
        fencing=evidence.fencing(facts),
        open_risks=tuple(OpenRisk(r.kind, r.name, r.region, r.detail, r.step, r.at) for r in view.open_risks),
        back_to_standby=evidence.back_to_standby(facts),
    )


def _run_facts(view: RunView, started: ev.RunStarted) -> RunFacts:
    finished = view.finished
    return RunFacts(
        id=started.run_id,
        playbook=started.playbook_name,
        playbook_path=started.playbook_path,
        playbook_sha256=started.playbook_sha256,
        mode=started.mode,
        source=started.source,
        target=started.target,
        operator=started.operator,
        pid=started.pid,
        drctl_version=started.drctl_version,
        t0=started.t0,
        t0_declared=started.declared,
        started_at=started.at,
        ended_at=finished.at if finished else None,
        state=view.state.value,
        exit_code=finished.exit_code if finished else None,
        ended=finished is not None,
        rto_seconds=started.rto_seconds,
        rpo_seconds=started.rpo_seconds,
        mttr_seconds=started.mttr_seconds,
        failed_steps=(
            finished.failed_steps
            if finished
            else tuple(s.id for s in view.steps.values() if s.state.value == "failed" and not s.advisory)
        ),
        resumed=tuple(Resumption(r.at, r.operator, r.drctl_version, r.forced, r.reason) for r in view.resumed),
        options=dict(started.options),
        secrets=started.secrets,
        environment=started.environment,
        rehearsal=rehearsal(started),
    )


def _plan(infos: Sequence[ev.StepInfo]) -> Schedule | None:
    """The planned schedule from the journaled steps' needs and budgets (the hold counts at its length)."""
    try:
        return build([Node(i.id, i.needs, i.budget_seconds, i.background_every_seconds is not None) for i in infos])
    except CycleError:  # never for a journal drctl wrote; a report must still be possible
        return None


def _steps(
    events: Sequence[ev.Event], view: RunView, started: ev.RunStarted, failed: set[str]
) -> tuple[StepReport, ...]:
    errors: dict[str, list[StepError]] = {}
    open_attempts: dict[str, int] = {}
    changed: dict[str, bool] = {}
    for event in events:
        step = getattr(event, "step", None)
        match event:
            case ev.RunResumed():
                for key, attempt in open_attempts.items():
                    note = "the run stopped before this attempt ended (a crash or a forced interrupt); resumed"
                    errors.setdefault(key, []).append(StepError(event.at, attempt, note, "Interrupted", False))
                open_attempts.clear()
            case ev.StepStarted() | ev.AttemptStarted():
                open_attempts[event.step] = event.attempt
            case ev.AttemptFailed():
                errors.setdefault(event.step, []).append(
                    StepError(event.at, event.attempt, event.error, event.error_type, False)
                )
            case ev.StepSucceeded():
                open_attempts.pop(event.step, None)
                changed[event.step] = event.changed
            case ev.StepFailed():
                open_attempts.pop(event.step, None)
                errors.setdefault(event.step, []).append(
                    StepError(event.at, event.attempt, event.error, event.error_type, True)
                )
            case ev.StepInterrupted():
                open_attempts.pop(event.step, None)
                note = "stopped by a pause (a wait that changes nothing); it ran again"
                errors.setdefault(event.step, []).append(StepError(event.at, event.attempt, note, "Interrupted", False))
            case ev.StepChecked() if event.done and step:
                open_attempts.pop(event.step, None)
    infos = [s.info for s in view.steps.values()]
    plan = _plan(infos)
    critical = set(started.critical_path)
    return tuple(
        _step(
            s,
            t0=started.t0,
            plan=plan,
            critical=critical,
            errors=errors.get(s.id, []),
            changed=changed.get(s.id),
            failed=s.id in failed,
        )
        for s in view.steps.values()
    )


def _step(
    s: StepView,
    *,
    t0: datetime,
    plan: Schedule | None,
    critical: set[str],
    errors: list[StepError],
    changed: bool | None,
    failed: bool,
) -> StepReport:
    info = s.info
    timing = plan.timing.get(info.id) if plan else None
    start = (s.started_at - t0).total_seconds() if s.started_at else None
    finish = (s.finished_at - t0).total_seconds() if s.finished_at else None
    actual = s.duration if s.duration is not None and not s.by_check else None
    return StepReport(
        key=info.id,
        id=info.id.split(":", 1)[-1],
        phase=info.phase.value if info.phase else None,
        name=info.name,
        uses=info.uses,
        mutating=info.mutating,
        on_failure=info.on_failure,
        state=s.state.value,
        advisory=s.state.value == "failed" and s.advisory and not failed,
        attempts=s.attempt,
        max_attempts=info.attempts,
        critical=info.id in critical,
        budget_seconds=info.budget_seconds,
        planned_start_offset_seconds=timing.earliest_start if timing else 0.0,
        planned_finish_offset_seconds=timing.earliest_finish if timing else info.budget_seconds,
        actual_seconds=actual,
        started_at=s.started_at,
        finished_at=s.finished_at,
        start_offset_seconds=start,
        finish_offset_seconds=finish,
        over_budget=actual is not None and info.background_every_seconds is None and actual > info.budget_seconds,
        changed=changed,
        summary=s.summary if s.state.value != "skipped" else "",
        completed_by_check=s.by_check,
        timed_out=s.timed_out,
        skip_reason=s.summary if s.state.value == "skipped" else None,
        errors=tuple(errors),
    )


def _approvals(events: Sequence[ev.Event]) -> tuple[ApprovalRecord, ...]:
    requests: dict[str, ev.ApprovalRequested] = {}
    out: list[ApprovalRecord] = []
    answered: set[str] = set()
    for event in events:
        match event:
            case ev.ApprovalRequested():
                requests[event.request_id] = event
            case ev.ApprovalGranted() | ev.ApprovalRejected() | ev.ApprovalRefused() | ev.ApprovalTimedOut():
                request = requests.get(event.request_id)
                if request is None:
                    continue
                outcome = {
                    ev.ApprovalGranted: "granted",
                    ev.ApprovalRejected: "rejected",
                    ev.ApprovalRefused: "refused",
                    ev.ApprovalTimedOut: "timed_out",
                }[type(event)]
                if outcome != "refused":
                    answered.add(event.request_id)
                reason = getattr(event, "reason", None) or getattr(event, "why", None)
                approver = getattr(event, "approver", None)
                out.append(
                    _approval(request, outcome=outcome, at=event.at, approver=approver, answer=event, reason=reason)
                )
    for request_id, request in requests.items():
        if request_id not in answered:
            out.append(_approval(request, outcome="pending", at=None, approver=None, answer=None, reason=None))
    return tuple(out)


def _approval(
    request: ev.ApprovalRequested,
    *,
    outcome: str,
    at: datetime | None,
    approver: ev.Identity | None,
    answer: ev.Event | None,
    reason: str | None,
) -> ApprovalRecord:
    return ApprovalRecord(
        step=request.step,
        request_id=request.request_id,
        prompt=request.prompt,
        requested_at=request.at,
        approvers=request.approvers,
        require_reason=request.require_reason,
        outcome=outcome,
        at=at,
        approver=approver,
        via=getattr(answer, "via", None),
        reason=reason,
    )


def _objective_detail(event: ev.Event) -> str:
    from drctl.durations import format_duration as fd

    match event:
        case ev.ObjectiveAtRisk():
            return f"projected finish T+{fd(event.projected_seconds)} > RTO {fd(event.rto_seconds)}"
        case ev.RtoBreached():
            return f"T+{fd(event.elapsed_seconds)} > RTO {fd(event.rto_seconds)} before the service was restored"
        case ev.RpoBreached():
            return f"exposure {fd(event.exposure_seconds)} > RPO {fd(event.rpo_seconds)} ({event.step})"
    return event.type
