"""The console entry point's own ``validate`` (no Typer) prints and exits exactly as the Typer command does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from drctl.cli.validate_report import parse_simple
from tests.conftest import ROOT, SAMPLE, drctl_command


def through_entry(args: list[str]) -> subprocess.CompletedProcess[str]:
    """``python -m drctl ARGS``: the console script's way in."""
    return subprocess.run(drctl_command(*args), capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)


def through_typer(args: list[str]) -> subprocess.CompletedProcess[str]:
    """The same arguments given to the Typer app, which parses every command line."""
    probe = f"from drctl.cli.main import main\nmain({args!r})\n"
    return subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    text = SAMPLE.read_text()
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        text.replace("      ttl: 300\n", "      ttl: fast\n").replace("needs: [target-health]", "needs: []")
    )
    tight = tmp_path / "tight.yaml"  # valid, with a warning: the budgets exceed the RTO
    tight.write_text(text.replace("  rto: 1h\n", "  rto: 1m\n", 1))
    return {"sample": str(SAMPLE), "broken": str(broken), "tight": str(tight), "missing": str(tmp_path / "no.yaml")}


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "{sample}"],
        ["validate", "{broken}", "{sample}"],
        ["validate", "--format", "json", "{broken}", "{missing}"],
        ["validate", "{tight}", "--format=text"],
        ["validate", "--strict", "{tight}"],
        ["validate", "--strict", "--format", "json", "{tight}", "{sample}"],
        ["validate", "{missing}"],
        # not for the entry point: these reach Typer both ways
        ["validate"],
        ["validate", "--format", "xml", "{sample}"],
        ["validate", "--help"],
    ],
    ids=["valid", "invalid", "json", "format=", "strict", "strict-json", "missing", "no-file", "bad-format", "help"],
)
def test_the_entry_point_validates_as_typer_does(files: dict[str, str], args: list[str]) -> None:
    argv = [a.format(**files) for a in args]
    fast, typer = through_entry(argv), through_typer(argv)
    assert (fast.returncode, fast.stdout, fast.stderr) == (typer.returncode, typer.stdout, typer.stderr)
    assert fast.stdout or fast.stderr


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--help"],
        ["plan", "x.yaml"],
        ["validate"],
        ["validate", "--help"],
        ["validate", "--strict"],
        ["validate", "--format", "xml", "x.yaml"],
        ["validate", "--format"],
        ["validate", "--format", "JSON", "x.yaml"],
        ["validate", "--", "x.yaml"],
        ["validate", "-", "x.yaml"],
        ["validate", "", "x.yaml"],
        ["validate", "--no-such-option", "x.yaml"],
        ["--version", "validate", "x.yaml"],
    ],
)
def test_anything_but_plain_validate_arguments_goes_to_typer(argv: list[str]) -> None:
    assert parse_simple(argv) is None


def test_plain_validate_arguments_are_read_as_typer_reads_them() -> None:
    argv = ["validate", "a.yaml", "--strict", "--format", "json", "b.yaml", "--format=text"]
    assert parse_simple(argv) == ([Path("a.yaml"), Path("b.yaml")], "text", True)


def test_plain_validate_builds_no_typer_app() -> None:
    probe = (
        "import sys\n"
        "from drctl.cli.entry import dispatch\n"
        f"try:\n    dispatch(['validate', {str(SAMPLE)!r}])\nexcept SystemExit:\n    pass\n"
        "print('TYPER:' + ','.join(sorted(m for m in sys.modules if m == 'typer' or m.startswith('drctl.cli.main'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )
    assert "valid (16 steps)" in result.stdout
    assert "TYPER:\n" in result.stdout, result.stdout
