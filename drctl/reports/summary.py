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


def _objective(found: ObjectiveResult | None) -> str:
    if found is None or found.achieved_seconds is None:
        return "-" if found is None or found.met is None else "not met"
    mark = {True: "ok", False: "OVER", None: ""}[found.met]
    return f"{fd(found.achieved_seconds)}/{fd(found.objective_seconds)} {mark}".strip()


def _objectives(report: Report) -> dict[str, ObjectiveResult]:
    return {o.name: o for o in report.verdict.objectives}


def run_line(report: Report) -> RunLine:
    objectives = _objectives(report)
    verdict = report.verdict
    if verdict.passed:
        word = "passed"
    elif not report.run.ended:
        word = "-"
    else:
        why = [f"{o.name} not met" for o in verdict.objectives if o.met is False]
        hold_failed = verdict.hold is not None and not verdict.hold.passed
        if hold_failed:
            why.append("hold failed")
        if report.run.state == "aborted":
            why.append("aborted")
        elif report.run.state == "failed" and not hold_failed:
            why.append("step failed")
        word = "FAILED" + (f" ({', '.join(why)})" if why else "")
    return RunLine(_objective(objectives.get("RTO")), _objective(objectives.get("RPO")), word)


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
        and report.run.ended
        and report.run.state == "succeeded"
        and rto is not None
        and rto.met is True,
        rpo_measured_at=max(measured, default=None),
        rpo_met=rpo.met if rpo is not None else None,
    )
