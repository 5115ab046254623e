"""The HTML timeline, on reports made by hand: scaled to the run (a 30-second rehearsal and a 50-minute failover
both fill it), budgets as context, a failed step unmistakable without colour, no two labels overlapping, and a
drawing that scales to the page (a viewBox, no fixed width beyond 900)."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest

from drctl.reports.gantt import LABEL, WIDTH, render_gantt
from drctl.reports.model import Report
from tests.reports.crafted import S, crafted, phase

SVG = "{http://www.w3.org/2000/svg}"
#: the widest an 11 px sans-serif character is drawn (a capital W is about 10 px; our labels are not all W)
CHAR = 6.8
FONT = 11.0


@dataclass(frozen=True)
class Box:
    text: str
    x0: float
    x1: float
    y0: float
    y1: float

    def overlaps(self, other: Box) -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1


def svg_of(report: Report) -> ET.Element:
    return ET.fromstring(render_gantt(report))  # noqa: S314 - drctl's own output under test


def boxes(svg: ET.Element) -> list[Box]:
    out = []
    for text in svg.iter(f"{SVG}text"):
        words = text.text or ""
        x, y = float(text.get("x", "0")), float(text.get("y", "0"))
        width = CHAR * len(words)
        anchor = text.get("text-anchor", "start")
        x0 = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
        out.append(Box(words, x0, x0 + width, y - FONT, y + 3))
    return out


def assert_no_label_overlaps(svg: ET.Element) -> None:
    placed = boxes(svg)
    for a, b in itertools.combinations(placed, 2):
        assert not a.overlaps(b), f"{a} overlaps {b}"
    for box in placed:
        assert box.x0 >= 0, f"{box} leaves the drawing"
        assert box.x1 <= WIDTH, f"{box} leaves the drawing"


def bar(svg: ET.Element, key: str) -> ET.Element:
    (found,) = [
        r for r in svg.iter(f"{SVG}rect") if re.match(rf"{re.escape(key)}: \w+, T\+", r.findtext(f"{SVG}title") or "")
    ]
    return found


def span(rect: ET.Element) -> tuple[float, float]:
    x = float(rect.get("x", "0"))
    return x, x + float(rect.get("width", "0"))


#: a sandbox rehearsal of 36 seconds whose budgets are minutes; ``check`` fails after one second
SANDBOX = [
    S("announce", 0.0, 0.4, budget=10),
    S("promote", 0.5, 20.0, budget=600),
    S("start-apps", 0.5, 8.0, budget=300),
    S("check", 20.0, 21.0, budget=120, state="failed", error="status 503"),
    S("dns-swap", 21.0, 33.0, budget=300),
    S("announce-done", 33.0, 36.0, budget=10),
]


def test_a_30_second_rehearsal_fills_the_chart_and_says_its_budgets_go_far_past_it() -> None:
    report = crafted(SANDBOX, end=36.0, passed=False)
    svg = svg_of(report)

    first, last = span(bar(svg, "announce")), span(bar(svg, "announce-done"))
    plot = WIDTH - LABEL
    assert first[0] == pytest.approx(LABEL)
    # the run reaches across the chart, not its first 5 % (budgets that fit within half as much again widen it)
    assert last[1] - LABEL > 0.66 * plot
    promote = span(bar(svg, "promote"))
    assert promote[1] - promote[0] > 0.4 * plot
    # budgets are context: cut at the right edge with an arrow head, and said
    assert list(svg.iter(f"{SVG}polygon"))
    from drctl.reports.gantt import notes

    assert any(n.startswith("Budgets run to T+10m") for n in notes(report))
    assert any(n.startswith("The RTO (1h) lies far beyond the run") for n in notes(report))
    assert_no_label_overlaps(svg)


def test_a_failed_step_is_a_visible_bar_with_a_cross_and_the_word_failed() -> None:
    svg = svg_of(crafted(SANDBOX, end=36.0, passed=False))

    x0, x1 = span(bar(svg, "check"))
    assert x1 - x0 >= 10  # one second of 36 is a bar, not a tick
    y = float(bar(svg, "check").get("y", "0"))
    row = [t for t in svg.iter(f"{SVG}text") if abs(float(t.get("y", "0")) - (y + 9)) < 4 and t.get("x") != "4"]
    assert [t.text for t in row] == ["FAILED"]  # the word, not colour alone
    crosses = [p for p in svg.iter(f"{SVG}path") if y <= float(re.split(r"[, ]", p.get("d", ""))[1]) + 4 <= y + 18]
    assert crosses  # and a shape
    # succeeded steps carry no word and no cross
    assert [t.text for t in svg.iter(f"{SVG}text")].count("FAILED") == 1
    assert len(list(svg.iter(f"{SVG}path"))) == 1


def test_a_50_minute_failover_is_readable_with_its_budgets_and_rto_to_scale() -> None:
    steps = [
        S("announce", 0, 2, budget=10),
        S("assess-source", 2, 300, budget=600),
        S("promote-database", 300, 1500, budget=1800),
        S("start-web-apps", 300, 900, budget=900),
        S("scale-workers", 300, 1200, budget=900),
        S("target-health", 1500, 1700, budget=300, state="failed", advisory=True, error="p95 over 2s"),
        S("dns-swap", 1700, 2400, budget=900),
        S("post-failover-monitoring", 2400, 3000, budget=900),
    ]
    report = crafted(steps, rto=3600, end=3000, restored=2700)
    svg = svg_of(report)

    # the RTO (1h) is within half as much again as the run: a line on the chart, and the budgets fit too
    rto_lines = [line for line in svg.iter(f"{SVG}line") if line.findtext(f"{SVG}title") == "RTO 1h"]
    assert len(rto_lines) == 1
    assert not list(svg.iter(f"{SVG}polygon"))
    last = span(bar(svg, "post-failover-monitoring"))
    assert last[1] - LABEL > 0.6 * (WIDTH - LABEL)
    assert "advisory failure" in [t.text for t in svg.iter(f"{SVG}text")]
    assert_no_label_overlaps(svg)


def test_the_drawing_scales_to_the_page() -> None:
    svg = svg_of(crafted(SANDBOX, end=36.0))

    assert svg.get("width") == "100%"
    assert re.fullmatch(r"0 0 900 \d+", svg.get("viewBox", ""))
    assert svg.get("height") is None
    widths = [float(w) for e in svg.iter() if (w := e.get("width")) and not w.endswith("%")]
    assert max(widths) <= 900


def test_narrow_phases_long_names_and_marks_do_not_overlap() -> None:
    long = "a-step-whose-identifier-is-much-longer-than-the-label-column-can-show"
    steps = [
        S(long, 0, 10, budget=60, phase="failover"),
        S("cutover", 10, 12, budget=60, phase="failover"),
        S("hold", 12, 13, budget=600, phase="hold"),
        S("failback:promote", 13, 25, budget=60, phase="failback"),
        S("failback:cutover", 25, 30, budget=60, phase="failback", state="failed", timed_out=True),
    ]
    phases = (phase("failover", 0, 12), phase("hold", 12, 13), phase("failback", 13, 30, "west", "east"))
    report = crafted(steps, end=30, rto=40, mode="drill", restored=12, phases=phases, passed=False)
    svg = svg_of(report)

    assert_no_label_overlaps(svg)
    texts = [t.text or "" for t in svg.iter(f"{SVG}text")]
    assert "failover" in texts
    assert "failback" in texts
    assert any(t.endswith("\u2026") and long.startswith(t[:-1]) for t in texts)  # cut with an ellipsis
    assert "FAILED, timed out" in texts
    # every band still names its phase in a tooltip
    titles = [t.text or "" for t in svg.iter(f"{SVG}title")]
    assert {"failover: east -> west", "hold: east -> west", "failback: west -> east"} <= set(titles)


def test_a_declared_t0_long_before_the_run_starts_the_chart_at_the_run() -> None:
    steps = [S("promote", 7200, 7500), S("dns-swap", 7500, 7800)]
    report = crafted(steps, end=7800, rto=14400)
    svg = svg_of(report)

    assert span(bar(svg, "promote"))[1] - span(bar(svg, "promote"))[0] > 0.3 * (WIDTH - LABEL)
    from drctl.reports.gantt import notes

    assert any(n.startswith("T0 is 2h before the first step") for n in notes(report))
    assert_no_label_overlaps(svg)


@pytest.mark.parametrize("seconds", [0.5, 7, 36, 3000, 6 * 3600 + 17, 20 * 86400])
def test_axis_labels_stand_apart_at_any_span(seconds: float) -> None:
    steps = [S("first", 0, seconds / 3, budget=seconds), S("second", seconds / 3, seconds, budget=seconds / 2)]
    svg = svg_of(crafted(steps, end=seconds, rto=seconds * 1.2))

    ticks = [t for t in svg.iter(f"{SVG}text") if (t.text or "").startswith("T+")]
    assert len(ticks) >= 2
    assert_no_label_overlaps(svg)
