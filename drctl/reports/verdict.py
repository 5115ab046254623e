"""The verdict, first thing in every report: the run's one verdict (``engine/verdict.py``), as journaled in
``run.finished.verdict`` (or, for a run that has not ended or an older journal, computed by the same function),
put in the report's shape. Nothing here recomputes a figure: ``status``, ``runs``, the live view and every report
format show the same result, exit code and objectives.

A drill's **hold** (its ``drill.hold`` fact) is shown beside the objectives; a failed hold already failed the run.
"""

from __future__ import annotations

from collections.abc import Sequence

from drctl.engine import events as ev
from drctl.engine.verdict import verdict_of_journal
from drctl.reports import evidence
from drctl.reports.model import HoldResult, ObjectiveResult, Verdict


def verdict_of(events: Sequence[ev.Event], facts: Sequence[ev.Fact], *, drill: bool) -> Verdict:
    judged = verdict_of_journal(events)
    return Verdict(
        passed=judged.result == "passed",
        headline=judged.headline,
        reasons=judged.reasons,
        objectives=tuple(_objective(o) for o in judged.objectives),
        hold=_hold(facts) if drill else None,
        result=judged.result,
        exit_code=judged.exit_code,
        rehearsal=judged.rehearsal,
    )


def _objective(o: ev.ObjectiveVerdict) -> ObjectiveResult:
    return ObjectiveResult(
        name=o.name,
        objective_seconds=o.objective_seconds,
        achieved_seconds=o.achieved_seconds,
        met=o.met,
        basis=o.basis,
        status=o.status,
        authoritative_seconds=o.authoritative_seconds,
        client_lag_seconds=o.client_lag_seconds,
        evidence=o.evidence,
        switch=o.switch,
    )


def _hold(facts: Sequence[ev.Fact]) -> HoldResult | None:
    summaries = evidence.of_kind(facts, evidence.DRILL_HOLD)
    if not summaries:
        return None
    data = summaries[-1].data
    return HoldResult(
        url=evidence.text(data, "url"),
        planned_seconds=evidence.number(data, "planned_seconds") or 0.0,
        held_seconds=evidence.number(data, "held_seconds") or 0.0,
        probes=evidence.whole(data, "probes") or 0,
        failed=evidence.whole(data, "failed") or 0,
        passed=evidence.flag(data, "passed") is True,
    )
