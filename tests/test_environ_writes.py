"""Nothing in drctl writes the process environment, except ``cli/entry.py``'s start-up switch.

A run's settings (Azure endpoints, CA, resolve overrides, DNS servers, the sandbox's) are values built once and
passed along (``azure.config.AzureConfig``, ``net.config.NetworkConfig``); a write to ``os.environ`` during a run
would reach every thread and child process, and a second sandbox in the same process would see the first's.
"""

from __future__ import annotations

import ast

import pytest

from tests.conftest import ROOT

#: module path (relative to the repository) -> why it may write the environment
ALLOWED = {
    "drctl/cli/entry.py": "PYDANTIC_DISABLE_PLUGINS, set by default once at start-up, before any command runs",
}
MUTATORS = frozenset({"update", "setdefault", "pop", "popitem", "clear", "__setitem__", "__delitem__"})


def _environ_names(tree: ast.Module) -> set[str]:
    """The names ``os.environ`` is bound to in this module (``from os import environ as env``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            names |= {alias.asname or alias.name for alias in node.names if alias.name == "environ"}
    return names


def environ_writes(source: str) -> list[int]:
    """The lines of ``source`` that assign to, delete from or mutate the process environment."""
    tree = ast.parse(source)
    bare = _environ_names(tree)

    def is_environ(node: ast.expr) -> bool:
        if isinstance(node, ast.Attribute) and node.attr == "environ":
            return isinstance(node.value, ast.Name) and node.value.id == "os"
        return isinstance(node, ast.Name) and node.id in bare

    lines = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign | ast.Delete):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Subscript) and is_environ(t.value) for t in targets):
            lines.append(node.lineno)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            func = node.func
            if (func.attr in MUTATORS and is_environ(func.value)) or (
                func.attr in ("putenv", "unsetenv") and isinstance(func.value, ast.Name) and func.value.id == "os"
            ):
                lines.append(node.lineno)
    return sorted(lines)


def test_nothing_but_the_entry_point_writes_the_process_environment() -> None:
    found = []
    for path in sorted((ROOT / "drctl").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name in ALLOWED:
            continue
        found += [f"{name}:{line}" for line in environ_writes(path.read_text())]
    assert found == [], "these write os.environ; pass a configuration value instead"


def test_the_allowance_is_still_used() -> None:
    for name in ALLOWED:
        assert environ_writes((ROOT / name).read_text()), f"{name} no longer writes os.environ: drop its allowance"


@pytest.mark.parametrize(
    "source",
    [
        "import os\nos.environ['A'] = '1'\n",
        "import os\nos.environ.update({'A': '1'})\n",
        "import os\ndef f():\n    os.environ.setdefault('A', '1')\n",
        "import os\ndel os.environ['A']\n",
        "import os\nos.environ.clear()\n",
        "import os\nos.putenv('A', '1')\n",
        "from os import environ as env\nenv['A'] = '1'\n",
        "from os import environ\nenviron.pop('A', None)\n",
    ],
)
def test_each_way_of_writing_the_environment_is_caught(source: str) -> None:
    assert len(environ_writes(source)) == 1


def test_reading_the_environment_is_not_a_write() -> None:
    source = "import os\nx = os.environ.get('A')\ny = dict(os.environ)\nenv = {}\nenv['A'] = os.environ['A']\n"
    assert environ_writes(source) == []
