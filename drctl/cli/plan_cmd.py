"""``drctl plan``: the resolved plan, offline; what would change, in what order, against the RTO."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

from drctl.playbook.enums import Mode


class PlanFormat(StrEnum):
    TEXT = "text"
    MD = "md"
    JSON = "json"


class DirectionChoice(StrEnum):
    FORWARD = "forward"
    REVERSE = "reverse"


def plan(
    playbook: Path = typer.Argument(..., metavar="PLAYBOOK", help="The playbook file."),
    direction: DirectionChoice | None = typer.Option(
        None, "--direction", help="forward (source -> target) or reverse; the mode decides when omitted."
    ),
    mode: Mode = typer.Option(Mode.FAILOVER, "--mode", help="failover, drill or failback (reverse)."),
    output_format: PlanFormat = typer.Option(PlanFormat.TEXT, "--format", help="text, md or json."),
) -> None:
    """Show the plan: waves, budgets against the RTO, the critical path and every intended change.

    Offline: needs no credentials and no network.
    """
    from drctl.cli.plan_view import render_markdown, render_text
    from drctl.playbook.load import load_playbook
    from drctl.playbook.plan import build_plan

    loaded = load_playbook(playbook)
    reverse = None if direction is None else direction is DirectionChoice.REVERSE
    result = build_plan(loaded, mode=mode, reverse=reverse)
    if output_format is PlanFormat.JSON:
        typer.echo(json.dumps(result.as_dict(), indent=2))
    elif output_format is PlanFormat.MD:
        typer.echo(render_markdown(result), nl=False)
    else:
        typer.echo(render_text(result), nl=False)


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
