"""``drctl plan``: the resolved plan, offline; what would change, in what order, against the RTO.

With ``--preflight``, every step's read-only preflight runs against Azure (or ``--sandbox``) and the plan shows
the current state against the intended one. A preflight never changes anything.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from drctl.errors import ExitCode, UsageError
from drctl.playbook.enums import Mode

if TYPE_CHECKING:
    from drctl.engine.preflight import StepPreflight
    from drctl.planning.load import LoadedPlaybook


class PlanFormat(StrEnum):
    TEXT = "text"
    MD = "md"
    JSON = "json"


class DirectionChoice(StrEnum):
    FORWARD = "forward"
    REVERSE = "reverse"


def plan(  # noqa: PLR0917 - Typer reads the options from the signature
    playbook: Path = typer.Argument(..., metavar="PLAYBOOK", help="The playbook file."),
    direction: DirectionChoice | None = typer.Option(
        None, "--direction", help="forward (source -> target) or reverse; the mode decides when omitted."
    ),
    mode: Mode = typer.Option(Mode.FAILOVER, "--mode", help="failover, drill or failback (reverse)."),
    output_format: PlanFormat = typer.Option(PlanFormat.TEXT, "--format", help="text, md or json."),
    preflight: bool = typer.Option(
        False, "--preflight", help="Also read the live estate (Azure, or --sandbox): current against intended."
    ),
    sandbox: bool = typer.Option(
        False, "--sandbox", help="Preflight against a local sandbox seeded from the playbook."
    ),
    sandbox_fault: list[str] = typer.Option(
        [], "--sandbox-fault", metavar="RULE", help="A sandbox fault (repeatable; docs/sandbox.md)."
    ),
) -> None:
    """Show the plan: waves, budgets against the RTO, the critical path and every intended change.

    Offline unless --preflight: needs no credentials and no network. A preflight never changes anything; it
    exits 1 when a check finds an error (a missing resource, a role already swapped).
    """
    from drctl.cli.plan_view import render_markdown, render_text
    from drctl.planning.load import load_playbook
    from drctl.planning.plan import build_plan

    if (sandbox or sandbox_fault) and not preflight:
        raise UsageError("--sandbox and --sandbox-fault go with --preflight")
    loaded = load_playbook(playbook)
    reverse = None if direction is None else direction is DirectionChoice.REVERSE
    result = build_plan(loaded, mode=mode, reverse=reverse)
    checks = (
        _preflight(loaded, mode, reverse=result.reverse, sandbox=sandbox, faults=sandbox_fault) if preflight else None
    )
    if output_format is PlanFormat.JSON:
        data: dict[str, Any] = result.as_dict()
        if checks is not None:
            data["preflight"] = [_preflight_dict(c) for c in checks]
        typer.echo(json.dumps(data, indent=2))
    elif output_format is PlanFormat.MD:
        typer.echo(render_markdown(result), nl=False)
        if checks is not None:
            typer.echo(render_preflight_markdown(checks), nl=False)
    else:
        typer.echo(render_text(result), nl=False)
        if checks is not None:
            typer.echo(render_preflight_text(checks), nl=False)
    if checks is not None and any(c.worst == "error" for c in checks):
        raise typer.Exit(int(ExitCode.STEP_FAILED))


def _preflight(
    loaded: LoadedPlaybook, mode: Mode, *, reverse: bool, sandbox: bool, faults: list[str]
) -> list[StepPreflight]:
    import tempfile
    from contextlib import nullcontext

    from drctl.cli.azure_setup import connect, run_environ, sandbox_environment, uses_azure
    from drctl.engine.context import NETWORK, ServiceBag
    from drctl.engine.preflight import run_preflight
    from drctl.net.config import NetworkConfig

    with tempfile.TemporaryDirectory(prefix="drctl-preflight-") as tmp:
        # a reversed plan (failback) preflights the estate as a failover left it
        embedded = sandbox_environment(loaded, faults, Path(tmp), reverse=reverse) if sandbox else nullcontext()
        with embedded as running:
            environ = run_environ(running)
            network = NetworkConfig.from_environ(environ)
            services = ServiceBag()
            services.register(NETWORK, lambda: network)
            if uses_azure(loaded):
                azure = connect(loaded, environ)
                services.register("azure", lambda: azure)
            try:
                return run_preflight(loaded, mode, reverse=reverse, services=services, environ=environ)
            finally:
                services.close()


def _preflight_dict(check: StepPreflight) -> dict[str, Any]:
    return {
        "step": check.step,
        "uses": check.uses,
        "worst": check.worst,
        "note": check.note,
        "findings": [
            {
                "subject": f.subject,
                "current": f.current,
                "intended": f.intended,
                "severity": f.severity,
                "message": f.message,
            }
            for f in check.findings
        ],
    }


_MARK = {"ok": "ok", "info": "..", "warning": "!!", "error": "XX"}


def render_preflight_text(checks: list[StepPreflight]) -> str:
    lines = ["", "Preflight (read-only; current -> intended):"]
    for check in checks:
        lines.append(f"  {check.step} [{check.uses}]")
        if check.note:
            lines.append(f"      {check.note}")
        for f in check.findings:
            message = f"  ({f.message})" if f.message else ""
            # a finding with nothing read (what fencing would do, known only from the playbook) shows no "None"
            current = f"{f.current} -> " if f.current is not None else ""
            lines.append(f"    {_MARK[f.severity]} {f.subject}: {current}{f.intended}{message}")
    errors = sum(1 for c in checks if c.worst == "error")
    warnings = sum(1 for c in checks if c.worst == "warning")
    lines.append(f"Preflight: {errors} step(s) with errors, {warnings} with warnings. Nothing was changed.")
    return "\n".join(lines) + "\n"


def render_preflight_markdown(checks: list[StepPreflight]) -> str:
    out = [
        "",
        "## Preflight (read-only)",
        "",
        "| Step | Subject | Current | Intended | | Note |",
        "|---|---|---|---|---|---|",
    ]
    for check in checks:
        if check.note and not check.findings:
            out.append(f"| `{check.step}` | | | | | {check.note} |")
        for f in check.findings:
            current, intended = f.current or "", f.intended or ""
            out.append(
                f"| `{check.step}` | {f.subject} | {current} | {intended} | {f.severity} | {f.message} |".replace(
                    "\n", " "
                )
            )
    out.append("")
    return "\n".join(out) + "\n"


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
