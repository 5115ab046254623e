"""Change windows with an injected clock, through Australia/Sydney's daylight-saving switches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from drctl.playbook.model import ChangeWindow
from drctl.playbook.windows import current, next_opening

SYDNEY = ZoneInfo("Australia/Sydney")
TUE_THU = ChangeWindow(days=["tue", "thu"], start="02:00", end="04:00", timezone="Australia/Sydney")


def sydney(*args: int) -> datetime:
    return datetime(*args, tzinfo=SYDNEY)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (sydney(2026, 12, 1, 2, 0), True),  # Tuesday, opening minute (AEDT, summer)
        (sydney(2026, 12, 1, 3, 59), True),
        (sydney(2026, 12, 1, 4, 0), False),  # the end is exclusive
        (sydney(2026, 12, 1, 1, 59), False),
        (sydney(2026, 12, 2, 2, 30), False),  # Wednesday
        (sydney(2026, 12, 3, 2, 30), True),  # Thursday
        (sydney(2026, 7, 7, 2, 30), True),  # Tuesday in winter (AEST)
    ],
)
def test_a_window_is_local_wall_clock_time(moment: datetime, inside: bool) -> None:
    assert (current([TUE_THU], moment) is not None) is inside


def test_the_same_window_is_a_different_utc_hour_in_summer_and_winter() -> None:
    summer = current([TUE_THU], sydney(2026, 12, 1, 2, 30))
    winter = current([TUE_THU], sydney(2026, 7, 7, 2, 30))
    assert summer is not None
    assert winter is not None
    assert summer.start.hour == 15  # 02:00 AEDT (+11) is 15:00 UTC the day before
    assert winter.start.hour == 16  # 02:00 AEST (+10) is 16:00 UTC the day before


def test_a_utc_clock_is_judged_in_the_window_zone() -> None:
    # Monday 15:30 UTC is Tuesday 02:30 in Sydney in December
    assert current([TUE_THU], datetime(2026, 11, 30, 15, 30, tzinfo=UTC)) is not None


def test_a_window_on_the_night_daylight_saving_starts_is_an_hour_shorter() -> None:
    # Sunday 4 October 2026: at 02:00 AEST clocks jump to 03:00 AEDT
    sunday = ChangeWindow(days=["sun"], start="01:00", end="04:00", timezone="Australia/Sydney")
    opening = current([sunday], sydney(2026, 10, 4, 1, 30))
    assert opening is not None
    assert opening.end - opening.start == timedelta(hours=2)
    assert current([sunday], datetime(2026, 10, 3, 16, 30, tzinfo=UTC)) is not None  # 03:30 AEDT
    assert current([sunday], datetime(2026, 10, 3, 17, 0, tzinfo=UTC)) is None  # 04:00 AEDT


def test_a_window_on_the_night_daylight_saving_ends_is_an_hour_longer() -> None:
    # Sunday 5 April 2026: at 03:00 AEDT clocks fall back to 02:00 AEST
    sunday = ChangeWindow(days=["sun"], start="01:00", end="04:00", timezone="Australia/Sydney")
    opening = current([sunday], sydney(2026, 4, 5, 1, 30))
    assert opening is not None
    assert opening.end - opening.start == timedelta(hours=4)


def test_a_window_past_midnight_belongs_to_the_day_it_opens() -> None:
    night = ChangeWindow(days=["fri"], start="23:00", end="01:00", timezone="Australia/Sydney")
    assert current([night], sydney(2026, 12, 5, 0, 30)) is not None  # Saturday 00:30, opened Friday
    assert current([night], sydney(2026, 12, 6, 0, 30)) is None  # Sunday 00:30


def test_the_next_opening_is_named_in_local_time() -> None:
    upcoming = next_opening([TUE_THU], sydney(2026, 11, 26, 9, 0))  # a Thursday morning
    assert upcoming is not None
    assert upcoming.describe() == "Tue 2026-12-01 02:00 AEDT (Australia/Sydney)"


def test_a_naive_clock_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        current([TUE_THU], datetime(2026, 12, 1, 2, 30))
