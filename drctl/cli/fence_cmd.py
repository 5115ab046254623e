"""``drctl fence RUN``: fence what a run left open once the region it left answers again.

A fence step that could not fence an item journaled it unfenced: an open risk that ``status``, ``runs`` and the
reports show. This command takes the run's fence step up again for exactly those items, appending to the run's own
journal under the application's lock (``engine/fencing.py``). A run with nothing open is answered from its journal
alone: no credential is asked for and nothing is written or sent.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import typer

from drctl.cli.run_cmd import STATE_DIR_HELP
from drctl.errors import ExitCode


def fence(
    run: str = typer.Argument(..., metavar="RUN", help="The run id (a unique prefix will do)."),
    state_dir: Path | None = typer.Option(None, "--state-dir", help=STATE_DIR_HELP),
    sandbox: bool = typer.Option(
        False,
        "--sandbox",
        help="Fence a rehearsal that ran on an embedded sandbox (--sandbox) on a new one seeded from the same "
        "playbook, with the region answering (no fault): the estate must be the one the run began with.",
    ),
) -> None:
    """Fence what a run left unfenced (its open risks) now that the region it left answers again.

    Exactly the items still open are fenced, through the run's fence step, appended to the run's journal; status
    and the report then show them closed. A run with nothing open: nothing is sent. Exit 0 when nothing stays
    open, 1 when some item still cannot be fenced, 6 locked (the run is live), 7 journal, 8 Azure, 9 no such run
    or refused.
    """
    from contextlib import nullcontext

    from drctl.cli.azure_setup import sandbox_environment
    from drctl.engine.history import load_run
    from drctl.engine.paths import StateDir, resolve_state_dir
    from drctl.planning.load import load_playbook
    from drctl.sandbox.playbook import reverse_for

    root = resolve_state_dir(state_dir)
    seed = load_run(StateDir(root), run)
    started = seed.view.started
    assert started is not None
    if not seed.view.open_risks:
        # from the journal alone: nothing to fence is no credential, no lock, no write
        typer.echo(f"run {seed.run_id}: nothing open: every fenced item is fenced (or nothing needed fencing)")
        return
    loaded = load_playbook(started.playbook_path)
    workdir = root / "sandbox" / f"fence-{os.getpid()}"
    embedded = sandbox_environment(loaded, [], workdir, reverse=reverse_for(started.mode)) if sandbox else nullcontext()
    with embedded as running:
        _fence(seed.run_id, root, loaded, running)


def _fence(run_id: str, root: Path, loaded: Any, sandbox: Any) -> None:
    from drctl.cli.azure_setup import connect, environment_for, run_environ, uses_azure
    from drctl.cli.live import PlainLines
    from drctl.cli.run_cmd import services_for
    from drctl.cli.status_view import open_risk_lines
    from drctl.engine.fencing import FenceRequest, fence_run
    from drctl.engine.operator import Unattended
    from drctl.engine.session import Host, RunOptions
    from drctl.net.config import NetworkConfig

    environ = run_environ(sandbox)
    environment = environment_for(loaded, environ, sandbox=sandbox)
    options = RunOptions(state_dir=root, sandbox=environment.rehearsal, environment=environment)
    request = FenceRequest(run_id=run_id, options=options, loaded=loaded)
    azure = connect(loaded, environ) if uses_azure(loaded) else None
    host = Host(
        operator=Unattended(),
        listeners=[PlainLines(run_id=run_id)],
        environ=environ,
        register_services=services_for(azure, NetworkConfig.from_environ(environ)),
    )
    result = fence_run(request, host)
    closed = len(result.before) - len(result.after)
    print(f"run {run_id}: {closed} of {len(result.before)} open item(s) fenced now", file=sys.stderr)
    if result.after:
        for line in open_risk_lines(list(result.after), run_id):
            print(line, file=sys.stderr)
        raise typer.Exit(int(ExitCode.STEP_FAILED))
    print("no open risk remains", file=sys.stderr)


def register(app: typer.Typer) -> None:
    app.command("fence")(fence)
