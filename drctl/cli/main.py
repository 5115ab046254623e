"""The drctl command line: the only place that prints or picks an exit code.

Command modules stay thin: they call the core and render what it returns. Heavy imports (Azure SDK, Rich live
views, the sandbox) happen inside the commands that need them, so ``drctl --help`` and ``drctl validate``
start fast and never import ``azure``.
"""

from __future__ import annotations

import typer

from drctl import __version__
from drctl.cli.entry import guarded

app = typer.Typer(
    name="drctl",
    help="Disaster-recovery orchestration for Azure: validate, plan, fail over, drill and fail back.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"drctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Disaster-recovery orchestration for Azure: validate, plan, fail over, drill and fail back.

    Exit codes: 0 ok, 1 step failed, 2 usage, 3 invalid playbook, 4 objective breached, 5 aborted,
    6 locked, 7 journal, 8 Azure, 9 not found, 10 paused, 11 sandbox, 70 internal (docs/exit-codes.md).
    """


def _register() -> None:
    from drctl.cli import drill_cmd, fence_cmd, plan_cmd, report_cmd, run_cmd, runs_cmd, sandbox_cmd, validate_cmd

    validate_cmd.register(app)
    plan_cmd.register(app)
    run_cmd.register(app)
    drill_cmd.register(app)
    runs_cmd.register(app)
    fence_cmd.register(app)
    report_cmd.register(app)
    app.add_typer(sandbox_cmd.app, name="sandbox")


_register()


def main(argv: list[str] | None = None) -> None:
    """The Typer app in this process (tests, ``cli/entry.py``): exits with the command's code."""
    guarded(lambda: app(args=argv, prog_name="drctl"))
