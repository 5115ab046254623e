"""The report as one self-contained HTML page: inline CSS, the inline SVG timeline, and the same sections as the
Markdown. No script, no external stylesheet, font, image or link: it reads the same offline, in a mail client
or in an evidence archive. It is also well-formed XML (XHTML), so it can be checked by any XML parser."""

from __future__ import annotations

from html import escape

from drctl.reports.document import REHEARSAL, Section, sections, title, verdict_detail, verdict_head
from drctl.reports.gantt import notes as timeline_notes
from drctl.reports.gantt import render_gantt
from drctl.reports.model import Report

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1100px;
  color: #263238; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #cfd8dc; padding-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #cfd8dc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #eceff1; }
.verdict { font-size: 1.1em; padding: 0.6em 1em; border-radius: 4px; }
.passed { background: #e8f5e9; border-left: 6px solid #2e7d32; }
.failed { background: #ffebee; border-left: 6px solid #c62828; }
.interim { background: #fff8e1; border-left: 6px solid #f9a825; }
.rehearsal { background: #fff176; border: 2px dashed #f57f17; padding: 0.6em 1em; font-weight: bold; }
.chart { max-width: 100%; }
.chart svg { display: block; width: 100%; height: auto; }
.note { font-size: 0.9em; color: #455a64; }
td { overflow-wrap: anywhere; }
.mono, td.mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.85em; }
footer { margin-top: 2em; font-size: 0.8em; color: #607d8b; }
"""


def _e(text: str) -> str:
    return escape(text, quote=True)


def _section(section: Section) -> list[str]:
    out = [f"<h2>{_e(section.title)}</h2>"]
    out += [f"<p>{_e(p)}</p>" for p in section.paragraphs if section.title != "Verdict"]
    table = section.table
    if table is not None and table.rows:
        out.append("<table>")
        if any(table.headers):
            out.append("<tr>" + "".join(f"<th>{_e(h)}</th>" for h in table.headers) + "</tr>")
        out += ["<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in table.rows]
        out.append("</table>")
    if section.bullets:
        out.append("<ul>" + "".join(f"<li>{_e(b)}</li>" for b in section.bullets) + "</ul>")
    if section.is_empty and section.empty is not None:
        out.append(f"<p>{_e(section.empty[:1].upper() + section.empty[1:])}.</p>")
    return out


def render_html(report: Report) -> str:
    verdict = report.verdict
    kind = "passed" if verdict.passed else ("interim" if not report.run.ended else "failed")
    # a rehearsal's banner stands above the verdict: it is not evidence, whatever the verdict says
    made = sections(report)
    head = made[0]
    # the headline once, in bold, then what it is about: the Verdict section below shows its table, not the line again
    verdict_html = f"<strong>{_e(verdict_head(report))}</strong>: {_e(verdict_detail(report))}"
    out = [
        "<!DOCTYPE html>",
        '<html xmlns="http://www.w3.org/1999/xhtml" lang="en">',
        "<head>",
        '<meta charset="utf-8"/>',
        f"<title>{_e(title(report))}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(title(report))}</h1>",
        f'<p class="verdict {kind}">{verdict_html}</p>',
    ]
    if verdict.rehearsal:
        out.insert(out.index(f"<h1>{_e(title(report))}</h1>") + 1, f'<p class="rehearsal">{_e(REHEARSAL)}</p>')
    if not report.run.ended:
        out.append('<p class="interim">Interim report: the run has not ended; figures may change on resume.</p>')
    out += _section(head)
    out += [
        "<h2>Timeline</h2>",
        "<p>Each step from its actual start to its end, scaled to the run: green succeeded; red with a cross and "
        "FAILED failed; orange advisory failure; blue running; a faint dashed outline behind each bar is its budget. "
        "The RTO from T0 in dashed red, the service restored in green, DNS clients all switched in dashed purple; "
        "a drill's phases as bands. Hover for figures.</p>",
        *(f'<p class="note">{_e(note)}</p>' for note in timeline_notes(report)),
        '<div class="chart">',
        render_gantt(report),
        "</div>",
    ]
    for section in made[1:]:
        out += _section(section)
    out += [
        f"<footer>Rebuilt from the journal alone by drctl {_e(report.generated_by)} (schema {_e(report.schema)}). "
        f"Journal head sha256 {_e(report.journal.head_sha256)}.</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(out) + "\n"
