"""The HTML page is well-formed and references nothing external; the JUnit XML validates against the JUnit schema
(tests/reports/junit.xsd) and has a testcase per step and per objective."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from drctl.errors import ExitCode
from drctl.reports.files import render
from drctl.reports.formats import ReportFormat
from drctl.reports.model import Report
from tests.drill.conftest import STEPS, Drilled, DrillSpace, drill_plan, run_drill
from tests.reports.conftest import report_of, run_failover

SCHEMA = xmlschema.XMLSchema(Path(__file__).with_name("junit.xsd"))
XHTML = "{http://www.w3.org/1999/xhtml}"
SVG = "{http://www.w3.org/2000/svg}"

#: elements that fetch or run something
FETCHING = {"script", "link", "img", "iframe", "object", "embed", "audio", "video", "source", "base", "form", "image"}
#: attributes whose value is a reference
REFERENCES = {"href", "src", "action", "data", "poster", "srcset", "background", "formaction", "xlink:href"}

HOSTILE = STEPS.replace(
    'with: {file: "{record}", sleep: 30s}',
    'with: {file: "{record}", sleep: 30s, say: "<script>alert(1)</script> <img src=https://evil.example/x.png> '
    "]]> & url(https://evil.example/f.woff) @import 'https://evil.example/s.css';\"}",
)


def parse(text: str) -> ET.Element:
    """Our own report, parsed strictly as XML: a parse error is a test failure."""
    return ET.fromstring(text)  # noqa: S314 - the text is drctl's own output under test, not untrusted input


def local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def assert_references_nothing_external(page: str) -> None:
    root = parse(page)  # well-formed XML, DOCTYPE and all
    assert root.tag == f"{XHTML}html"
    for element in root.iter():
        assert local(element.tag) not in FETCHING, element.tag
        for name, value in element.attrib.items():
            attribute = local(name)
            assert not attribute.startswith("on"), f"event handler {name}"
            if attribute in REFERENCES or name.endswith("}href"):
                assert value.startswith("#"), f"{element.tag} {name}={value}"
            assert "url(" not in value or "url(#" in value, value
        if local(element.tag) == "style":
            css = element.text or ""
            assert "@import" not in css
            assert "url(" not in css
            assert "@font-face" not in css


@pytest.fixture
def hostile_report(space: DrillSpace) -> Report:
    return report_of(run_drill(drill_plan(space.playbook(HOSTILE)), space))


def test_the_html_page_is_well_formed_and_references_nothing_external(hostile_report: Report) -> None:
    page = render(hostile_report, ReportFormat.HTML)

    assert page.startswith("<!DOCTYPE html>")
    assert_references_nothing_external(page)
    # the action's words are shown as text, never as markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page


def test_the_html_timeline_is_an_inline_svg_gantt_against_the_rto(drill_report: tuple[Drilled, Report]) -> None:
    _ran, report = drill_report
    root = parse(render(report, ReportFormat.HTML))

    (svg,) = list(root.iter(f"{SVG}svg"))
    titles = [t.text or "" for t in svg.iter(f"{SVG}title")]
    for step in report.steps:
        assert any(t.startswith(f"{step.key}: succeeded, T+") for t in titles), step.key
        assert any(t.startswith(f"{step.key}: budget ") for t in titles), step.key
    # the RTO (1h) is far beyond the drill's span: marked at the chart's edge, not squashing the bars
    assert "RTO 1h ->" in [t.text for t in svg.iter(f"{SVG}text")]
    assert any(t.startswith("restored T+") for t in titles)
    bands = [t for t in titles if re.match(r"^(failover|hold|failback): \w+ -> \w+$", t)]
    assert bands == ["failover: east -> west", "hold: east -> west", "failback: west -> east"]
    texts = [t.text or "" for t in svg.iter(f"{SVG}text")]
    assert "T+0s" in texts


def test_an_rto_within_reach_is_a_line_across_the_chart(space: DrillSpace) -> None:
    # the drill takes about 22 minutes: an RTO within half as much again is drawn to scale
    report = report_of(run_drill(drill_plan(space.playbook(rto="30m")), space))
    svg = next(parse(render(report, ReportFormat.HTML)).iter(f"{SVG}svg"))

    (line,) = [e for e in svg.iter(f"{SVG}line") if (e.findtext(f"{SVG}title") or "") == "RTO 30m"]
    assert line.get("stroke") == "#c62828"


def test_a_failover_page_has_no_phase_bands_but_the_clients_switch_line(
    failover_report: tuple[Drilled, Report],
) -> None:
    _ran, report = failover_report
    page = render(report, ReportFormat.HTML)

    assert_references_nothing_external(page)
    svg = next(parse(page).iter(f"{SVG}svg"))
    titles = [t.text or "" for t in svg.iter(f"{SVG}title")]
    assert "DNS clients switched by T+1h04m ->" in [t.text for t in svg.iter(f"{SVG}text")]
    assert not [t for t in titles if re.match(r"^(failover|hold|failback): \w+ -> \w+$", t)]


def cases(xml: str) -> dict[str, ET.Element]:
    return {c.get("name", ""): c for c in parse(xml).iter("testcase")}


def test_a_passed_drills_junit_validates_with_a_testcase_per_step_and_objective(
    drill_report: tuple[Drilled, Report],
) -> None:
    _ran, report = drill_report
    xml = render(report, ReportFormat.JUNIT)

    SCHEMA.validate(xml)
    root = parse(xml)
    assert [s.get("name") for s in root.iter("testsuite")] == ["failover", "hold", "failback", "objectives"]
    found = cases(xml)
    assert set(found) == {s.key for s in report.steps} | {"RTO", "RPO", "MTTR"}
    assert root.get("failures") == "0"
    assert found["RPO"].find("skipped") is not None  # not measured
    assert float(found["failover:promote"].get("time", "")) == report.step("failover:promote").actual_seconds
    assert root.get("tests") == str(len(found))


def test_a_failed_hold_is_a_junit_failure_and_the_failback_still_passes(space: DrillSpace) -> None:
    space.health.script["/west"] = [503]
    report = report_of(run_drill(drill_plan(space.playbook()), space))
    xml = render(report, ReportFormat.JUNIT)

    SCHEMA.validate(xml)
    found = cases(xml)
    failure = found["hold"].find("failure")
    assert failure is not None
    assert "probe 1" in failure.get("message", "")
    assert found["failback:cutover"].find("failure") is None
    assert parse(xml).get("failures") == "1"


def test_an_aborted_runs_junit_marks_unreached_steps_skipped(space: DrillSpace) -> None:
    steps = STEPS.replace('with: {file: "{record}", sleep: 30s}', 'with: {file: "{record}", fail: true}')
    ran = run_drill(drill_plan(space.playbook(steps)), space)
    assert ran.exit_code == ExitCode.STEP_FAILED
    report = report_of(ran)

    xml = render(report, ReportFormat.JUNIT)

    SCHEMA.validate(xml)
    found = cases(xml)
    assert found["failover:check"].find("failure") is not None
    assert found["failover:cutover"].find("skipped") is not None
    assert found["hold"].find("skipped") is not None
    assert found["RTO"].find("failure") is not None  # never restored
    assert report.verdict.headline == "FAILED"


def test_every_form_of_the_evidence_report_is_valid(failover_report: tuple[Drilled, Report]) -> None:
    _ran, report = failover_report

    SCHEMA.validate(render(report, ReportFormat.JUNIT))
    assert_references_nothing_external(render(report, ReportFormat.HTML))
    advisory = cases(render(report, ReportFormat.JUNIT))["announce-exec"]
    assert advisory.find("failure") is None
    assert "advisory failure" in (advisory.findtext("system-out") or "")


def test_an_interim_junit_validates(space: DrillSpace) -> None:
    from drctl.engine import events as ev
    from drctl.reports.build import load_report
    from tests.drill.conftest import cut_journal_after

    ran = run_failover(space)
    cut_journal_after(ran.result.journal, lambda e: isinstance(e, ev.StepStarted) and e.step == "promote")
    report = load_report(ran.result.journal)

    xml = render(report, ReportFormat.JUNIT)

    SCHEMA.validate(xml)
    promote = cases(xml)["promote"]
    assert promote.find("skipped") is not None
    assert report.verdict.headline == "NOT FINISHED"
