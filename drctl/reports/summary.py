"""A run in one line for ``drctl runs``: its objectives and verdict, from the same report ``drctl report`` writes,
and what the drill schedule (``due.py``) needs to know of it."""

from __future__ import annotations

from dataclasses import dataclass

from drctl.durations import format_duration as fd
from drctl.reports.due import RunRecord
from drctl.reports.evidence import RPO_EXPOSURE
from drctl.reports.model import ObjectiveResult, Report


@dataclass(frozen=True)
class RunLine:
    rto: str
    rpo: str
    verdict: str
    #: items of the old primary that stay unfenced (``Report.open_risks``)
    open_risks: int = 0


def _objective(found: ObjectiveResult | None) -> str:
    if found is None or found.achieved_seconds is None:
        if found is None:
            return "-"
        return {True: "met", False: "not met", None: found.status or "-"}[found.met]
    mark = {True: "ok", False: "OVER", None: "?"}[found.met]
    bound = "<=" if found.evidence == "at most" else ""
    return f"{bound}{fd(found.achieved_seconds)}/{fd(found.objective_seconds)} {mark}".strip()


def _objectives(report: Report) -> dict[str, ObjectiveResult]:
    return {o.name: o for o in report.verdict.objectives}


def run_line(report: Report) -> RunLine:
    """The run's verdict in a table's cells: the journaled verdict's words, the same as ``status`` shows."""
    objectives = _objectives(report)
    verdict = report.verdict
    missed = [o.name for o in verdict.objectives if o.met is False]
    if verdict.result == "passed":
        word = "passed"
    elif not report.run.ended:
        word = "-"
    elif verdict.result == "breached":
        word = f"BREACHED ({', '.join(f'{m} not met' for m in missed)})"
    else:
        why = [f"{m} not met" for m in missed]
        hold_failed = verdict.hold is not None and not verdict.hold.passed
        if hold_failed:
            why.append("hold failed")
        if verdict.result == "aborted":
            why.append("aborted")
        elif not hold_failed:
            why.append("step failed")
        word = f"{verdict.headline} ({', '.join(why)})"
    if verdict.rehearsal:
        word += " [rehearsal]"
    if report.open_risks:
        # the verdict stays the run's; the old primary that may still take writes is said beside it, never hidden
        word += f" [OPEN RISK: {len(report.open_risks)} unfenced]"
    return RunLine(_objective(objectives.get("RTO")), _objective(objectives.get("RPO")), word, len(report.open_risks))


def run_record(report: Report) -> RunRecord:
    rto = _objectives(report).get("RTO")
    measured = [f.at for f in report.facts if f.kind == RPO_EXPOSURE]
    rpo = _objectives(report).get("RPO")
    return RunRecord(
        run_id=report.run.id,
        playbook=report.run.playbook,
        mode=report.run.mode,
        started_at=report.run.started_at,
        rto_verified=report.run.mode == "drill"
        and report.verdict.result == "passed"
        and rto is not None
        and rto.met is True,
        rpo_measured_at=max(measured, default=None),
        rpo_met=rpo.met if rpo is not None else None,
        rehearsal=report.verdict.rehearsal,
    )
