"""A run's phases as the report shows them: a drill's failover, hold and failback, or the one direction of a
failover or failback run; when each started and ended, and how long each direction took to restore service."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from drctl.engine import events as ev
from drctl.engine.replay import clients_served, restored_moment
from drctl.reports.model import PhaseReport, StepReport


def finished(step: StepReport) -> bool:
    """Nothing left to do for it: succeeded, skipped, or failed without holding the run up."""
    return step.state in ("succeeded", "skipped") or (step.state == "failed" and step.advisory)


def phase_reports(
    events: Sequence[ev.Event], started: ev.RunStarted, reports: Sequence[StepReport], facts: Sequence[ev.Fact]
) -> tuple[PhaseReport, ...]:
    first_start: dict[str, datetime] = {}
    for event in events:
        if isinstance(event, ev.StepStarted):
            first_start.setdefault(event.step, event.at)
    if started.drill is None:
        return (
            _phase(started.mode, started.source, started.target, reports, first_start, facts, started, from_t0=True),
        )
    out = []
    for info in started.drill.phases:
        mine = [s for s in reports if s.phase == info.name.value]
        first = info.name is ev.Phase.FAILOVER
        out.append(_phase(info.name.value, info.source, info.target, mine, first_start, facts, started, from_t0=first))
    return tuple(out)


def _phase(  # noqa: PLR0917 - a phase is named by its name and direction
    name: str,
    source: str,
    target: str,
    steps: Sequence[StepReport],
    first_start: dict[str, datetime],
    facts: Sequence[ev.Fact],
    started: ev.RunStarted,
    *,
    from_t0: bool,
) -> PhaseReport:
    t0 = started.t0
    keys = [s.key for s in steps]
    starts = [first_start[k] for k in keys if k in first_start]
    began = min(starts, default=None)
    if from_t0 and began is not None:
        began = min(began, started.at)
    complete = bool(steps) and all(finished(s) for s in steps)
    ends = [s.finished_at for s in steps if s.finished_at is not None]
    ended = max(ends) if complete and ends else None
    served = clients_served(facts, [(s.key, s.uses) for s in steps])
    restored = restored_moment(served) if served is not None else None
    origin = t0 if from_t0 else began
    restore = restored or ended
    ttr = (restore - origin).total_seconds() if restore is not None and origin is not None else None
    return PhaseReport(
        name=name,
        source=source,
        target=target,
        started_at=began,
        ended_at=ended,
        start_offset_seconds=_offset(began, t0),
        end_offset_seconds=_offset(ended, t0),
        time_to_restore_seconds=ttr,
        restored_at=restored,
        steps=tuple(keys),
    )


def _offset(at: datetime | None, t0: datetime) -> float | None:
    return (at - t0).total_seconds() if at is not None else None
