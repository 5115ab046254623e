"""A report is rebuilt from the journal alone, and every figure it states is the journal's."""

from __future__ import annotations

import json
import re
from pathlib import Path

from drctl.engine import events as ev
from drctl.errors import ExitCode
from drctl.reports.build import load_report
from drctl.reports.files import render
from drctl.reports.formats import ReportFormat
from drctl.reports.markdown import render_markdown
from drctl.reports.model import Report
from drctl.text import markdown_text
from tests.drill.conftest import Drilled, DrillSpace, at, cut_journal_after, drill_plan, resume_drill, run_drill
from tests.reports.conftest import SECRET, report_of


def objective(report: Report, name: str) -> tuple[float | None, bool | None]:
    found = next(o for o in report.verdict.objectives if o.name == name)
    return found.achieved_seconds, found.met


def assert_figures_equal_the_journal(ran: Drilled, report: Report) -> None:
    """The figures a report states, each against the journal line it comes from."""
    finished = ran.finished
    started = ran.started
    assert objective(report, "RTO")[0] == finished.rto_achieved_seconds
    assert report.rpo.exposure_seconds == finished.rpo_exposure_seconds
    assert (report.run.rto_seconds, report.run.rpo_seconds) == (started.rto_seconds, started.rpo_seconds)
    assert report.run.exit_code == finished.exit_code
    assert report.run.state == finished.ending.value
    assert report.run.playbook_sha256 == started.playbook_sha256
    assert report.run.operator == started.operator
    assert report.run.drctl_version == started.drctl_version
    assert [s.key for s in report.steps] == [s.id for s in started.steps]
    for step in report.steps:
        info = next(s for s in started.steps if s.id == step.key)
        assert step.budget_seconds == info.budget_seconds
        ended = [e for e in ran.events if isinstance(e, ev.StepSucceeded | ev.StepFailed) and e.step == step.key]
        if ended:
            assert step.actual_seconds == ended[-1].duration_seconds, step.key
            assert step.attempts == ended[-1].attempt
            assert step.finished_at == ended[-1].at
    for kind, count in (("drill.probe", len(report.probes)), ("dns.changed", len(report.dns))):
        assert count == len(ran.facts(kind))
    assert len(report.facts) == len(ran.of(ev.Fact))
    assert report.journal.lines == len(ran.events)
    assert report.journal.chain_verified


def test_a_drill_reports_the_journals_figures_for_both_directions(drill_report: tuple[Drilled, Report]) -> None:
    ran, report = drill_report

    assert_figures_equal_the_journal(ran, report)
    assert report.verdict.passed
    assert report.verdict.headline == "PASSED"
    assert [p.name for p in report.phases] == ["failover", "hold", "failback"]
    failover, hold, failback = report.phases
    restored = ran.facts("service.restored")
    assert failover.restored_at == restored[0].at
    assert failover.time_to_restore_seconds == objective(report, "RTO")[0]
    first_failback = min(e.at for e in ran.of(ev.StepStarted) if e.step.startswith("failback:"))
    assert failback.time_to_restore_seconds == (restored[1].at - first_failback).total_seconds()
    assert (failback.source, failback.target) == ("west", "east")
    assert hold.steps == ("hold",)
    assert report.verdict.hold is not None
    assert (report.verdict.hold.probes, report.verdict.hold.failed) == (11, 0)
    mttr = objective(report, "MTTR")
    phase_end = max(e.at for e in ran.of(ev.StepSucceeded) if e.step.startswith("failover:"))
    assert mttr == ((phase_end - ran.started.t0).total_seconds(), True)


def test_a_failover_report_surfaces_every_kind_of_evidence(failover_report: tuple[Drilled, Report]) -> None:
    ran, report = failover_report

    assert ran.exit_code == ExitCode.OK
    assert_figures_equal_the_journal(ran, report)
    (message,) = report.messages
    assert (message.channel, message.kind, message.audience, message.message_id) == (
        "ops-slack",
        "slack",
        "production",
        "1712.55",
    )
    (change,) = report.dns
    assert (change.fqdn, change.previous_ttl, change.ttl, change.values) == (
        "api.example.com",
        3600,
        300,
        ("20.70.1.1",),
    )
    assert change.clients_switch_by is not None
    assert change.clients_switch_offset_seconds == 64 * 60
    assert change.verified_at is not None
    assert [m.seconds for m in report.rpo.measurements] == [42.5]
    # the failover that took effect was planned: nothing lost by construction (the 42.5 s is the exposure before it)
    assert objective(report, "RPO") == (0.0, True)
    (gate,) = report.rpo.gates
    assert (gate.gate_seconds, gate.passed) == (900.0, True)
    (failover,) = report.sql_failovers
    assert (failover.primary, failover.secondary) == ("sql-west", "sql-east")
    (call,) = report.arm_calls
    assert (call.method, call.status, call.correlation_id) == ("POST", 202, "cor-1")
    (approval,) = report.approvals
    granted = ran.of(ev.ApprovalGranted)[0]
    assert (approval.outcome, approval.approver, approval.at, approval.via, approval.reason) == (
        "granted",
        granted.approver,
        granted.at,
        "yes",
        granted.reason,
    )
    replica = report.step("replica")
    assert [(e.attempt, e.final) for e in replica.errors] == [(1, False)]
    assert replica.attempts == 2
    advisory = report.step("announce-exec")
    assert advisory.advisory
    assert advisory.state == "failed"
    assert report.verdict.passed  # an advisory failure does not fail the run
    assert [f.kind for f in report.facts if f.step == "custom"] == ["storage.synced"]


def test_no_secret_reaches_any_report_form(failover_report: tuple[Drilled, Report]) -> None:
    _ran, report = failover_report

    for fmt in ReportFormat:
        text = render(report, fmt)
        assert SECRET not in text, fmt
        shown = markdown_text("[redacted:SECRET_TOKEN]") if fmt is ReportFormat.MD else "[redacted:SECRET_TOKEN]"
        assert shown in text, fmt


def test_a_failed_hold_fails_the_verdict_and_says_why(space: DrillSpace) -> None:
    space.health.script["/west"] = [200, 503]
    ran = run_drill(drill_plan(space.playbook()), space)

    report = report_of(ran)

    assert_figures_equal_the_journal(ran, report)
    assert not report.verdict.passed
    assert report.verdict.headline == "FAILED"
    assert report.verdict.hold is not None
    assert (report.verdict.hold.probes, report.verdict.hold.failed, report.verdict.hold.passed) == (2, 1, False)
    assert any(r.startswith("step hold failed: probe 2") for r in report.verdict.reasons)
    assert not report.step("hold").advisory  # it failed the drill
    assert all(report.step(f"failback:{s}").state == "succeeded" for s in ("promote", "check", "cutover"))
    assert objective(report, "RTO")[1] is True  # the failover itself met its RTO


def test_an_rto_breach_fails_the_verdict(space: DrillSpace) -> None:
    ran = run_drill(drill_plan(space.playbook(rto="3m", hold="1m")), space)

    report = report_of(ran)

    assert ran.exit_code == ExitCode.OBJECTIVE_BREACHED
    achieved, met = objective(report, "RTO")
    assert met is False
    assert achieved == ran.finished.rto_achieved_seconds
    assert achieved is not None
    assert achieved > 180
    assert [e.type for e in report.objective_events] == ["objective.at_risk", "objective.rto_breached"]
    # a breach is not a step failure, and never "succeeded": the journaled verdict, its exit code, the outcome row
    assert report.verdict.headline == "OBJECTIVE BREACHED"
    assert (report.verdict.result, report.verdict.exit_code) == ("breached", 4)
    assert ran.finished.verdict is not None
    assert ran.finished.verdict.headline == report.verdict.headline
    markdown = render_markdown(report)
    assert "| Outcome | OBJECTIVE BREACHED (exit 4) |" in markdown
    assert "succeeded" not in markdown.split("## Phases")[0]


def test_a_report_rebuilt_after_a_crash_and_resume(space: DrillSpace) -> None:
    first = run_drill(drill_plan(space.playbook()), space)
    journal = first.result.journal
    cut_journal_after(journal, lambda e: isinstance(e, ev.StepStarted) and e.step == "failback:check")
    # the crash came while failback:check ran: nothing of it or after it is in the record
    record = Path(space.record)
    calls = [json.loads(line) for line in record.read_text().splitlines()]
    kept = [c for c in calls if c["step"] not in ("failback:check", "failback:cutover")]
    record.write_text("".join(json.dumps(c) + "\n" for c in kept))

    interim = load_report(journal)
    assert interim.verdict.headline == "NOT FINISHED"
    assert not interim.run.ended
    assert interim.step("failback:check").state == "running"
    assert "Interim report" in render(interim, ReportFormat.MD)

    resumed = resume_drill(space, first.result.run_id, clock=at("2026-03-03T03:00:00+00:00"))
    report = load_report(journal)

    assert resumed.exit_code == ExitCode.OK
    assert_figures_equal_the_journal(resumed, report)
    assert report.verdict.passed
    (resumption,) = report.run.resumed
    assert resumption.at == resumed.of(ev.RunResumed)[0].at
    check = report.step("failback:check")
    assert [e.error_type for e in check.errors] == ["Interrupted"]
    assert check.attempts == 2
    assert objective(report, "RTO")[0] == first.finished.rto_achieved_seconds


def test_a_tampered_journal_is_reported_as_not_verified(drill_report: tuple[Drilled, Report]) -> None:
    ran, _report = drill_report
    path = ran.result.journal
    lines = path.read_text().splitlines(keepends=True)
    data = json.loads(lines[5])
    data["at"] = "2020-01-01T00:00:00+00:00"
    lines[5] = json.dumps(data, separators=(",", ":")) + "\n"
    path.write_text("".join(lines))

    report = load_report(path)

    assert not report.journal.chain_verified
    assert "line 7" in report.journal.verification
    assert report.journal.lines == 6  # the report stands on the lines that verify
    assert report.verdict.headline == "NOT FINISHED"
    assert "hash chain NOT verified" in render(report, ReportFormat.MD)


def test_the_markdown_puts_the_verdict_first(drill_report: tuple[Drilled, Report]) -> None:
    _ran, report = drill_report

    text = render(report, ReportFormat.MD)

    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings[0] == "## Verdict"
    assert text.index("PASSED") < text.index("## Run")
    for section in ("## Phases", "## Steps: planned against actual", "## Hold probes", "## Approvals"):
        assert section in text


def test_json_names_its_schema_and_round_trips(drill_report: tuple[Drilled, Report]) -> None:
    _ran, report = drill_report

    data = json.loads(render(report, ReportFormat.JSON))

    assert data["schema"] == "drctl.report/v1"
    assert data["verdict"]["passed"] is True
    assert data["run"]["id"] == report.run.id
    assert [s["key"] for s in data["steps"]] == [s.key for s in report.steps]
    assert data["change_window"] == {
        "declared": False,
        "inside": False,
        "window": None,
        "override_reason": None,
        "next_opening": None,
        "sandbox": False,
    }


def test_reports_are_private_files(tmp_path: Path, drill_report: tuple[Drilled, Report]) -> None:
    from drctl.reports.files import write_reports

    ran, _report = drill_report
    written = write_reports(ran.result.journal)

    assert sorted(p.name for p in written) == ["report.html", "report.json", "report.md", "report.xml"]
    assert all(p.parent == ran.result.journal.parent for p in written)
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in written)


def test_a_failback_run_reports_one_phase_home(space: DrillSpace) -> None:
    from drctl.core.clock import FakeClock
    from drctl.engine.journal import read_journal
    from drctl.engine.operator import Unattended
    from drctl.engine.runplan import build_run_plan
    from drctl.engine.session import Host, RunOptions, RunRequest, start_planned
    from drctl.planning.load import load_playbook
    from drctl.playbook.enums import Mode
    from tests.drill.conftest import STEPS

    path = space.playbook(STEPS)
    plan = build_run_plan(load_playbook(path), Mode.FAILBACK, {})
    request = RunRequest(playbook=path, mode=Mode.FAILBACK, options=RunOptions(state_dir=space.state))
    result = start_planned(plan, request, Host(clock=FakeClock(), operator=Unattended()))
    ran = Drilled(result, read_journal(result.journal).events())

    report = report_of(ran)

    assert_figures_equal_the_journal(ran, report)
    assert report.verdict.passed
    (phase,) = report.phases
    assert (phase.name, phase.source, phase.target) == ("failback", "west", "east")
    assert phase.time_to_restore_seconds == objective(report, "RTO")[0]
    assert report.change_window is None
    assert report.verdict.hold is None
    assert "DR failback report: app" in render(report, ReportFormat.MD)
    junit = render(report, ReportFormat.JUNIT)
    assert re.findall(r'<testsuite name="(\w+)"', junit) == ["failback", "objectives"]
