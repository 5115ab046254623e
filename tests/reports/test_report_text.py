"""What the human forms say and how they quote: one verdict line at the top, outside text shown literally in
Markdown (rendered by a CommonMark parser to prove it) and in HTML, figures and counts in words."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from markdown_it import MarkdownIt

from drctl.reports.html import render_html
from drctl.reports.markdown import render_markdown
from drctl.text import markdown_text, milliseconds, path_text, plural
from tests.reports.crafted import S, crafted, with_outside_text

XHTML = "{http://www.w3.org/1999/xhtml}"
HOSTILE = "<script>alert(1)</script> a | b *bold* _under_ `code` [link](https://evil.example) &amp; <img src=x>"


def markdown_to_html(text: str) -> str:
    return MarkdownIt("commonmark").enable("table").enable("strikethrough").render(text)


@pytest.mark.parametrize("passed", [True, False])
def test_the_html_header_says_the_verdict_once(passed: bool) -> None:
    report = crafted([S("promote", 0, 20, state="succeeded" if passed else "failed")], passed=passed)
    page = render_html(report)

    root = ET.fromstring(page)  # noqa: S314 - drctl's own output under test
    (header,) = [p for p in root.iter(f"{XHTML}p") if "verdict" in (p.get("class") or "")]
    said = "".join(header.itertext())
    headline = report.verdict.headline
    assert said.count(headline) == 1, said
    assert said.startswith(f"{headline} (exit {report.verdict.exit_code}): failover of wallet-platform")
    assert f"{headline} {headline}" not in page


def test_markdown_quotes_outside_text_literally() -> None:
    report = with_outside_text(crafted([S("promote", 0, 20), S("dns", 20, 30)], passed=False), HOSTILE)
    text = render_markdown(report)
    html = markdown_to_html(text)

    assert "<script" not in html
    assert "<img" not in html
    assert "<em>" not in html
    assert "<strong>bold" not in html
    assert "<code>" not in html
    assert 'href="https://evil.example"' not in html
    # the words arrive as text, every one of them
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "*bold* _under_ `code` [link](https://evil.example) &amp;amp;" in html
    # a | inside a quoted text does not split its table cell: every row has as many cells as its header
    for table in re.findall(r"<table>.*?</table>", html, flags=re.S):
        widths = {len(re.findall(r"<t[hd]>", row)) for row in re.findall(r"<tr>.*?</tr>", table, flags=re.S)}
        assert len(widths) == 1, table


def test_html_quotes_the_same_outside_text_as_text() -> None:
    report = with_outside_text(crafted([S("promote", 0, 20), S("dns", 20, 30)], passed=False), HOSTILE)
    page = render_html(report)

    root = ET.fromstring(page)  # noqa: S314 - drctl's own output under test
    tags = {element.tag.rsplit("}", 1)[-1] for element in root.iter()}
    assert not tags & {"script", "img", "a", "em", "code"}
    body = "".join(root.itertext())
    assert body.count(HOSTILE) >= 8  # reasons, error, approval, message, DNS, operator, playbook...


def test_markdown_text_escapes_what_would_be_markup() -> None:
    assert markdown_text("a | b") == "a \\| b"
    assert markdown_text("<b>x</b>") == "\\<b>x\\</b>"
    assert markdown_text("`x` *y* _z_ ~w~") == "\\`x\\` \\*y\\* \\_z\\_ \\~w\\~"
    assert markdown_text("# not a heading") == "\\# not a heading"
    assert markdown_text("1. not a list") == "1\\. not a list"
    assert markdown_text("east -> west & back, <= 15m") == "east -> west & back, <= 15m"  # plain text stays plain
    assert markdown_text("line one\nline two") == "line one line two"


def test_plurals_agree_with_their_counts() -> None:
    assert plural(1, "web app") == "1 web app"
    assert plural(2, "web app") == "2 web apps"
    assert plural(0, "record") == "0 records"
    assert plural(1, "probe") == "1 probe"
    assert plural(3, "entry") == "3 entries"
    assert plural(2, "match") == "2 matches"
    assert plural(2000, "step") == "2,000 steps"
    assert plural(2, "person", "people") == "2 people"


def test_a_missing_figure_reads_in_words() -> None:
    assert milliseconds(None) == "unmeasured"
    assert milliseconds(None, missing="no response") == "no response"
    assert milliseconds(6.2) == "6 ms"
    assert milliseconds(0.4) == "0.4 ms"


def test_a_long_path_is_shown_by_its_ends() -> None:
    short = ["a", "b", "c"]
    assert path_text(short) == "a -> b -> c"
    long = [f"step-{n}" for n in range(2000)]
    shown = path_text(long)
    assert shown.startswith("step-0 -> step-1 -> step-2 -> step-3 -> ... (1,992 more steps) -> step-1996")
    assert shown.endswith("step-1999")
    assert len(shown) < 200


def test_a_hold_of_one_probe_and_a_journal_of_one_line_say_so() -> None:
    from dataclasses import replace

    from drctl.reports.document import verdict_line
    from drctl.reports.model import HoldResult

    report = crafted([S("promote", 0, 20)], mode="drill")
    hold = HoldResult(
        url="https://x.example/healthz", planned_seconds=60, held_seconds=60, probes=1, failed=0, passed=True
    )
    report = replace(report, verdict=replace(report.verdict, hold=hold), journal=replace(report.journal, lines=1))

    assert "hold 1m: 1 probe, 0 failed" in verdict_line(report)
    assert "| Journal | 1 line, hash chain verified" in render_markdown(report)
