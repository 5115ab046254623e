"""``drctl validate PLAYBOOK...``: every problem of every file, located, at once."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

from drctl.errors import ExitCode


class ValidateFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def validate(
    playbooks: list[Path] = typer.Argument(..., metavar="PLAYBOOK...", help="Playbook files to check."),
    output_format: ValidateFormat = typer.Option(ValidateFormat.TEXT, "--format", help="text or json."),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors."),
) -> None:
    """Check playbooks offline: YAML, schema, references, graph and safety rules. Runs nothing.

    Exits 0 when every playbook is valid, 3 when any is not (or has warnings, with --strict).
    """
    from drctl.planning.load import check_file

    results = [check_file(path) for path in playbooks]
    failed = False
    report = []
    for result in results:
        warnings = [d for d in result.diagnostics if d.severity == "warning"]
        ok = result.ok and not (strict and warnings)
        failed |= not ok
        report.append((result, ok, warnings))
    if output_format is ValidateFormat.JSON:
        typer.echo(
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
                typer.echo(str(diagnostic))
            if result.loaded is not None and ok:
                steps = len(result.loaded.playbook.steps)
                note = f", {len(warnings)} warning(s)" if warnings else ""
                typer.echo(f"{result.display}: valid ({steps} steps{note})")
            else:
                errors = sum(1 for d in result.diagnostics if d.severity == "error")
                count = errors if errors else len(warnings)
                kind = "error(s)" if errors else "warning(s) (--strict)"
                typer.echo(f"{result.display}: invalid, {count} {kind}")
    if failed:
        raise typer.Exit(int(ExitCode.INVALID_PLAYBOOK))


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
