"""Open risks in every report form: an item of the old primary left unfenced is said right after the verdict (with
the command that closes it), listed with every fencing outcome, and fails its JUnit testcase; once fenced, it is
not. The figure is the journal's (``replay.open_risks``); ``build_report`` carries it as it is."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace

from drctl.reports.html import render_html
from drctl.reports.jsonform import render_json
from drctl.reports.junit import render_junit
from drctl.reports.markdown import render_markdown
from drctl.reports.model import FenceRecord, OpenRisk, Report
from drctl.reports.summary import run_line
from tests.reports.crafted import S, at, crafted


def _suites(report: Report) -> list[ET.Element]:
    return list(ET.fromstring(render_junit(report)))  # noqa: S314 - drctl's own output under test


DOWN = "region au-east did not let it be fenced: 503 ServiceUnavailable"


def _fenced(*, closed: bool) -> Report:
    report = crafted([S("promote", 0, 20), S("fence", 20, 30)])
    first = [
        FenceRecord("fence", at(25), "web_app", "app-aue", "au-east", False, DOWN, "step"),
        FenceRecord("fence", at(25), "scale_set", "vmss-aue", "au-east", True, "capacity 6 -> 0, verified", "step"),
    ]
    later = [FenceRecord("fence", at(900), "web_app", "app-aue", "au-east", True, "stopped", "fence")]
    risks = () if closed else (OpenRisk("web_app", "app-aue", "au-east", DOWN, "fence", at(25)),)
    return replace(report, fencing=tuple(first + (later if closed else [])), open_risks=risks)


def test_an_open_risk_is_said_after_the_verdict_in_markdown_and_html() -> None:
    report = _fenced(closed=False)
    markdown = render_markdown(report)
    assert markdown.index("## Open risks") < markdown.index("## Run")
    assert "app-aue in au-east is NOT FENCED" in markdown
    assert "Once au-east answers again" in markdown
    assert f"drctl fence {report.run.id}" in markdown
    assert "## Fencing" in markdown
    html = render_html(report)
    assert "Open risks" in html
    assert "NOT FENCED" in html


def test_json_and_junit_carry_the_open_risk() -> None:
    report = _fenced(closed=False)
    data = json.loads(render_json(report))
    assert [r["name"] for r in data["open_risks"]] == ["app-aue"]
    assert len(data["fencing"]) == 2
    suite = next(s for s in _suites(report) if s.get("name") == "fencing")
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    failed = [c.get("name") for c in suite if c.find("failure") is not None]
    assert failed == ["web_app app-aue (au-east)"]
    assert "[OPEN RISK: 1 unfenced]" in run_line(report).verdict


def test_once_fenced_no_risk_remains_in_any_form() -> None:
    report = _fenced(closed=True)
    markdown = render_markdown(report)
    assert "None: every item fenced." in markdown
    assert "is NOT FENCED" not in markdown
    suite = next(s for s in _suites(report) if s.get("name") == "fencing")
    assert (suite.get("tests"), suite.get("failures")) == ("2", "0")
    assert json.loads(render_json(report))["open_risks"] == []
    assert "OPEN RISK" not in run_line(report).verdict


def test_a_run_that_fenced_nothing_has_no_fencing_sections() -> None:
    report = crafted([S("promote", 0, 20)])
    markdown = render_markdown(report)
    assert "Open risks" not in markdown
    assert "Fencing" not in markdown
    assert all(s.get("name") != "fencing" for s in _suites(report))
