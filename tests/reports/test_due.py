"""When the next drills are due: the RTO quarterly from the last drill that verified it, the RPO monthly from the
last measurement; a pure function of the history and the date."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from drctl.cli.runs_view import due_data, render_due
from drctl.engine.events import Environment
from drctl.engine.paths import StateDir
from drctl.reports.due import Check, Due, RunRecord, add_months, describe, due_checks, rehearsals
from drctl.reports.model import Report
from drctl.reports.summary import run_line, run_record
from tests.drill.conftest import Drilled, DrillSpace, drill_plan, run_drill
from tests.reports.conftest import report_of, run_failover


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def drill(run_id: str, started: str, *, verified: bool = True, playbook: str = "wallet") -> RunRecord:
    return RunRecord(run_id, playbook, "drill", at(started), rto_verified=verified)


def check(found: list[Due], playbook: str, kind: Check) -> Due:
    return next(d for d in found if d.playbook == playbook and d.check is kind)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2026-01-31T02:00:00", 1, "2026-02-28T02:00:00"),
        ("2028-01-31T02:00:00", 1, "2028-02-29T02:00:00"),  # a leap year
        ("2026-11-30T02:00:00", 3, "2027-02-28T02:00:00"),
        ("2026-03-03T02:00:00", 3, "2026-06-03T02:00:00"),
        ("2026-12-15T02:00:00", 1, "2027-01-15T02:00:00"),
    ],
)
def test_calendar_months_clamp_the_day(start: str, months: int, expected: str) -> None:
    assert add_months(at(start), months) == at(expected)


def test_the_next_rto_drill_is_due_three_months_after_the_last_one_that_verified_it() -> None:
    history = [drill("r1", "2026-01-10T02:00:00"), drill("r2", "2026-03-03T02:00:00")]

    entry = check(due_checks(history, at("2026-04-01T00:00:00")), "wallet", Check.RTO_DRILL)

    assert (entry.last_run, entry.due, entry.overdue) == ("r2", at("2026-06-03T02:00:00"), False)
    assert entry.days == 63
    assert describe(entry) == "due in 63 days"
    assert entry.note == ""


def test_a_drill_that_did_not_verify_the_rto_does_not_reset_the_clock_and_is_named() -> None:
    history = [drill("good", "2026-01-10T02:00:00"), drill("bad", "2026-04-07T02:00:00", verified=False)]

    entry = check(due_checks(history, at("2026-04-20T00:00:00")), "wallet", Check.RTO_DRILL)

    assert entry.last_run == "good"
    assert entry.due == at("2026-04-10T02:00:00")
    assert entry.overdue
    assert describe(entry) == "OVERDUE by 10 days"
    assert entry.note == "the last drill, bad, did not verify the RTO"


def test_never_drilled_and_never_measured_is_due_now() -> None:
    now = at("2026-05-05T09:00:00")
    history = [RunRecord("f1", "wallet", "failover", at("2026-05-01T00:00:00"), rto_verified=False)]

    found = due_checks(history, now)

    for kind in (Check.RTO_DRILL, Check.RPO_CHECK):
        entry = check(found, "wallet", kind)
        assert (entry.last_run, entry.due, entry.overdue) == (None, now, True)
        assert describe(entry) == "never done: due now"


def test_the_rpo_check_is_monthly_from_any_run_that_measured_it() -> None:
    history = [
        drill("d1", "2026-01-10T02:00:00"),
        RunRecord(
            "f1",
            "wallet",
            "failover",
            at("2026-02-20T05:00:00"),
            rto_verified=False,
            rpo_measured_at=at("2026-02-20T05:03:00"),
            rpo_met=False,
        ),
    ]

    entry = check(due_checks(history, at("2026-03-20T05:03:00")), "wallet", Check.RPO_CHECK)

    assert (entry.last_run, entry.due) == ("f1", at("2026-03-20T05:03:00"))
    assert describe(entry) == "due today"
    assert entry.note == "the last measurement was over the RPO"
    late = check(due_checks(history, at("2026-03-20T09:00:00")), "wallet", Check.RPO_CHECK)
    assert describe(late) == "OVERDUE: it was due earlier today"


def test_each_application_has_its_own_schedule() -> None:
    history = [
        drill("a", "2026-03-03T02:00:00", playbook="wallet"),
        drill("b", "2026-02-01T02:00:00", playbook="ledger"),
    ]

    found = due_checks(history, at("2026-03-04T00:00:00"))

    assert [(d.playbook, d.check) for d in found] == [
        ("ledger", Check.RTO_DRILL),
        ("ledger", Check.RPO_CHECK),
        ("wallet", Check.RTO_DRILL),
        ("wallet", Check.RPO_CHECK),
    ]
    assert check(found, "ledger", Check.RTO_DRILL).due == at("2026-05-01T02:00:00")
    assert describe(check(found, "wallet", Check.RTO_DRILL)) == "due in 91 days"
    assert due_checks([], at("2026-03-04T00:00:00")) == []


def test_a_run_counts_for_the_schedule_as_its_report_says(drill_report: tuple[Drilled, Report]) -> None:
    _ran, report = drill_report

    record = run_record(report)

    assert record.rto_verified
    assert record.rpo_measured_at is None
    line = run_line(report)
    assert line.verdict == "passed"
    assert line.rto.endswith("/1h ok")
    assert line.rpo == "unmeasured"


def test_a_failed_drill_or_a_failover_does_not_verify_the_rto(space: DrillSpace) -> None:
    space.health.status["/west"] = 503
    failed = report_of(run_drill(drill_plan(space.playbook()), space))
    failover = report_of(run_failover(space))

    assert not run_record(failed).rto_verified
    assert run_line(failed).verdict == "FAILED (hold failed)"
    measured = run_record(failover)
    assert not measured.rto_verified
    assert measured.rpo_measured_at is not None
    assert measured.rpo_met is True
    # the failover that took effect was planned: nothing lost by construction, whatever the exposure before it
    assert run_line(failover).rpo == "0s/15m ok"


def test_a_rehearsal_never_counts_as_a_drill_and_is_listed_apart(space: DrillSpace) -> None:
    sandbox = Environment(kind="sandbox", arm_endpoint="https://127.0.0.1:4443", embedded=True, estate_sha256="ab" * 32)
    ran = run_drill(drill_plan(space.playbook()), space, environment=sandbox)
    report = report_of(ran)
    assert report.verdict.passed  # it went well, and it is still not evidence
    record = run_record(report)
    assert record.rehearsal
    found = due_checks([record], at("2026-03-04T00:00:00"))
    drill_due = check(found, "app", Check.RTO_DRILL)
    assert (drill_due.last_run, describe(drill_due)) == (None, "never done: due now")
    assert rehearsals([record]) == [record]
    assert run_line(report).verdict == "passed [rehearsal]"

    text = render_due(StateDir(space.state), now=at("2026-03-04T00:00:00"))

    table, practice = text.split("Rehearsals on a sandbox")
    assert ran.result.run_id not in table
    assert "never done: due now" in table
    assert ran.result.run_id in practice
    data = due_data(StateDir(space.state), now=at("2026-03-04T00:00:00"))
    assert [r["run_id"] for r in data["rehearsals"]] == [ran.result.run_id]
    assert all(c["last_run"] is None for c in data["checks"])
