"""Every registered action can run: its family's run module has its implementation, a mutating action can be
resumed (a done-check) and reviewed (a preflight), and its family has unit tests here that use it. Every family is
one registered package whose facts are declared."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest

from drctl.actions import facts, registry
from drctl.actions.base import ActionSpec, Family
from drctl.actions.runtime import Implementation, load_implementation
from tests.conftest import ROOT

TESTS = ROOT / "tests" / "actions"


def _specs() -> list[ActionSpec[Any]]:
    return [registry.ACTIONS[name] for name in sorted(registry.ACTIONS)]


@pytest.mark.parametrize("spec", _specs(), ids=lambda s: s.name)
def test_every_action_loads_its_implementation_from_its_family(spec: ActionSpec[Any]) -> None:
    family = registry.family_of(spec.name)
    assert family is not None
    # one way in: a spec of a family names no loader of its own that could point elsewhere
    assert spec.implementation is None, f"{spec.name} names its own loader"
    implementation = load_implementation(spec)
    assert isinstance(implementation, Implementation)
    assert callable(implementation.run)
    assert implementation.run.__module__ == f"drctl.actions.{family.name}.run"


@pytest.mark.parametrize("family", registry.FAMILIES, ids=lambda f: f.name)
def test_a_run_module_knows_only_its_own_actions(family: Family) -> None:
    module = family.run()
    known = {name for name in registry.ACTIONS if module.implementation(name) is not None}
    assert known == {spec.name for spec in family.actions}


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
        "aks.scale_deployments",
        "aks.scale_node_pools",
        "aks.start_cluster",
        "dns.swap",
        "fence.source",
        "frontdoor.switch",
        "sql.failover",
        "standby.patch",
        "standby.return",
        "standby.scale",
        "standby.start_web_apps",
        "storage.failover",
        "trafficmanager.switch",
    }


@pytest.mark.parametrize("spec", _specs(), ids=lambda s: s.name)
def test_every_action_family_has_unit_tests_of_its_implementation(spec: ActionSpec[Any]) -> None:
    family = registry.family_of(spec.name)
    assert family is not None
    path = TESTS / f"test_{family.name}.py"
    assert path.exists(), f"{spec.name}: no {path.relative_to(ROOT)}"
    module = family.run()
    implementation = load_implementation(spec)
    attribute = next(name for name, value in vars(module).items() if value is implementation and name.isupper())
    text = path.read_text()
    assert f"drctl.actions.{family.name}.run" in text, f"{path.relative_to(ROOT)} does not import the run module"
    assert attribute in text, f"{path.relative_to(ROOT)} does not test {attribute}"


def test_test_only_actions_resolve_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(registry.TEST_ACTIONS_ENV, "1")
    extra = [name for name in registry.names() if name not in registry.ACTIONS]
    assert extra
    for name in extra:
        spec = registry.get(name)
        assert spec is not None
        assert isinstance(load_implementation(spec), Implementation)


# --- one package per family --------------------------------------------------------------------------------------

ACTIONS_DIR = ROOT / "drctl" / "actions"


def test_every_family_package_is_registered_once() -> None:
    packages = sorted(p.parent.name for p in ACTIONS_DIR.glob("*/__init__.py"))
    registered = [family.name for family in registry.FAMILIES]
    assert sorted(registered) == packages, "a package under drctl/actions/ is not in registry.FAMILIES, or the reverse"
    assert len(set(registered)) == len(registered)


@pytest.mark.parametrize("family", registry.FAMILIES, ids=lambda f: f.name)
def test_a_family_owns_its_actions_and_their_implementations(family: Family) -> None:
    assert family.actions, f"{family.name} registers no action"
    for spec in family.actions:
        assert spec.name.split(".")[0] == family.name, f"{spec.name} is registered by {family.name}"
    for part in ("spec.py", "run.py", "facts.py"):
        assert (ACTIONS_DIR / family.name / part).exists(), f"{family.name} has no {part}"


def test_registering_the_families_imports_no_run_time_code() -> None:
    # validate and plan import the registry: a family's run module there would put Azure and the network on the
    # offline path
    code = (
        "import sys, drctl.actions.registry, drctl.cli.facts_view\n"
        "print(sorted(m for m in sys.modules if m.endswith(('.run', '.azure_bridge', '.evidence', '.hidden'))"
        " or m.startswith(('azure', 'drctl.azure', 'drctl.net'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_fact_kinds_are_declared_once() -> None:
    kinds = [f.kind for f in facts.SHARED] + [f.kind for family in registry.FAMILIES for f in family.facts]
    assert len(kinds) == len(set(kinds)), sorted(k for k in kinds if kinds.count(k) > 1)


def test_every_report_section_a_fact_names_exists() -> None:
    # a section title with a typo would send the fact nowhere: neither its section nor "Other evidence"
    titles = set(re.findall(r'Section\(\s*"([^"]+)"', (ROOT / "drctl" / "reports" / "document.py").read_text()))
    assert "Other evidence" in titles
    named = {f.kind: f.report_section for f in registry.FACTS.values() if f.report_section is not None}
    assert named
    # a title no section of document.py builds gets a section of its own listing its facts' console lines
    # (document.family_sections): each such title is listed here, so a typo is a new section nobody meant
    family_sections = {"Traffic Manager"}
    assert {title for title in named.values() if title not in titles} == family_sections


def test_every_fact_kind_an_action_records_is_declared() -> None:
    # the console and the report learn how a fact reads from its declaration; an undeclared kind still shows, but
    # only as its raw fields, so a new kind must come with its line
    recorded: set[str] = set()
    for path in ACTIONS_DIR.rglob("*.py"):
        if path.name in {"testing.py", "testkit.py"}:
            continue
        text = path.read_text()
        recorded |= set(re.findall(r'ctx\.record\(\s*"([a-z_]+\.[a-z_.]+)"', text))
        recorded |= set(re.findall(r'fact="([a-z_]+\.[a-z_.]+)"', text))
        recorded |= set(re.findall(r'^FACT_[A-Z_]+ = "([a-z_]+\.[a-z_.]+)"', text, re.M))
        constants = dict(re.findall(r'^([A-Z_]+) = "([a-z_]+\.[a-z_.]+)"', text, re.M))
        recorded |= {constants[name] for name in re.findall(r"ctx\.record\(\s*([A-Z_]+)", text) if name in constants}
    assert len(recorded) > 10
    assert recorded - set(registry.FACTS) == set()


def test_a_declared_line_is_what_the_console_shows() -> None:
    from drctl.cli.facts_view import describe_fact

    assert describe_fact("storage.failover", {"account": "st1", "type": "Planned"}) == (
        "storage account st1: Planned failover done"
    )
    assert describe_fact("op.intent", {"key": "k"}) is None
    assert describe_fact("no.such_kind", {"a": 1, "b": 2}) == "no.such_kind: a=1, b=2"
