"""docs/journal.md stays true to events.py: every event type has a section naming every one of its fields."""

from __future__ import annotations

import dataclasses
import re

import pytest

from drctl.engine import events as ev
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "journal.md").read_text()


@pytest.mark.parametrize("kind", sorted(ev.event_types()))
def test_every_event_type_and_field_is_documented(kind: str) -> None:
    match = re.search(rf"^### {re.escape(kind)}\n(.*?)(?=^### |^## |\Z)", DOC, re.S | re.M)
    assert match, f"docs/journal.md has no section '### {kind}'"
    for field in dataclasses.fields(ev.event_types()[kind]):
        if field.name != "at":
            assert f"`{field.name}`" in match.group(1), f"{kind}: field {field.name} is not documented"


@pytest.mark.parametrize("shape", [ev.Identity, ev.StepInfo, ev.Holder, ev.DrillInfo, ev.PhaseInfo, ev.WindowCheck])
def test_every_shared_shape_is_documented(shape: type) -> None:
    for field in dataclasses.fields(shape):
        assert re.search(rf"\{{[^}}]*\b{field.name}\b[^}}]*\}}", DOC), f"{shape.__name__}.{field.name}"
