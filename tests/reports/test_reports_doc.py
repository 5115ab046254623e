"""docs/reports.md documents the JSON report field by field: the documented fields and the emitted ones agree."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Iterator
from typing import Any

from drctl.engine.events import Identity
from drctl.reports.jsonform import report_data
from drctl.reports.model import Report
from tests.conftest import ROOT
from tests.drill.conftest import Drilled

DOC = (ROOT / "docs" / "reports.md").read_text()


def documented() -> set[str]:
    match = re.search(r"^## The JSON form.*?\n(.*?)(?=^## |\Z)", DOC, re.S | re.M)
    assert match, "docs/reports.md has no JSON section"
    return set(re.findall(r"^\| `([a-z0-9_.\[\]]+)` \|", match.group(1), re.M))


def model_paths(cls: type, prefix: str = "") -> Iterator[str]:
    """Every field of the model as a path; lists as ``name[].field``; an Identity is one documented shape."""
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        name = prefix + field.name
        yield name
        hint = hints[field.name]
        if typing.get_origin(hint) in (typing.Union, types.UnionType):
            (hint,) = [a for a in typing.get_args(hint) if a is not type(None)]
        listed = typing.get_origin(hint) is tuple
        if listed:
            hint = typing.get_args(hint)[0]
        if dataclasses.is_dataclass(hint) and hint is not Identity:
            yield from model_paths(hint, name + ("[]." if listed else "."))


def emitted_paths(value: Any, prefix: str = "") -> Iterator[str]:
    """Every key of emitted JSON as a path, not descending into free-form objects (options, fact data)."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = prefix + key
            yield path
            if path not in ("run.options", "facts[].data") and key not in ("operator", "approver", "by"):
                yield from emitted_paths(item, path + ".")
    elif isinstance(value, list):
        for item in value:
            yield from emitted_paths(item, prefix[:-1] + "[].")


def test_every_field_of_the_report_is_documented_and_nothing_else() -> None:
    fields = set(model_paths(Report))
    docs = documented()
    assert fields - docs == set(), "fields missing from docs/reports.md"
    assert docs - fields == set(), "docs/reports.md documents fields the report does not have"


def test_the_emitted_json_has_exactly_the_documented_fields(
    failover_report: tuple[Drilled, Report], drill_report: tuple[Drilled, Report]
) -> None:
    seen: set[str] = set()
    for _ran, report in (failover_report, drill_report):
        seen |= set(emitted_paths(report_data(report)))
    assert seen - documented() == set(), "emitted but not documented"
    # every field outside lists is always emitted (lists may be empty; their items are the model's, checked above)
    assert {p for p in documented() if "[]" not in p} - seen == set()
    assert {"steps[].errors[].error", "messages[].message_id", "dns[].clients_switch_by", "probes[].ok"} <= seen
