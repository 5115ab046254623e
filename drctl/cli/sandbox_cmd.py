"""``drctl sandbox up|status|down``: run the local Azure on its own.

Nothing heavy is imported at module level (no azure, cryptography, aiosmtpd, pydantic): ``drctl --help``
stays fast. Every command imports what it needs when it runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from drctl.errors import SandboxError, UsageError
from drctl.playbook.enums import Mode

app = typer.Typer(
    help="Run the local Azure sandbox (ARM, Entra ID, DNS, app endpoints, sinks) for demos and rehearsals.",
    no_args_is_help=True,
    add_completion=False,
)

_STATE_DIR_HELP = "Where the state file (pid, ports, environment) and certificates live."
_DEFAULT_DIR = Path(".drctl") / "sandbox"


@app.command()
def up(
    *,
    estate: Path | None = typer.Option(None, "--estate", help="Estate file (YAML) to emulate.", dir_okay=False),
    from_playbook: Path | None = typer.Option(
        None,
        "--from-playbook",
        help="Seed the estate a playbook references (source primary, target standby; see --mode).",
        dir_okay=False,
    ),
    mode: Mode | None = typer.Option(
        None,
        "--mode",
        help="With --from-playbook: seed for a run of this mode: failover or drill (the default: source primary) "
        "or failback (as a failover left it: target primary, source standby).",
    ),
    faults: Path | None = typer.Option(
        None, "--faults", help="Faults file (YAML list of fault rules).", dir_okay=False
    ),
    fault: list[str] = typer.Option(
        [],
        "--fault",
        help="A fault rule, JSON or key=value pairs (kind=latency,op=sql.failover,seconds=3). Repeatable.",
    ),
    port_base: int | None = typer.Option(
        None,
        "--port-base",
        min=1024,
        max=65000,
        help="Fixed ports: main N, DNS N+1, SMTP N+2, one per app region from N+3 (default: free ports).",
    ),
    state_dir: Path = typer.Option(_DEFAULT_DIR, "--state-dir", help=_STATE_DIR_HELP, file_okay=False),
    fmt: str = typer.Option("export", "--format", help="How to print the environment: export, dotenv or json."),
    detach: bool = typer.Option(False, "--detach", help="Start in the background; return once it answers."),
    quiet: bool = typer.Option(False, "--quiet", hidden=True, help="Print nothing (the detached child)."),
) -> None:
    """Start the sandbox, print the environment to export, and serve until SIGTERM/SIGINT."""
    from drctl.sandbox import process

    if fmt not in ("export", "dotenv", "json"):
        raise UsageError(f"--format {fmt!r}: choose export, dotenv or json")
    if estate is not None and from_playbook is not None:
        raise UsageError("give --estate or --from-playbook, not both")
    if mode is not None and from_playbook is None:
        raise UsageError("--mode goes with --from-playbook: it says which run the playbook's estate is seeded for")
    process.refuse_if_running(state_dir)
    if detach:
        argv = _forwarded(estate, from_playbook, faults, fault=fault, port_base=port_base, mode=mode)
        state = process.detach(argv, state_dir)
        typer.echo(process.format_env(state.env, fmt))
        typer.echo(
            f"# sandbox running in the background (pid {state.pid}); stop it with: drctl sandbox down"
            + _dir_flag(state_dir),
            err=True,
        )
        return
    sandbox = _start(estate, from_playbook, faults, fault=fault, port_base=port_base, state_dir=state_dir, mode=mode)
    try:
        process.write_state(state_dir, sandbox)
        if not quiet:
            typer.echo(process.format_env(sandbox.env(), fmt))
            sys.stdout.flush()
            typer.echo(
                f"# sandbox running (pid {_pid()}); stop it with Ctrl-C or: drctl sandbox down" + _dir_flag(state_dir),
                err=True,
            )
    except BaseException:
        sandbox.stop()
        raise
    process.serve(sandbox, state_dir)


@app.command()
def status(
    *,
    state_dir: Path = typer.Option(_DEFAULT_DIR, "--state-dir", help=_STATE_DIR_HELP, file_okay=False),
    fmt: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """Say whether a sandbox runs here and what it emulates (never its secrets)."""
    from drctl.sandbox import process
    from drctl.sandbox.client import SandboxClient

    state = process.read_state(state_dir)
    if state is None:
        raise SandboxError(
            f"no sandbox is running (no state file in {state_dir})", hint="start one with: drctl sandbox up"
        )
    if not state.alive:
        raise SandboxError(
            f"stale state file {state.path}: pid {state.pid} is not running",
            hint="remove it with: drctl sandbox down" + _dir_flag(state_dir),
        )
    with SandboxClient.from_env(state.env) as client:
        snapshot = client.state()
    env = {k: v for k, v in state.env.items() if k not in process.SECRET_NAMES and "PASSWORD" not in k}
    if fmt == "json":
        import json

        typer.echo(
            json.dumps(
                {"pid": state.pid, "endpoints": state.data.get("endpoints"), "env": env, "state": _summary(snapshot)},
                indent=2,
            )
        )
        return
    typer.echo(_render(state.pid, state.data, env, snapshot))


@app.command()
def down(
    *,
    state_dir: Path = typer.Option(_DEFAULT_DIR, "--state-dir", help=_STATE_DIR_HELP, file_okay=False),
    timeout: float = typer.Option(10.0, "--timeout", help="Seconds to wait for a clean stop before killing."),
) -> None:
    """Stop the sandbox started here (SIGTERM, wait, report)."""
    from drctl.sandbox import process

    typer.echo(process.stop_running(state_dir, timeout=timeout))


def _start(
    estate: Path | None,
    from_playbook: Path | None,
    faults: Path | None,
    *,
    fault: list[str],
    port_base: int | None,
    state_dir: Path,
    mode: Mode | None = None,
) -> Any:
    from drctl.sandbox import process
    from drctl.sandbox.faults import parse_faults
    from drctl.sandbox.server import Sandbox, load_faults

    model: Any = None
    if from_playbook is not None:
        from drctl.sandbox.playbook import estate_from_playbook, reverse_for

        model = estate_from_playbook(from_playbook, reverse=reverse_for(mode or Mode.FAILOVER))
    elif estate is not None:
        from drctl.sandbox.estate import load_estate

        model = load_estate(estate)
    rules = load_faults(faults) if faults is not None else []
    for text in fault:
        rules += parse_faults(process.parse_fault_flag(text), source=f"--fault {text}")
    return Sandbox.start(model, faults=rules, workdir=state_dir, port_base=port_base)


def _forwarded(
    estate: Path | None,
    from_playbook: Path | None,
    faults: Path | None,
    *,
    fault: list[str],
    port_base: int | None,
    mode: Mode | None = None,
) -> list[str]:
    argv: list[str] = []
    for flag, value in (("--estate", estate), ("--from-playbook", from_playbook), ("--faults", faults)):
        if value is not None:
            argv += [flag, str(value.resolve())]
    for text in fault:
        argv += ["--fault", text]
    if port_base is not None:
        argv += ["--port-base", str(port_base)]
    if mode is not None:
        argv += ["--mode", mode.value]
    return argv


def _pid() -> int:
    import os

    return os.getpid()


def _dir_flag(state_dir: Path) -> str:
    return "" if state_dir == _DEFAULT_DIR else f" --state-dir {state_dir}"


def _summary(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": snapshot.get("name"),
        "regions": {k: v["status"] for k, v in snapshot.get("regions", {}).items()},
        "failover_groups": {
            k: {"primary": v["primary"], "replication_state": v["replication_state"]}
            for k, v in snapshot.get("failover_groups", {}).items()
        },
        "web_apps": {k: v["state"] for k, v in snapshot.get("web_apps", {}).items()},
        "scale_sets": {k: v["capacity"] for k, v in snapshot.get("scale_sets", {}).items()},
        "faults": len(snapshot.get("faults", [])),
        "data_loss": snapshot.get("data_loss", []),
        "counts": snapshot.get("counts", {}),
    }


def _render(pid: int, data: dict[str, Any], env: dict[str, str], snapshot: dict[str, Any]) -> str:
    summary = _summary(snapshot)
    endpoints = data.get("endpoints", {})
    lines = [
        f"sandbox {summary['name']} running (pid {pid})",
        f"  ARM and Entra ID  {endpoints.get('arm')}",
        f"  admin API         {endpoints.get('admin')}",
        f"  DNS               {endpoints.get('dns')}",
        f"  SMTP              {endpoints.get('smtp')}",
    ]
    for region, url in (endpoints.get("apps") or {}).items():
        lines.append(f"  app {region:<13} {url} ({summary['regions'].get(region, '?')})")
    for name, group in summary["failover_groups"].items():
        lines.append(f"  failover group {name}: primary {group['primary']}, {group['replication_state']}")
    lines.append(
        f"  active faults: {summary['faults']}, forced-failover data-loss records: {len(summary['data_loss'])}"
    )
    lines.append("environment (secrets omitted):")
    lines.extend(f"  {k}={v}" for k, v in env.items())
    return "\n".join(lines)
