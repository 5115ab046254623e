"""The report formats, apart from the renderers so that the command line can name them without importing any."""

from __future__ import annotations

from enum import StrEnum


class ReportFormat(StrEnum):
    MD = "md"
    HTML = "html"
    JSON = "json"
    JUNIT = "junit"

    @property
    def file_name(self) -> str:
        return {"md": "report.md", "html": "report.html", "json": "report.json", "junit": "report.xml"}[self.value]
