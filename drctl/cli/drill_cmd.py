"""``drctl drill PLAYBOOK``: a rehearsal in one run: planned failover, a verification hold on the target, failback.

A drill is a run of mode ``drill`` (docs/drills.md): the engine builds its phases (``engine/drill.py``), checks
the playbook's change windows on the run's clock, and refuses a step that could force. This module only turns
the command line into a request; the live view, prompts, signals and reports are the run commands' own.
"""

from __future__ import annotations

from pathlib import Path

import typer

from drctl.cli.run_cmd import OUTPUT_HELP, STATE_DIR_HELP, Output, SandboxChoice, _console, run_playbook
from drctl.errors import UsageError
from drctl.playbook.enums import Mode


def drill(  # noqa: PLR0917 - Typer reads the options from the signature
    playbook: Path = typer.Argument(..., metavar="PLAYBOOK", help="The playbook file."),
    yes: bool = typer.Option(False, "--yes", help="Approve every approval gate as the operator running drctl."),
    outside_window: bool = typer.Option(
        False, "--outside-window", help="Start although no change window is open (needs --reason; journaled)."
    ),
    reason: str | None = typer.Option(None, "--reason", help="Why the drill runs outside its change windows."),
    output: Output = typer.Option(Output.TEXT, "--output", help=OUTPUT_HELP),
    state_dir: Path | None = typer.Option(None, "--state-dir", help=STATE_DIR_HELP),
    concurrency: int = typer.Option(8, "--concurrency", min=1, max=256, help="Most steps running at once."),
    sandbox: bool = typer.Option(
        False, "--sandbox", help="Drill against a local sandbox Azure seeded from the playbook (a rehearsal)."
    ),
    sandbox_fault: list[str] = typer.Option(
        [],
        "--sandbox-fault",
        metavar="RULE",
        help="A sandbox fault, e.g. kind=latency,op=sql.failover,seconds=3 (repeatable; docs/sandbox.md).",
    ),
) -> None:
    """Drill: fail over (planned, never forced), hold on the target probing its health, then fail back.

    One run, one journal and one report for both directions; the RTO is the failover half's (T0 is the drill's
    start). Messages go only to channels whose audiences include `drill`, marked [DRILL]. Outside the playbook's
    change windows the drill refuses (exit 2) unless --outside-window --reason "..." is given.

    Exit codes: 0 passed, 1 a step or the hold failed, 2 outside a window, 3 invalid (or a step could force),
    4 objective breached, 5 aborted, 6 locked, 7 journal, 10 paused.
    """
    from drctl.engine.session import DrillRequest

    if outside_window and not (reason or "").strip():
        raise UsageError('--outside-window needs --reason "...": it is journaled with the drill')
    if reason is not None and not outside_window:
        raise UsageError("--reason goes with --outside-window")
    run_playbook(
        playbook,
        Mode.DRILL,
        _console(output, yes, state_dir, concurrency),
        None,  # T0 is the drill's start
        SandboxChoice(enabled=sandbox, faults=tuple(sandbox_fault)),
        drill=DrillRequest(outside_window=outside_window, reason=reason),
    )


def register(app: typer.Typer) -> None:
    app.command("drill")(drill)
