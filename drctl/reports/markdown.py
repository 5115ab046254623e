"""The report as Markdown: the same document as the HTML page, without the chart (tables carry the timeline)."""

from __future__ import annotations

from drctl.reports.document import REHEARSAL, Section, sections, title
from drctl.reports.model import Report


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def _section(section: Section) -> list[str]:
    out = [f"## {section.title}", ""]
    out += [p for paragraph in section.paragraphs for p in (paragraph, "")]
    table = section.table
    if table is not None and table.rows:
        out.append("| " + " | ".join(_cell(h) for h in table.headers) + " |")
        out.append("|" + "---|" * len(table.headers))
        out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
        out.append("")
    if section.bullets:
        out += [f"- {_cell(b)}" for b in section.bullets]
        out.append("")
    if section.is_empty and section.empty is not None:
        out += [section.empty[:1].upper() + section.empty[1:] + ".", ""]
    return out


def render_markdown(report: Report) -> str:
    out = [f"# {title(report)}", ""]
    if report.verdict.rehearsal:
        out += [f"> **{REHEARSAL}**", ""]
    if not report.run.ended:
        out += ["> **Interim report**: the run has not ended; figures may change when it is resumed.", ""]
    for section in sections(report):
        out += _section(section)
    out.append(f"Rebuilt from the journal alone by drctl {report.generated_by} (schema {report.schema}).")
    return "\n".join(out) + "\n"
