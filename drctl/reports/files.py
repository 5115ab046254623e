"""Reports on disk: every format written into the run's directory (``report.md``, ``report.html``,
``report.json``, ``report.xml``), each atomically (write, fsync, rename) and private (0600) like the journal."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from drctl.reports.formats import ReportFormat

if TYPE_CHECKING:
    from drctl.reports.model import Report


def render(report: Report, fmt: ReportFormat) -> str:
    """The report in one format (each renderer imported only when asked for)."""
    if fmt is ReportFormat.MD:
        from drctl.reports.markdown import render_markdown

        return render_markdown(report)
    if fmt is ReportFormat.HTML:
        from drctl.reports.html import render_html

        return render_html(report)
    if fmt is ReportFormat.JSON:
        from drctl.reports.jsonform import render_json

        return render_json(report)
    from drctl.reports.junit import render_junit

    return render_junit(report)


def write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        data = text.encode()
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)


def write_reports(journal: Path) -> list[Path]:
    """Build the report from ``journal`` and write every format beside it; the paths written."""
    from drctl.reports.build import load_report

    report = load_report(journal)
    written = []
    for fmt in ReportFormat:
        path = journal.parent / fmt.file_name
        write_atomically(path, render(report, fmt))
        written.append(path)
    return written
