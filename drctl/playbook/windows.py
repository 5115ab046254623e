"""Change windows: is a moment inside one, and when does the next one open. Pure, with time passed in.

A window is local wall-clock time in its own time zone, so Tue/Thu 02:00-04:00 Australia/Sydney stays 02:00-04:00
on the clock through daylight saving. An end before the start means the window runs past midnight. Instants are
compared in UTC, so a window that a clock change shortens or lengthens is measured as it really is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from drctl.playbook.model import ChangeWindow

_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@dataclass(frozen=True)
class Opening:
    start: datetime
    end: datetime
    window: ChangeWindow

    def describe(self) -> str:
        zone = ZoneInfo(self.window.timezone)
        local = self.start.astimezone(zone)
        return f"{local:%a %Y-%m-%d %H:%M} {local.tzname()} ({self.window.timezone})"


def _local(day: datetime, clock: str, zone: ZoneInfo) -> datetime:
    hours, minutes = (int(part) for part in clock.split(":"))
    return datetime.combine(day.date(), time(hours, minutes), tzinfo=zone)


def _openings(window: ChangeWindow, around: datetime, days_before: int, days_after: int) -> Iterator[Opening]:
    zone = ZoneInfo(window.timezone)
    local_now = around.astimezone(zone)
    for offset in range(-days_before, days_after + 1):
        day = local_now + timedelta(days=offset)
        if _DAYS[day.weekday()] not in window.days:
            continue
        start = _local(day, window.start, zone)
        end = _local(day, window.end, zone)
        if window.end <= window.start:
            end = _local(day + timedelta(days=1), window.end, zone)
        yield Opening(start.astimezone(UTC), end.astimezone(UTC), window)


def current(windows: Iterable[ChangeWindow], now: datetime) -> Opening | None:
    """The window open at ``now`` (an aware datetime), if any."""
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    instant = now.astimezone(UTC)
    for window in windows:
        for opening in _openings(window, instant, 1, 0):
            if opening.start <= instant < opening.end:
                return opening
    return None


def next_opening(windows: Iterable[ChangeWindow], now: datetime) -> Opening | None:
    """The first window that opens after ``now``, within two weeks."""
    instant = now.astimezone(UTC)
    upcoming = [
        opening for window in windows for opening in _openings(window, instant, 0, 14) if opening.start > instant
    ]
    return min(upcoming, key=lambda o: o.start, default=None)
