"""The change-window rule: a drill starts inside a declared window (Tue/Thu 02:00-04:00 Australia/Sydney), or
outside one only with ``--outside-window --reason``, which is journaled. Checked on the run's (injected) clock,
through Sydney's daylight-saving switches (2026-04-05 back to AEST, 2026-10-04 forward to AEDT)."""

from __future__ import annotations

from datetime import datetime

import pytest

from drctl.engine import events as ev
from drctl.engine.drill import check_window
from drctl.errors import ExitCode, UsageError
from drctl.playbook.enums import Weekday
from drctl.playbook.model import ChangeWindow
from tests.drill.conftest import SYDNEY_WINDOWS, DrillSpace, at, drill_plan, run_drill

WINDOWS = [ChangeWindow(days=[Weekday.TUE, Weekday.THU], start="02:00", end="04:00", timezone="Australia/Sydney")]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


@pytest.mark.parametrize(
    ("instant", "local"),
    [
        # Tue 2026-03-03 02:30 AEDT (UTC+11)
        ("2026-03-02T15:30:00", "Tue 2026-03-03 02:00 AEDT"),
        # Thu 2026-04-02 03:59 AEDT, the last window before daylight saving ends on Sunday 5 April
        ("2026-04-01T16:59:00", "Thu 2026-04-02 02:00 AEDT"),
        # Tue 2026-04-07 02:00 AEST (UTC+10), the first window after it: an hour later in UTC than in March
        ("2026-04-06T16:00:00", "Tue 2026-04-07 02:00 AEST"),
        # Thu 2026-10-01 02:30 AEST, the last window before daylight saving starts on Sunday 4 October
        ("2026-09-30T16:30:00", "Thu 2026-10-01 02:00 AEST"),
        # Tue 2026-10-06 03:30 AEDT, the first window after it
        ("2026-10-05T16:30:00", "Tue 2026-10-06 02:00 AEDT"),
    ],
)
def test_inside_a_window_in_sydney_local_time_across_daylight_saving(instant: str, local: str) -> None:
    check = check_window(WINDOWS, utc(instant), outside_window=False, reason=None)

    assert check.inside
    assert check.declared
    assert check.window is not None
    assert check.window.startswith(local)
    assert check.window.endswith("until 04:00")
    assert check.override_reason is None


@pytest.mark.parametrize(
    ("instant", "next_window"),
    [
        # Wed 2026-03-04 10:00 AEDT: the next window is Thursday's
        ("2026-03-03T23:00:00", "Thu 2026-03-05 02:00 AEDT"),
        # Tue 2026-04-07 01:30 AEST: 02:30 by the summer offset, but the clocks went back on the 5th
        ("2026-04-06T15:30:00", "Tue 2026-04-07 02:00 AEST"),
        # Tue 2026-03-03 04:00 AEDT: the window's end is not in it
        ("2026-03-02T17:00:00", "Thu 2026-03-05 02:00 AEDT"),
        # Tue 2026-10-06 04:30 AEDT: 03:30 by the winter offset, but the clocks went forward on the 4th
        ("2026-10-05T17:30:00", "Thu 2026-10-08 02:00 AEDT"),
        # Sun 2026-04-05 02:30 AEST, the repeated hour of the switch itself: no window on a Sunday
        ("2026-04-04T16:30:00", "Tue 2026-04-07 02:00 AEST"),
    ],
)
def test_outside_every_window_the_drill_is_refused_naming_the_next_one(instant: str, next_window: str) -> None:
    with pytest.raises(UsageError) as refused:
        check_window(WINDOWS, utc(instant), outside_window=False, reason=None)

    assert refused.value.exit_code is ExitCode.USAGE
    assert f"the next opens {next_window} (Australia/Sydney)" in refused.value.message
    assert "tue, thu 02:00-04:00 Australia/Sydney" in refused.value.message
    assert refused.value.hint is not None
    assert "--outside-window --reason" in refused.value.hint


def test_outside_a_window_with_a_reason_the_drill_may_start_and_says_so() -> None:
    check = check_window(WINDOWS, utc("2026-03-03T23:00:00"), outside_window=True, reason="  auditor visit  ")

    assert check == ev.WindowCheck(
        declared=True,
        inside=False,
        override_reason="auditor visit",
        next_opening="Thu 2026-03-05 02:00 AEDT (Australia/Sydney)",
    )


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_outside_window_without_a_reason_is_a_usage_error(reason: str | None) -> None:
    with pytest.raises(UsageError, match="--reason"):
        check_window(WINDOWS, utc("2026-03-02T15:30:00"), outside_window=True, reason=reason)


def test_without_declared_windows_a_drill_may_run_at_any_time() -> None:
    check = check_window([], utc("2026-03-04T12:00:00"), outside_window=False, reason=None)

    assert check == ev.WindowCheck(declared=False, inside=False)


def test_a_drill_checks_the_window_on_the_runs_clock_before_anything_runs(space: DrillSpace) -> None:
    path = space.playbook(windows=SYDNEY_WINDOWS)

    with pytest.raises(UsageError, match="Thu 2026-03-05 02:00 AEDT"):
        run_drill(drill_plan(path), space, clock=at("2026-03-03T23:00:00+00:00"))
    assert not (space.state / "runs").exists() or not any((space.state / "runs").iterdir())

    inside = run_drill(drill_plan(path), space, clock=at("2026-03-02T15:30:00+00:00"))
    assert inside.exit_code == ExitCode.OK
    info = inside.started.drill
    assert info is not None
    assert info.window.inside
    assert info.window.window == "Tue 2026-03-03 02:00 AEDT (Australia/Sydney) until 04:00"


def test_a_drill_outside_its_window_journals_the_operators_reason(space: DrillSpace) -> None:
    path = space.playbook(windows=SYDNEY_WINDOWS)

    ran = run_drill(
        drill_plan(path), space, clock=at("2026-04-06T15:30:00+00:00"), outside_window=True, reason="regulator asked"
    )

    assert ran.exit_code == ExitCode.OK
    info = ran.started.drill
    assert info is not None
    assert info.window.inside is False
    assert info.window.override_reason == "regulator asked"
    assert info.window.next_opening == "Tue 2026-04-07 02:00 AEST (Australia/Sydney)"
