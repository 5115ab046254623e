"""Every registered action can run: its implementation string resolves, a mutating action can be resumed (a
done-check) and reviewed (a preflight), and its family has unit tests here that use it."""

from __future__ import annotations

from typing import Any

import pytest

from drctl.actions import registry
from drctl.actions.base import ActionSpec
from drctl.actions.runtime import Implementation, load_implementation
from tests.conftest import ROOT

TESTS = ROOT / "tests" / "actions"


def _specs() -> list[ActionSpec[Any]]:
    return [registry.ACTIONS[name] for name in sorted(registry.ACTIONS)]


@pytest.mark.parametrize("spec", _specs(), ids=lambda s: s.name)
def test_every_implementation_string_resolves(spec: ActionSpec[Any]) -> None:
    assert spec.implementation is not None, f"{spec.name} names no implementation"
    implementation = load_implementation(spec)
    assert isinstance(implementation, Implementation)
    assert callable(implementation.run)


@pytest.mark.parametrize("spec", [s for s in _specs() if s.mutating], ids=lambda s: s.name)
def test_every_mutating_action_has_a_done_check_and_a_preflight(spec: ActionSpec[Any]) -> None:
    implementation = load_implementation(spec)
    assert implementation is not None
    # without a done-check resume cannot tell a finished change from one to make; without a preflight
    # plan --preflight cannot show what the change would meet
    assert implementation.done is not None, f"{spec.name} has no done-check"
    assert implementation.preflight is not None, f"{spec.name} has no preflight"


def test_the_mutating_actions_are_the_ones_expected() -> None:
    # a guard on the test above: an action made mutating by its parameters (``mutates``) must be listed here too
    assert {s.name for s in _specs() if s.mutating or s.mutates is not None} == {
        "dns.swap",
        "sql.failover",
        "standby.patch",
        "standby.scale",
        "standby.start_web_apps",
        "storage.failover",
    }


@pytest.mark.parametrize("spec", _specs(), ids=lambda s: s.name)
def test_every_action_family_has_unit_tests_of_its_implementation(spec: ActionSpec[Any]) -> None:
    assert spec.implementation is not None
    family = spec.name.split(".")[0]
    path = TESTS / f"test_{family}.py"
    assert path.exists(), f"{spec.name}: no {path.relative_to(ROOT)}"
    module, _, attribute = spec.implementation.partition(":")
    text = path.read_text()
    assert module in text, f"{path.relative_to(ROOT)} does not import {module}"
    assert attribute in text, f"{path.relative_to(ROOT)} does not test {spec.implementation}"


def test_test_only_actions_resolve_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(registry.TEST_ACTIONS_ENV, "1")
    extra = [name for name in registry.names() if name not in registry.ACTIONS]
    assert extra
    for name in extra:
        spec = registry.get(name)
        assert spec is not None
        assert isinstance(load_implementation(spec), Implementation)
