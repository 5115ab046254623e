"""The report as JSON (``drctl.report/v1``): the report model as it is, field for field (docs/reports.md)."""

from __future__ import annotations

import json
from typing import Any

from drctl.engine.codec import to_data
from drctl.reports.model import Report


def report_data(report: Report) -> dict[str, Any]:
    data = to_data(report)
    assert isinstance(data, dict)
    return data


def render_json(report: Report) -> str:
    return json.dumps(report_data(report), indent=2, ensure_ascii=False) + "\n"
