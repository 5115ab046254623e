"""docs/sandbox.md stays true to the code: every operation kind, fault kind, estate field and admin route."""

from __future__ import annotations

import importlib
import re

import pytest
from pydantic import BaseModel

from drctl.sandbox import estate
from drctl.sandbox.admin import AdminApi
from drctl.sandbox.estate_checks import VARIABLE_FIELDS
from drctl.sandbox.faults import FAULT_KINDS
from drctl.sandbox.ops import OpKind
from drctl.sandbox.registry import PROVIDERS
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "sandbox.md").read_text()


@pytest.mark.parametrize("op", [op.value for op in OpKind])
def test_every_operation_kind_is_documented(op: str) -> None:
    assert f"| `{op}` |" in DOC


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_every_fault_kind_is_documented(kind: str) -> None:
    assert f"| `{kind}` |" in DOC


def test_every_estate_field_is_documented() -> None:
    # the estate file is composed of the shared part (estate.py) and every provider's section (its model.py)
    modules = [estate, *(importlib.import_module(f"drctl.sandbox.providers.{p.name}.model") for p in PROVIDERS)]
    models = [
        m for module in modules for m in vars(module).values() if isinstance(m, type) and issubclass(m, BaseModel)
    ]
    assert any(m.__name__ == "ScaleSet" for m in models)
    for model in models:
        for field in model.model_fields:
            assert re.search(rf"(?<![\w]){re.escape(field)}(?![\w])", DOC), f"{model.__name__}.{field}"


def test_every_variable_placeholder_is_documented() -> None:
    for name in VARIABLE_FIELDS:
        assert f"`{{{name}}}`" in DOC


def test_every_admin_route_is_documented() -> None:
    api = AdminApi.__new__(AdminApi)
    AdminApi.__init__(api, host=None, token="x")  # type: ignore[arg-type]
    rows = [line for line in DOC.splitlines() if line.startswith("| ")]
    for method, shape, _ in api._routes:
        path = "/" + "/".join(shape)
        pattern = re.compile("`" + re.escape(path).replace(r"\*", r"\{[a-z]+\}") + r"[`?]")
        assert any(row.split("|")[1].strip().startswith(method) and pattern.search(row) for row in rows), (
            f"{method} {path}"
        )
