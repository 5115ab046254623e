"""The import contract: drctl's packages form layers, and no module imports a layer above its own.

Every ``import`` statement of every module counts, wherever it stands: at the top, inside a function (the lazy
imports that keep ``validate`` fast), or under ``TYPE_CHECKING``. A lazy import is still a dependency; it only
moves the failure from import time to run time. An exception is allowed only when ``ALLOWED`` lists it with its
reason, and an entry that no longer matches any import fails too, so the list cannot rot.

The layers are drawn in docs/architecture.md ("Layers"); a test below keeps the drawing and ``LAYERS`` the same.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

#: lowest first. A module may import modules of its own package, and of any package in a lower layer; packages
#: that share a layer may not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("drctl", "drctl.errors", "drctl.durations", "drctl.text"),
    ("drctl.core",),
    ("drctl.playbook",),
    ("drctl.azure", "drctl.net"),
    ("drctl.actions",),
    ("drctl.planning",),
    ("drctl.engine",),
    ("drctl.reports", "drctl.sandbox"),
    ("drctl.cli",),
    ("drctl.__main__",),
)

#: the run-time halves of the actions layer: each family's ``run`` module and the modules only they use
RUN_TIME: tuple[str, ...] = (
    *sorted(f"drctl.actions.{path.parent.name}.run" for path in (ROOT / "drctl" / "actions").glob("*/run.py")),
    "drctl.actions.azure_bridge",
    "drctl.actions.evidence",
    "drctl.actions.hidden",
)

#: importer prefix -> imported prefixes it may never reach, even where the layers would allow it
FORBIDDEN: Mapping[str, tuple[str, ...]] = {
    # docs/engine.md: the engine knows nothing of Azure, Typer or Rich; it runs actions only through the
    # implementation an ActionSpec names (``actions.runtime.load_implementation``)
    "drctl.engine": ("drctl.azure", *RUN_TIME, "azure", "typer", "rich"),
    # validate and plan run offline: nothing below the engine reaches Azure, the network or the terminal UI,
    # except the actions' run-time half
    "drctl.core": ("azure", "typer", "rich", "httpx"),
    "drctl.playbook": ("drctl.azure", "drctl.net", "azure", "typer", "rich", "httpx"),
    "drctl.planning": ("drctl.azure", "drctl.net", *RUN_TIME, "azure", "typer", "rich", "httpx"),
    "drctl.reports": ("drctl.azure", "drctl.net", "azure", "typer"),
    # one HTTP stack for probes, waits and webhooks (drctl.net.http): a second one would ignore the sandbox CA and
    # DRCTL_RESOLVE, as wait.until_url's httpx client once did
    "drctl.actions": ("httpx", "requests"),
    "drctl.cli": ("httpx", "requests"),
}

#: (importer module, imported module) -> why this import may break the rules above
ALLOWED: Mapping[tuple[str, str], str] = {}

#: a spec's run-time implementation is imported lazily when a run starts; it must live in the actions layer
IMPLEMENTATION_HOME = "drctl.actions."


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    lazy: bool  # inside a function, or under TYPE_CHECKING

    def where(self) -> str:
        return f"{self.importer}:{self.line} imports {self.imported}{' (lazily)' if self.lazy else ''}"


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Every module of ``package`` under ``root`` (the directory that holds the package), by dotted name."""
    out = {}
    for path in sorted((root / package.replace(".", "/")).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return isinstance(test, ast.Name | ast.Attribute) and ast.unparse(test).endswith("TYPE_CHECKING")


def imports_of(name: str, path: Path, modules: Iterable[str]) -> list[Import]:
    known = set(modules)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(), filename=str(path))
    out: list[Import] = []

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = lazy or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    visit_statement(stmt, True)
                for stmt in child.orelse:
                    visit_statement(stmt, lazy)
                continue
            visit_statement(child, inner)

    def visit_statement(node: ast.AST, lazy: bool) -> None:
        if isinstance(node, ast.Import):
            out.extend(Import(name, alias.name, node.lineno, lazy) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, name, is_package)
            for alias in node.names:
                # ``from drctl.playbook import graph`` imports the module drctl.playbook.graph
                target = f"{base}.{alias.name}"
                out.append(Import(name, target if target in known else base, node.lineno, lazy))
        visit(node, lazy or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda))

    visit(tree, False)
    return out


def _absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = importer.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _owner(module: str, groups: Iterable[str]) -> str | None:
    """The longest listed package ``module`` belongs to; the root package (``drctl``) is only its own module."""
    found = [g for g in groups if module == g or ("." in g and module.startswith(g + "."))]
    return max(found, key=len, default=None)


def _covers(prefix: str, module: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


@dataclass(frozen=True)
class Report:
    violations: tuple[str, ...]
    cycles: tuple[tuple[str, ...], ...]
    unused_allowances: tuple[tuple[str, str], ...]


def check(
    root: Path,
    package: str,
    layers: Sequence[Sequence[str]],
    forbidden: Mapping[str, Sequence[str]],
    allowed: Mapping[tuple[str, str], str],
) -> Report:
    modules = module_names(root, package)
    level = {group: index for index, layer in enumerate(layers) for group in layer}
    violations: list[str] = []
    used: set[tuple[str, str]] = set()
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        source = _owner(name, level)
        if source is None:
            violations.append(f"{name} belongs to no layer: add its package to LAYERS")
            continue
        for imp in imports_of(name, path, modules):
            key = (imp.importer, imp.imported)
            if key in allowed:
                used.add(key)
                continue
            banned = next(
                (b for p, bs in forbidden.items() if _covers(p, name) for b in bs if _covers(b, imp.imported)), None
            )
            if banned is not None:
                violations.append(f"{imp.where()}: {source} may never import {banned}")
            if not _covers(package, imp.imported):
                continue
            target = _owner(imp.imported, level)
            if target is None or target == source:
                continue
            edges.setdefault(source, set()).add(target)
            if level[target] > level[source]:
                violations.append(f"{imp.where()}: {source} is below {target}")
            elif level[target] == level[source]:
                violations.append(f"{imp.where()}: {source} and {target} share a layer and must not import each other")
    return Report(tuple(violations), tuple(_cycles(edges)), tuple(k for k in allowed if k not in used))


def _cycles(edges: Mapping[str, set[str]]) -> list[tuple[str, ...]]:
    """Every strongly connected set of two or more packages (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(tuple(sorted(group)))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return found


# --- drctl obeys its contract --------------------------------------------------------------------------------


def test_drctl_imports_only_downwards() -> None:
    report = check(ROOT, "drctl", LAYERS, FORBIDDEN, ALLOWED)
    assert not report.violations, "\n".join(report.violations)
    assert not report.cycles, report.cycles


def test_every_allowance_is_still_needed() -> None:
    assert not check(ROOT, "drctl", LAYERS, FORBIDDEN, ALLOWED).unused_allowances


def test_every_package_has_a_layer() -> None:
    packages = {p.parent.name for p in (ROOT / "drctl").glob("*/__init__.py")}
    placed = {g.removeprefix("drctl.") for layer in LAYERS for g in layer}
    assert packages <= placed, packages - placed


def test_implementations_loaded_for_specs_live_in_the_actions_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The import a run makes through a loader function rather than at the top: it must stay in the actions layer."""
    from drctl.actions import registry
    from drctl.actions.runtime import load_implementation

    monkeypatch.setenv(registry.TEST_ACTIONS_ENV, "1")
    named = {name: registry.get(name) for name in registry.names()}
    assert len(named) > 10
    for name, spec in named.items():
        assert spec is not None
        implementation = load_implementation(spec)
        assert implementation is not None, f"{name} has no implementation"
        assert implementation.run.__module__.startswith(IMPLEMENTATION_HOME), f"{name}: {implementation.run.__module__}"


def test_the_architecture_doc_draws_these_layers() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text()
    match = re.search(r"^## Layers\n.*?```\n(.*?)```", doc, re.S | re.M)
    assert match, "docs/architecture.md has no '## Layers' section with a diagram"
    drawn = []
    for line in match.group(1).splitlines():
        names = re.split(r"\s{2,}", line.strip())[0]  # the packages, then what they hold
        drawn.append(sorted(n if n == "drctl" else f"drctl.{n}" for n in names.split(" · ")))
    assert drawn == [sorted(layer) for layer in reversed(LAYERS)]


# --- the checker catches what it should ----------------------------------------------------------------------

TOY_LAYERS = (("toy", "toy.base"), ("toy.mid", "toy.side"), ("toy.top",))


def make_tree(root: Path, files: Mapping[str, str]) -> None:
    for rel, text in {"toy/__init__.py": "", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        path.write_text(textwrap.dedent(text))


def toy_check(root: Path, files: Mapping[str, str], allowed: Mapping[tuple[str, str], str] | None = None) -> Report:
    make_tree(root, {"toy/base/__init__.py": "", "toy/mid/__init__.py": "", "toy/side/__init__.py": "", **files})
    return check(root, "toy", TOY_LAYERS, {"toy.mid": ("httpx",)}, allowed or {})


def test_a_clean_tree_passes(tmp_path: Path) -> None:
    report = toy_check(
        tmp_path,
        {
            "toy/base/a.py": "import os\n",
            "toy/mid/b.py": "from toy.base import a\nfrom . import c\n",
            "toy/mid/c.py": "from ..base.a import thing\n",
            "toy/top/d.py": "import toy.mid.b\nfrom toy.side import e\n",
            "toy/side/e.py": "from toy.base.a import x\n",
        },
    )
    assert report == Report((), (), ())


def test_an_upward_import_at_the_top_is_caught(tmp_path: Path) -> None:
    report = toy_check(tmp_path, {"toy/base/a.py": "from toy.mid import b\n", "toy/mid/b.py": ""})
    assert report.violations == ("toy.base.a:1 imports toy.mid.b: toy.base is below toy.mid",)


@pytest.mark.parametrize(
    "source",
    [
        "def f():\n    from toy.top import d\n",
        "class K:\n    def m(self):\n        import toy.top.d\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from toy.top.d import D\n",
        "try:\n    from toy.top import d\nexcept ImportError:\n    d = None\n",
        "from ..top import d\n",
    ],
    ids=["in-a-function", "in-a-method", "type-checking", "in-a-try", "relative"],
)
def test_an_upward_import_anywhere_is_caught(tmp_path: Path, source: str) -> None:
    report = toy_check(tmp_path, {"toy/mid/b.py": source, "toy/top/d.py": ""})
    assert len(report.violations) == 1
    assert "toy.mid is below toy.top" in report.violations[0]


def test_siblings_in_a_layer_and_cycles_are_caught(tmp_path: Path) -> None:
    report = toy_check(
        tmp_path,
        {"toy/mid/b.py": "from toy.side import e\n", "toy/side/e.py": "def f():\n    from toy.mid import b\n"},
    )
    assert len(report.violations) == 2
    assert all("share a layer" in v for v in report.violations)
    assert report.cycles == (("toy.mid", "toy.side"),)


def test_a_forbidden_import_is_caught_and_an_allowance_must_be_used(tmp_path: Path) -> None:
    files = {"toy/mid/b.py": "def get():\n    import httpx.client\n"}
    assert toy_check(tmp_path, files).violations == (
        "toy.mid.b:2 imports httpx.client (lazily): toy.mid may never import httpx",
    )
    allowed = {("toy.mid.b", "httpx.client"): "a reason", ("toy.mid.b", "toy.top"): "stale"}
    report = toy_check(tmp_path, files, allowed)
    assert report.violations == ()
    assert report.unused_allowances == (("toy.mid.b", "toy.top"),)


def test_a_module_outside_every_layer_is_reported(tmp_path: Path) -> None:
    report = toy_check(tmp_path, {"toy/stray/f.py": ""})
    assert report.violations == (
        "toy.stray belongs to no layer: add its package to LAYERS",
        "toy.stray.f belongs to no layer: add its package to LAYERS",
    )
