"""What ``drctl validate`` does once its arguments are known: check every file, print every problem, pick the exit
code. Imports no Typer, so the console entry point can run it directly (``cli/entry.py``) as well as the Typer
command (``cli/validate_cmd.py``); both print exactly this."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from drctl.errors import ExitCode

FORMATS = ("text", "json")


def _echo(text: str) -> None:
    # what typer.echo does for plain text on stdout: the line, a newline, a flush
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def check_and_report(playbooks: Sequence[Path], output_format: str, strict: bool) -> int:
    from drctl.planning.load import check_file

    results = [check_file(path) for path in playbooks]
    failed = False
    report = []
    for result in results:
        warnings = [d for d in result.diagnostics if d.severity == "warning"]
        ok = result.ok and not (strict and warnings)
        failed |= not ok
        report.append((result, ok, warnings))
    if output_format == "json":
        _echo(
            json.dumps(
                {
                    "schema": "drctl.validate/v1",
                    "valid": not failed,
                    "files": [
                        {"file": r.display, "valid": ok, "diagnostics": [d.as_dict() for d in r.diagnostics]}
                        for r, ok, _ in report
                    ],
                },
                indent=2,
            )
        )
    else:
        for result, ok, warnings in report:
            for diagnostic in result.diagnostics:
                _echo(str(diagnostic))
            if result.loaded is not None and ok:
                steps = len(result.loaded.playbook.steps)
                note = f", {len(warnings)} warning(s)" if warnings else ""
                _echo(f"{result.display}: valid ({steps} steps{note})")
            else:
                errors = sum(1 for d in result.diagnostics if d.severity == "error")
                count = errors if errors else len(warnings)
                kind = "error(s)" if errors else "warning(s) (--strict)"
                _echo(f"{result.display}: invalid, {count} {kind}")
    return int(ExitCode.INVALID_PLAYBOOK) if failed else 0


def parse_simple(argv: Sequence[str]) -> tuple[list[Path], str, bool] | None:
    """``validate`` arguments that need no parser: files, ``--strict``, ``--format text|json``.

    Anything else (``--help``, an unknown or misspelt option, a missing value, no file, ``--``, a file name
    starting with ``-``) returns None and goes to the Typer command, so every message and exit code about bad
    arguments stays Typer's own.
    """
    if not argv or argv[0] != "validate":
        return None
    paths: list[Path] = []
    output_format, strict = "text", False
    rest = list(argv[1:])
    while rest:
        arg = rest.pop(0)
        if arg == "--strict":
            strict = True
        elif arg == "--format" and rest and rest[0] in FORMATS:
            output_format = rest.pop(0)
        elif arg.startswith("--format=") and arg.removeprefix("--format=") in FORMATS:
            output_format = arg.removeprefix("--format=")
        elif arg and not arg.startswith("-"):
            paths.append(Path(arg))
        else:
            return None
    return (paths, output_format, strict) if paths else None
