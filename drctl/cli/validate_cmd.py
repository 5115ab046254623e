"""``drctl validate PLAYBOOK...``: every problem of every file, located, at once."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer


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
    from drctl.cli.validate_report import check_and_report

    code = check_and_report(playbooks, output_format.value, strict)
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
