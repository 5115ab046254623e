"""The drctl command line: the only place that prints or picks an exit code."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="drctl",
    help="Disaster-recovery orchestration for Azure: validate, plan, fail over, drill and fail back.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def main() -> None:
    app()
