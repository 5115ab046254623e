"""Reports made by hand, for the renderers' own tests: a 30-second sandbox rehearsal or a 50-minute failover
without running either. The figures are whatever a test says; the model is the one the journal builds."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from drctl.engine.events import Identity
from drctl.reports.model import (
    ApprovalRecord,
    DnsChange,
    JournalCheck,
    MessageRecord,
    ObjectiveResult,
    PhaseReport,
    Report,
    RpoReport,
    RunFacts,
    StepError,
    StepReport,
    Verdict,
)

T0 = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
OPERATOR = Identity(os_user="oncall", host="laptop")


@dataclass(frozen=True)
class S:
    """A step as a test states it: seconds from T0, its budget, how it ended."""

    key: str
    start: float | None
    finish: float | None
    budget: float = 300.0
    state: str = "succeeded"
    advisory: bool = False
    timed_out: bool = False
    error: str | None = None
    summary: str = ""
    phase: str | None = None


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def step_report(s: S) -> StepReport:
    errors = (
        (StepError(at=at(s.finish or 0.0), attempt=1, error=s.error, error_type="ActionError", final=True),)
        if s.error
        else ()
    )
    actual = s.finish - s.start if s.start is not None and s.finish is not None else None
    return StepReport(
        key=s.key,
        id=s.key.split(":")[-1],
        phase=s.phase,
        name=None,
        uses="test.record",
        mutating=False,
        on_failure="continue" if s.advisory else "abort",
        state=s.state,
        advisory=s.advisory,
        attempts=1 if s.start is not None else 0,
        max_attempts=1,
        critical=False,
        budget_seconds=s.budget,
        planned_start_offset_seconds=0.0,
        planned_finish_offset_seconds=s.budget,
        actual_seconds=actual,
        started_at=at(s.start) if s.start is not None else None,
        finished_at=at(s.finish) if s.finish is not None else None,
        start_offset_seconds=s.start,
        finish_offset_seconds=s.finish,
        over_budget=actual is not None and actual > s.budget,
        changed=None,
        summary=s.summary,
        completed_by_check=False,
        timed_out=s.timed_out,
        skip_reason="skipped by the operator" if s.state == "skipped" else None,
        errors=errors,
    )


def crafted(
    steps: list[S],
    *,
    rto: float = 3600.0,
    end: float | None = None,
    passed: bool = True,
    mode: str = "failover",
    restored: float | None = None,
    phases: tuple[PhaseReport, ...] = (),
    playbook: str = "wallet-platform",
) -> Report:
    """A report of an ended run (``end`` seconds after T0, the last finish when omitted)."""
    last = end if end is not None else max((s.finish or s.start or 0.0) for s in steps)
    rto_result = ObjectiveResult(
        name="RTO",
        objective_seconds=rto,
        achieved_seconds=restored,
        met=None if restored is None else restored <= rto,
        basis="service.restored",
        status="met" if restored is not None and restored <= rto else "unmeasured",
    )
    run = RunFacts(
        id="20260303T020000Z-abcd",
        playbook=playbook,
        playbook_path="playbooks/x.yaml",
        playbook_sha256="0" * 64,
        mode=mode,
        source="east",
        target="west",
        operator=OPERATOR,
        pid=42,
        drctl_version="0.1.0",
        t0=T0,
        t0_declared=False,
        started_at=T0,
        ended_at=T0 + timedelta(seconds=last),
        state="succeeded" if passed else "failed",
        exit_code=0 if passed else 1,
        ended=True,
        rto_seconds=rto,
        rpo_seconds=900.0,
        mttr_seconds=None,
        failed_steps=tuple(s.key for s in steps if s.state == "failed" and not s.advisory),
        resumed=(),
        options={},
        secrets=(),
    )
    verdict = Verdict(
        passed=passed,
        headline="PASSED" if passed else "FAILED",
        reasons=() if passed else ("a step failed",),
        objectives=(rto_result,),
        hold=None,
        result="passed" if passed else "failed",
        exit_code=0 if passed else 1,
    )
    return Report(
        schema="drctl.report/v1",
        generated_by="0.1.0",
        run=run,
        verdict=verdict,
        phases=phases,
        steps=tuple(step_report(s) for s in steps),
        approvals=(),
        decisions=(),
        messages=(),
        dns=(),
        rpo=RpoReport(objective_seconds=900.0, exposure_seconds=None, measurements=(), gates=()),
        sql_failovers=(),
        arm_calls=(),
        probes=(),
        objective_events=(),
        change_window=None,
        journal=JournalCheck(lines=12, chain_verified=True, verification="ok", head_sha256="f" * 64, torn=False),
        facts=(),
    )


def phase(name: str, start: float, end: float, source: str = "east", target: str = "west") -> PhaseReport:
    return PhaseReport(
        name=name,
        source=source,
        target=target,
        started_at=T0 + timedelta(seconds=start),
        ended_at=T0 + timedelta(seconds=end),
        start_offset_seconds=start,
        end_offset_seconds=end,
        time_to_restore_seconds=end - start,
        restored_at=None,
        steps=(),
    )


def with_outside_text(report: Report, text: str) -> Report:
    """The report with ``text`` everywhere outside text reaches one: reasons, errors, titles, names, identities."""
    who = Identity(os_user=text, host="laptop", principal=text)
    when = at(5)
    approval = ApprovalRecord(
        step="approve",
        request_id="r1",
        prompt=text,
        requested_at=when,
        approvers=(),
        require_reason=True,
        outcome="granted",
        at=when,
        approver=who,
        via="prompt",
        reason=text,
    )
    message = MessageRecord(
        step="announce",
        at=when,
        sent=False,
        in_doubt=False,
        channel=text,
        kind="slack",
        audience="production",
        title=text,
        message_id=None,
        error=text,
    )
    dns = DnsChange(
        step="dns",
        at=when,
        fqdn=text,
        type="A",
        previous_values=(text,),
        previous_ttl=300,
        values=("20.70.1.1",),
        ttl=60,
        changed_at=when,
        clients_switch_by=None,
        clients_switch_offset_seconds=None,
        verified_at=None,
    )
    failed = replace(
        report.steps[0],
        state="failed",
        summary="",
        errors=(StepError(at=when, attempt=1, error=text, error_type="HttpResponseError", final=True),),
    )
    verdict = replace(report.verdict, reasons=(text,))
    return replace(
        report,
        run=replace(report.run, playbook=text, operator=who),
        verdict=verdict,
        steps=(failed, *report.steps[1:]),
        approvals=(approval,),
        messages=(message,),
        dns=(dns,),
    )
