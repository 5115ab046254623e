"""``drctl status``, ``drctl runs``, ``drctl runs verify`` and ``drctl approve``: reading runs back from their
journals (the only source of truth), and answering an approval from another terminal."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

from drctl.cli.run_cmd import STATE_DIR_HELP
from drctl.errors import ExitCode, JournalError


class StatusFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def status(
    run: str | None = typer.Argument(None, metavar="[RUN]", help="The run id or a prefix; the latest run if omitted."),
    state_dir: Path | None = typer.Option(None, "--state-dir", help=STATE_DIR_HELP),
    output_format: StatusFormat = typer.Option(StatusFormat.TEXT, "--format", help="text or json."),
) -> None:
    """Where a run stands: each step against its budget, elapsed against the RTO, and what to do next."""
    from drctl.cli.status_view import render_status, status_data
    from drctl.engine.history import load_run
    from drctl.engine.paths import StateDir, resolve_state_dir

    loaded = load_run(StateDir(resolve_state_dir(state_dir)), run)
    if output_format is StatusFormat.JSON:
        typer.echo(json.dumps(status_data(loaded), indent=2))
    else:
        typer.echo(render_status(loaded), nl=False)


runs_app = typer.Typer(
    help="The history of runs in the state directory; `drctl runs verify RUN` checks a journal's hash chain.",
    no_args_is_help=False,
    rich_markup_mode=None,
)


@runs_app.callback(invoke_without_command=True)
def runs(
    ctx: typer.Context,
    due: bool = typer.Option(
        False, "--due", help="When the next quarterly RTO drill and monthly RPO check are due, per playbook."
    ),
    output_format: StatusFormat = typer.Option(StatusFormat.TEXT, "--format", help="text or json."),
    state_dir: Path | None = typer.Option(None, "--state-dir", help=STATE_DIR_HELP),
) -> None:
    """List runs, oldest first, with their verdicts: id, playbook, mode, start, steps done, RTO and RPO against
    their objectives, verdict, state. With --due: when the next drills are due, from that history."""
    if ctx.invoked_subcommand is not None:
        return
    from drctl.cli.runs_view import due_data, render_due, render_runs, runs_data
    from drctl.engine.paths import StateDir, resolve_state_dir

    state = StateDir(resolve_state_dir(state_dir))
    as_json = output_format is StatusFormat.JSON
    if due:
        text = json.dumps(due_data(state), indent=2) + "\n" if as_json else render_due(state)
    else:
        text = json.dumps(runs_data(state), indent=2) + "\n" if as_json else render_runs(state)
    typer.echo(text, nl=False)


@runs_app.command("verify")
def verify(
    run: str = typer.Argument(..., metavar="RUN", help="The run id or a prefix."),
    state_dir: Path | None = typer.Option(None, "--state-dir", help=STATE_DIR_HELP),
) -> None:
    """Check a journal's hash chain line by line; name the first line that breaks it. Exit 7 if one does."""
    from drctl.engine.journal import verify as verify_journal
    from drctl.engine.paths import StateDir, resolve_state_dir

    state = StateDir(resolve_state_dir(state_dir))
    path = state.journal(state.find(run))
    verdict = verify_journal(path)
    typer.echo(f"{path}: {'ok' if verdict.ok else 'FAILED'}: {verdict.message}")
    if not verdict.ok:
        raise typer.Exit(int(ExitCode.JOURNAL))


def approve(
    run: str = typer.Argument(..., metavar="RUN", help="The run id or a prefix."),
    step: str = typer.Argument(..., metavar="STEP", help="The step waiting for approval."),
    reason: str | None = typer.Option(None, "--reason", help="Why (journaled; required to reject)."),
    reject: bool = typer.Option(False, "--reject", help="Say no: the run is aborted."),
    state_dir: Path | None = typer.Option(None, "--state-dir", help=STATE_DIR_HELP),
) -> None:
    """Answer an approval a run on this machine is waiting for (it polls for the answer and journals it)."""
    from drctl.engine.history import approve as submit
    from drctl.engine.identity import current
    from drctl.engine.paths import StateDir, resolve_state_dir
    from drctl.errors import UsageError

    if reject and not (reason or "").strip():
        raise UsageError("--reject needs --reason: it is journaled")
    from datetime import UTC, datetime

    state = StateDir(resolve_state_dir(state_dir))
    try:
        request_id, _ = submit(
            state, run, step, approved=not reject, reason=reason, approver=current(), now=datetime.now(UTC)
        )
    except OSError as exc:
        raise JournalError(f"cannot write the answer: {exc.strerror or exc}") from exc
    verb = "rejection" if reject else "approval"
    typer.echo(
        f"{verb} of {step} ({request_id}) handed to run {state.find(run)}; it is journaled when the run reads it"
    )


def register(app: typer.Typer) -> None:
    app.command("status")(status)
    app.add_typer(runs_app, name="runs")
    app.command("approve")(approve)
