"""Each emulated Azure service is one provider package, registered once, that owns everything of its service.

What a registration must bring (routes, a snapshot section, seeding, estate checks, op kinds) is checked on the
registry itself; an ast scan checks that a provider's model stays inside its package, and that providers do not
import each other, so adding or changing a service touches its own package and the registry.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from drctl.sandbox import control
from drctl.sandbox.arm.core import Route
from drctl.sandbox.demo import demo_estate
from drctl.sandbox.estate import Estate
from drctl.sandbox.ops import OpKind
from drctl.sandbox.providers.base import EstateModel, Provider, Seeding
from drctl.sandbox.registry import PROVIDERS
from drctl.sandbox.state import World
from tests.conftest import ROOT, SAMPLE

PROVIDERS_DIR = ROOT / "drctl" / "sandbox" / "providers"
PACKAGE = "drctl.sandbox.providers"

#: operation kinds no provider owns: authentication, generic ARM reads/writes/polls, app endpoints, sinks
CROSS_CUTTING_KINDS = {
    OpKind.TOKEN,
    OpKind.ARM_READ,
    OpKind.ARM_WRITE,
    OpKind.ARM_POLL,
    OpKind.APP_HEALTH,
    OpKind.APP_REPLICATION,
    # the Front Door edge: a front of its own beside the app endpoints, not an ARM route
    OpKind.AFD_EDGE,
    OpKind.SINK_WEBHOOK,
    OpKind.SINK_SMTP,
}
#: admin snapshot keys that belong to the world, not to a provider
CROSS_CUTTING_SNAPSHOT = {
    "name",
    "time",
    "subscription_id",
    "tenant_id",
    "regions",
    "faults",
    "operations",
    "data_loss",
    "counts",
}
#: modules outside a provider package that may import a provider's model, and why
MODEL_IMPORTERS = {
    "drctl.sandbox.estate": "the estate file is composed of every provider's section (Estate's bases)",
}
#: what a provider package holds (docs/sandbox.md, "Providers")
PACKAGE_MODULES = ("__init__.py", "model.py", "provider.py", "routes.py")

IDS = [p.name for p in PROVIDERS]


def _overrides(provider: Provider, method: str) -> bool:
    return getattr(type(provider), method) is not getattr(Provider, method)


def test_provider_names_namespaces_and_op_kinds_are_unique() -> None:
    names = [p.name for p in PROVIDERS]
    assert len(set(names)) == len(names)
    namespaces = [p.namespace.lower() for p in PROVIDERS]
    assert all(namespaces)
    # a namespace may hold several services (Microsoft.Network: DNS zones, Traffic Manager), a type only one
    types = [(p.namespace.lower(), t.lower()) for p in PROVIDERS for t, _, _ in p.resource_types]
    assert len(set(types)) == len(types)
    owned = [kind for p in PROVIDERS for kind in (*p.op_kinds, *p.data_op_kinds)]
    assert len(set(owned)) == len(owned), "an operation kind belongs to one provider"
    assert set(owned) | CROSS_CUTTING_KINDS == set(OpKind), "every operation kind has an owner"
    assert not set(owned) & CROSS_CUTTING_KINDS


def test_every_registered_package_is_a_provider_and_every_package_is_registered() -> None:
    packages = {p.name for p in PROVIDERS_DIR.iterdir() if (p / "__init__.py").exists()}
    assert packages == {p.name for p in PROVIDERS}
    for provider in PROVIDERS:
        assert type(provider).__module__ == f"{PACKAGE}.{provider.name}.provider"
        for module in PACKAGE_MODULES:
            assert (PROVIDERS_DIR / provider.name / module).is_file(), f"{provider.name}/{module}"


@pytest.mark.parametrize("provider", PROVIDERS, ids=IDS)
def test_a_provider_brings_everything_a_service_needs(provider: Provider) -> None:
    for method in ("build", "routes", "snapshot", "seed", "check", "placements", "listed"):
        assert _overrides(provider, method), f"{provider.name} does not implement {method}"
    assert provider.snapshot_keys
    assert provider.api_versions
    assert provider.resource_types


@pytest.mark.parametrize("provider", PROVIDERS, ids=IDS)
def test_routes_classify_into_the_providers_own_op_kinds(provider: Provider) -> None:
    routes: list[Route] = provider.routes()
    assert routes
    used = {route.op for route in routes}
    assert used <= {OpKind.ARM_READ, OpKind.ARM_WRITE, *provider.op_kinds}
    assert set(provider.op_kinds) <= used, "an op kind the provider owns that none of its routes uses"
    assert any(route.method == "GET" for route in routes)


def test_routes_do_not_overlap_between_providers() -> None:
    seen: dict[tuple[str, tuple[str, ...]], str] = {}
    for provider in PROVIDERS:
        for route in provider.routes():
            shape = (route.method, tuple("{}" if s.startswith("{") else s for s in route.segments))
            assert shape not in seen, f"{provider.name} and {seen.get(shape)} both serve {route.method} {shape[1]}"
            seen[shape] = provider.name


def test_each_provider_owns_its_snapshot_sections_and_the_admin_snapshot_is_their_union() -> None:
    world = World(demo_estate())
    snapshot = control.snapshot(world)
    sections: list[str] = []
    for provider in PROVIDERS:
        own = provider.snapshot(world, world.now())
        assert set(own) == set(provider.snapshot_keys), provider.name
        sections.extend(own)
    assert len(set(sections)) == len(sections)
    assert set(snapshot) == CROSS_CUTTING_SNAPSHOT | set(sections)
    assert snapshot["storage_accounts"]["stwalletaue"]["secondary_region"] == "au-southeast"


def test_every_providers_store_is_built_from_the_estate_and_rebuilt_on_reset() -> None:
    world = World(demo_estate())
    before = {name: id(store) for name, store in world.stores.items()}
    assert set(before) == {p.name for p in PROVIDERS}
    world.reset()
    assert all(id(world.stores[name]) != ident for name, ident in before.items())


@pytest.mark.parametrize("provider", PROVIDERS, ids=IDS)
def test_every_provider_seeds_its_own_section_from_a_playbook(provider: Provider) -> None:
    from drctl.planning.load import load_playbook

    playbook = load_playbook(SAMPLE).playbook
    data: dict[str, Any] = {}
    provider.seed(Seeding(playbook, home=playbook.direction.source, standby=playbook.direction.target), data)
    section = _section_of(provider)
    assert data, f"{provider.name} seeded nothing from {SAMPLE.name}"
    assert set(data) <= set(section.model_fields), f"{provider.name} seeded outside its section"


@pytest.mark.parametrize("provider", PROVIDERS, ids=IDS)
def test_every_providers_estate_section_is_part_of_the_estate_file(provider: Provider) -> None:
    section = _section_of(provider)
    assert issubclass(Estate, section), f"add {section.__name__} to Estate's bases (drctl/sandbox/estate.py)"


def _section_of(provider: Provider) -> type[EstateModel]:
    """The one ``*Section`` class of the provider's model: its part of the estate file."""
    import importlib

    module = importlib.import_module(f"{PACKAGE}.{provider.name}.model")
    sections = [
        obj
        for name, obj in vars(module).items()
        if name.endswith("Section") and isinstance(obj, type) and issubclass(obj, EstateModel)
    ]
    assert len(sections) == 1, f"{provider.name}/model.py declares {len(sections)} estate sections"
    return sections[0]


# ---- the import contract of providers ---------------------------------------------------------------------
def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every module an import statement of ``path`` names (``from a import b`` counts as ``a`` and ``a.b``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, node.lineno))
            out.extend((f"{node.module}.{alias.name}", node.lineno) for alias in node.names)
    return out


def _owner(module: str) -> str | None:
    """The provider package a module belongs to (``drctl.sandbox.providers.sql.sim`` -> ``sql``)."""
    prefix = PACKAGE + "."
    if not module.startswith(prefix):
        return None
    rest = module[len(prefix) :].split(".")
    return rest[0] if rest[0] != "base" else None


def _sources() -> list[Path]:
    return sorted([*(ROOT / "drctl").rglob("*.py"), *(ROOT / "tests").rglob("*.py")])


def test_no_module_outside_a_provider_imports_its_model() -> None:
    problems = []
    for path in _sources():
        importer = _module_name(path)
        for imported, line in _imports(path):
            owner = _owner(imported)
            if owner is None or not imported.startswith(f"{PACKAGE}.{owner}.model"):
                continue
            if _owner(importer) == owner or importer in MODEL_IMPORTERS:
                continue
            problems.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    assert problems == [], "use the provider's API (provider.py), not its model:\n" + "\n".join(problems)


def test_providers_do_not_import_each_other() -> None:
    problems = []
    for path in sorted(PROVIDERS_DIR.rglob("*.py")):
        importer = _module_name(path)
        for imported, line in _imports(path):
            owner = _owner(imported)
            if owner is not None and owner != _owner(importer):
                problems.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    assert problems == []


def test_the_registry_is_one_line_per_provider() -> None:
    registry = ROOT / "drctl" / "sandbox" / "registry.py"
    imported = [m for m, _ in _imports(registry) if m.endswith(".provider.PROVIDER")]
    assert sorted(imported) == sorted(f"{PACKAGE}.{p.name}.provider.PROVIDER" for p in PROVIDERS)


def test_the_scan_sees_a_forbidden_import(tmp_path: Path) -> None:
    """The scan is not vacuous: it finds a model import written the way a regression would write it."""
    module = tmp_path / "bad.py"
    module.write_text("from drctl.sandbox.providers.compute.model import ScaleSetState\n", encoding="utf-8")
    found = [(_owner(name), name) for name, _ in _imports(module)]
    assert ("compute", "drctl.sandbox.providers.compute.model") in found
