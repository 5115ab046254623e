"""The report as Markdown: the same document as the HTML page, without the chart (tables carry the timeline).

Every word of the document is text, much of it from outside drctl (approval reasons, Azure error texts, message
titles, resource names, identities): each is escaped (``drctl.text.markdown_text``) so that it reads literally,
never as markup, a table cell or raw HTML. The only markup is this module's own."""

from __future__ import annotations

from drctl.reports.document import REHEARSAL, Section, sections, title
from drctl.reports.model import Report
from drctl.text import markdown_text as md


def _section(section: Section) -> list[str]:
    out = [f"## {md(section.title)}", ""]
    out += [p for paragraph in section.paragraphs for p in (md(paragraph), "")]
    table = section.table
    if table is not None and table.rows:
        out.append("| " + " | ".join(md(h) for h in table.headers) + " |")
        out.append("|" + "---|" * len(table.headers))
        out += ["| " + " | ".join(md(c).strip() for c in row) + " |" for row in table.rows]
        out.append("")
    if section.bullets:
        out += [f"- {md(b)}" for b in section.bullets]
        out.append("")
    if section.is_empty and section.empty is not None:
        out += [md(section.empty[:1].upper() + section.empty[1:] + "."), ""]
    return out


def render_markdown(report: Report) -> str:
    out = [f"# {md(title(report))}", ""]
    if report.verdict.rehearsal:
        out += [f"> **{md(REHEARSAL)}**", ""]
    if not report.run.ended:
        out += ["> **Interim report**: the run has not ended; figures may change when it is resumed.", ""]
    for section in sections(report):
        out += _section(section)
    out.append(md(f"Rebuilt from the journal alone by drctl {report.generated_by} (schema {report.schema})."))
    return "\n".join(out) + "\n"
