"""The docs stay true to the code: every action parameter, model field and exit code is documented."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel

from drctl.actions import registry
from drctl.errors import ExitCode
from drctl.playbook import model
from tests.conftest import ROOT

PLAYBOOK_DOC = (ROOT / "docs" / "playbook.md").read_text()
EXIT_DOC = (ROOT / "docs" / "exit-codes.md").read_text()


def action_section(name: str) -> str:
    match = re.search(rf"^### {re.escape(name)}\n(.*?)(?=^### |^## |\Z)", PLAYBOOK_DOC, re.S | re.M)
    assert match, f"docs/playbook.md has no section '### {name}'"
    return match.group(1)


@pytest.mark.parametrize("name", registry.names())
def test_every_action_parameter_is_documented_with_its_default(name: str) -> None:
    section = action_section(name)
    spec = registry.ACTIONS[name]
    for field, info in spec.params.model_fields.items():
        assert f"`{info.alias or field}`" in section, f"{name}: parameter {field} is not documented"
    assert ("Mutating" in section) == spec.mutating, f"{name}: say whether it mutates"


def test_every_playbook_field_is_documented() -> None:
    classes = [c for c in vars(model).values() if isinstance(c, type) and issubclass(c, BaseModel)]
    for cls in classes:
        for field, info in cls.model_fields.items():
            name = re.escape(info.alias or field)
            # a field may stand alone (`rto`) or inside a shape (`{server, failover_group, databases}`)
            documented = re.search(rf"`[^`\n]*(?<![\w-]){name}(?![\w-])[^`\n]*`", PLAYBOOK_DOC)
            assert documented, f"{cls.__name__}.{field} is not in docs/playbook.md"


@pytest.mark.parametrize("code", list(ExitCode), ids=lambda c: c.name)
def test_every_exit_code_is_documented(code: ExitCode) -> None:
    assert re.search(rf"^\| {int(code)} \| `{code.name}` \|", EXIT_DOC, re.M), code
