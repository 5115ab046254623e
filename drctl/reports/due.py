"""When the next drills are due, from the history of runs: pure, with ``now`` passed in.

The operations appendix asks for the RTO to be tested quarterly and the RPO monthly. For each application
(playbook name) found in the history:

- **RTO drill, every 3 months**: due 3 calendar months after the start of the last drill that verified the RTO
  (a drill that ended succeeded with its RTO met). A drill that failed or breached its RTO does not reset the
  clock: it is named as the last attempt.
- **RPO check, every month**: due 1 calendar month after the last run that measured RPO exposure (any run with
  an ``rpo.exposure`` fact: a drill, a failover, or a run of read-only checks).

**Rehearsals** (runs against a sandbox) are never evidence: they neither reset a clock nor count as the last
attempt; ``rehearsals`` lists them apart. A check never done is due at once. Calendar months are added with
the day clamped (31 Jan + 1 month is 28 or 29 Feb). Dates are UTC.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class Check(StrEnum):
    RTO_DRILL = "rto-drill"
    RPO_CHECK = "rpo-check"

    @property
    def months(self) -> int:
        return 3 if self is Check.RTO_DRILL else 1

    @property
    def label(self) -> str:
        return "RTO drill (quarterly)" if self is Check.RTO_DRILL else "RPO check (monthly)"


@dataclass(frozen=True)
class RunRecord:
    """What the schedule needs to know of one run (from its report)."""

    run_id: str
    playbook: str
    mode: str
    started_at: datetime
    #: a drill that ended succeeded with its RTO met
    rto_verified: bool
    #: when its last RPO exposure was measured, if it measured one
    rpo_measured_at: datetime | None = None
    #: that exposure was within the RPO
    rpo_met: bool | None = None
    #: a run against a sandbox: listed apart, never credited
    rehearsal: bool = False


@dataclass(frozen=True)
class Due:
    playbook: str
    check: Check
    #: the run that last did the check, and when
    last_run: str | None
    last_at: datetime | None
    #: when the next one is due (``now`` when it was never done)
    due: datetime
    overdue: bool
    #: whole days until due (negative: overdue by that many)
    days: int
    #: a word more: the last attempt that did not count, a breach
    note: str = ""


def add_months(at: datetime, months: int) -> datetime:
    month = at.month - 1 + months
    year, month = at.year + month // 12, month % 12 + 1
    day = min(at.day, calendar.monthrange(year, month)[1])
    return at.replace(year=year, month=month, day=day)


def _days(due: datetime, now: datetime) -> int:
    return (due.date() - now.date()).days


def _entry(playbook: str, check: Check, last: RunRecord | None, at: datetime | None, now: datetime) -> Due:
    due = add_months(at, check.months) if at is not None else now
    days = _days(due, now)
    return Due(
        playbook=playbook,
        check=check,
        last_run=last.run_id if last else None,
        last_at=at,
        due=due,
        overdue=at is None or due < now,
        days=days,
    )


def due_checks(records: Sequence[RunRecord], now: datetime) -> list[Due]:
    """Both checks for every playbook in ``records``, playbooks in name order."""
    out: list[Due] = []
    evidence = [r for r in records if not r.rehearsal]
    for playbook in sorted({r.playbook for r in records}):
        mine = sorted((r for r in evidence if r.playbook == playbook), key=lambda r: r.started_at)
        drills = [r for r in mine if r.mode == "drill"]
        verified = [r for r in drills if r.rto_verified]
        last = verified[-1] if verified else None
        entry = _entry(playbook, Check.RTO_DRILL, last, last.started_at if last else None, now)
        failed_since = [r for r in drills if not r.rto_verified and (last is None or r.started_at > last.started_at)]
        if failed_since:
            attempt = failed_since[-1]
            entry = _with_note(entry, f"the last drill, {attempt.run_id}, did not verify the RTO")
        out.append(entry)
        measured = [r for r in mine if r.rpo_measured_at is not None]
        newest = max(measured, key=lambda r: r.rpo_measured_at or r.started_at, default=None)
        at = newest.rpo_measured_at if newest else None
        entry = _entry(playbook, Check.RPO_CHECK, newest, at, now)
        if newest is not None and newest.rpo_met is False:
            entry = _with_note(entry, "the last measurement was over the RPO")
        out.append(entry)
    return out


def rehearsals(records: Sequence[RunRecord]) -> list[RunRecord]:
    """The runs against a sandbox, oldest first: shown apart from the schedule, which they never move."""
    return sorted((r for r in records if r.rehearsal), key=lambda r: (r.playbook, r.started_at))


def _with_note(entry: Due, note: str) -> Due:
    return replace(entry, note=note)


def describe(entry: Due) -> str:
    """``due in 12 days``, ``due today``, ``OVERDUE by 3 days``, ``never done: due now``."""
    if entry.last_at is None:
        return "never done: due now"
    if entry.days > 0:
        return f"due in {entry.days} day{'s' if entry.days != 1 else ''}"
    if entry.days == 0:
        return "OVERDUE: it was due earlier today" if entry.overdue else "due today"
    late = -entry.days
    return f"OVERDUE by {late} day{'s' if late != 1 else ''}"
