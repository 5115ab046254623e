"""``drctl failover``, ``drctl failback`` and ``drctl resume``: start or take up a run and show it.

Each command gathers its options into a ``Console`` settings object and an engine request, so later options
(``--sandbox``, ``drill``) are one more field, not one more code path. Ctrl-C: the first press pauses (no new
step starts, in-flight steps finish, then the operator chooses to go on or abort); the second forces the process
down (``run.interrupted`` journaled best-effort, exit 130). SIGTERM and SIGHUP (the terminal closed, the SSH
session dropped) pause and exit 10.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import typer

from drctl.errors import ExitCode, UsageError
from drctl.playbook.enums import Mode

if TYPE_CHECKING:
    from drctl.engine.context import ServiceBag
    from drctl.engine.journal import Listener
    from drctl.engine.replay import RunView
    from drctl.engine.runplan import RunPlan
    from drctl.engine.session import DrillRequest, Host, RunHandle, RunResult
    from drctl.net.config import NetworkConfig
    from drctl.planning.load import CheckResult, LoadedPlaybook


class Output(StrEnum):
    TEXT = "text"
    JSONL = "jsonl"


STATE_DIR_HELP = "Where runs are kept (default: $DRCTL_STATE_DIR, else .drctl in the working directory)."
OUTPUT_HELP = "text: a live table at a terminal, timestamped lines otherwise; jsonl: the journal's events."


@dataclass(frozen=True, kw_only=True)
class Console:
    """How this invocation talks to its operator."""

    output: Output
    yes: bool
    state_dir: Path | None
    concurrency: int | None
    interactive: bool
    #: ``--accept-data-loss REASON``: answers the forced-failover RPO gate in advance (``--yes`` never does)
    accept_data_loss: str | None = None


def parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--declared-at {text!r} is not an ISO 8601 time, e.g. 2026-03-03T02:00:00+11:00") from None
    if value.tzinfo is None:
        raise UsageError(f"--declared-at {text!r} has no time zone: add one, e.g. +11:00 or Z")
    return value


def services_for(azure: Any, network: NetworkConfig | None = None) -> Callable[[ServiceBag, RunPlan], None]:
    """Per-run services: the Azure clients, connected (and their credentials checked) before the run, and the
    network settings (the sandbox's, or the environment's) built once at start."""
    from drctl.engine.context import NETWORK

    def register(services: ServiceBag, plan: RunPlan) -> None:
        del plan
        if azure is not None:
            services.register("azure", lambda: azure)
        if network is not None:
            services.register(NETWORK, lambda: network)

    return register


def _host(
    console: Console, seed: RunView | None, environ: Mapping[str, str], azure: Any = None
) -> tuple[Host, Callable[[], None]]:
    """The engine's host for this terminal: operator, views, signals; and a function that closes the view."""
    from drctl.cli.live import JsonLines, LiveTable, PlainLines, live_terminal
    from drctl.cli.prompts import InterruptCount, PromptIO, StreamPrompts, TerminalOperator
    from drctl.engine.operator import Operator, Unattended
    from drctl.engine.session import Host
    from drctl.net.config import NetworkConfig

    interrupts = InterruptCount()
    listeners: list[Listener] = []
    close: Callable[[], None] = lambda: None  # noqa: E731 - a no-op default
    prompts: PromptIO = StreamPrompts()
    if console.output is Output.JSONL:
        listeners.append(JsonLines())
    elif live_terminal(sys.stdout):
        table = LiveTable(seed)
        listeners.append(table)
        close = table.stop
        if console.interactive:  # questions in the table's own area: it keeps ticking while they wait
            prompts = table.prompts()
    else:
        listeners.append(PlainLines(run_id=seed.run_id if seed else "RUN"))
    operator: Operator = TerminalOperator(interrupts=interrupts, io=prompts) if console.interactive else Unattended()

    def on_ready(handle: RunHandle) -> None:
        _install_signals(handle, interrupts, close)

    host = Host(
        operator=operator,
        listeners=listeners,
        environ=environ,
        register_services=services_for(azure, NetworkConfig.from_environ(environ)),
        on_ready=on_ready,
    )
    return host, close


def _install_signals(handle: RunHandle, interrupts: Any, close_view: Callable[[], None]) -> None:
    from drctl.engine.events import PauseReason

    def on_sigint(_signum: int, _frame: FrameType | None) -> None:
        interrupts.presses += 1
        if interrupts.presses == 1:
            print(
                "\npausing: no new step starts; steps in flight finish, then you choose (Ctrl-C again forces)",
                file=sys.stderr,
                flush=True,
            )
            handle.request_pause(PauseReason.INTERRUPT)
            return
        handle.force_interrupt()
        close_view()  # the terminal back (live table stopped, cursor shown) before the last words
        print(
            f"\nforced: run {handle.run_id} interrupted; resume it with `drctl resume {handle.run_id}`", file=sys.stderr
        )
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(int(ExitCode.INTERRUPTED))  # worker threads may be inside an action: do not wait for them

    def on_sigterm(_signum: int, _frame: FrameType | None) -> None:
        handle.request_pause(PauseReason.TERMINATE)

    def on_sighup(_signum: int, _frame: FrameType | None) -> None:
        # the terminal is gone (closed, SSH dropped): pause as SIGTERM does, journaled, instead of dying unheard
        handle.request_pause(PauseReason.HANGUP)
        _detach_from_terminal()

    signal.signal(signal.SIGINT, on_sigint)
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGHUP, on_sighup)


def _detach_from_terminal() -> None:
    """After SIGHUP the terminal is gone: a read or write on it fails (EIO), which would turn the orderly pause
    into a traceback. Point stdin, stdout and stderr at /dev/null for the rest of the process (the journal has
    every event; `drctl status` shows them from another session)."""
    # a terminal whose other end has gone is no longer "a tty" (isatty fails with EIO), but still a character
    # device; pipes and files still work and are kept (tests and logs read them)
    terminals = [fd for fd in (0, 1, 2) if _is_character_device(fd)]
    if not terminals:
        return
    try:
        null = os.open(os.devnull, os.O_RDWR)
    except OSError:
        return
    for fd in terminals:
        os.dup2(null, fd)
    os.close(null)


def _is_character_device(fd: int) -> bool:
    import stat

    try:
        return stat.S_ISCHR(os.fstat(fd).st_mode)
    except OSError:
        return False


def _finish(result: RunResult) -> None:
    """The last words (the views have shown the events); the run's exit code."""
    outcome = result.outcome
    for error in result.view_errors:
        print(f"warning: the live view stopped ({error}); the journal has every event", file=sys.stderr)
    from drctl.engine.anchor import read_anchor

    head = read_anchor(result.journal).anchor  # a copy of the head kept elsewhere anchors the journal's end
    print(f"journal: {result.journal}" + (f" ({head.describe()})" if head else ""), file=sys.stderr)
    _open_risks(result)
    if outcome.finished is not None:  # reports: see drctl/cli/report_cmd.py
        from drctl.cli.report_cmd import write_run_reports

        write_run_reports(result.journal)
    if outcome.paused is not None:
        print(f"paused: {outcome.paused.next}", file=sys.stderr)
    elif outcome.exit_code is not ExitCode.OK:
        rid = result.run_id
        # resuming runs the same steps again: it helps once the cause is dealt with, which the error above names
        print(f"see `drctl status {rid}`; once the cause is dealt with, `drctl resume {rid}` goes on", file=sys.stderr)
    if outcome.exit_code is not ExitCode.OK:
        raise typer.Exit(int(outcome.exit_code))


def _open_risks(result: RunResult) -> None:
    """What the run left unfenced, said in its last words: the failover succeeded, the old primary may still write."""
    from drctl.cli.status_view import open_risk_lines
    from drctl.engine.journal import read_journal
    from drctl.engine.replay import RunView

    risks = RunView.of(read_journal(result.journal).events()).open_risks
    for line in open_risk_lines(risks, result.run_id):
        print(line, file=sys.stderr)


def _console(output: Output, yes: bool, state_dir: Path | None, concurrency: int | None) -> Console:
    return Console(output=output, yes=yes, state_dir=state_dir, concurrency=concurrency, interactive=sys.stdin.isatty())


@dataclass(frozen=True, kw_only=True)
class SandboxChoice:
    """``--sandbox``: run against an embedded sandbox seeded from the playbook, with these faults."""

    enabled: bool = False
    faults: tuple[str, ...] = ()


def run_playbook(
    playbook: Path,
    mode: Mode,
    console: Console,
    declared_at: datetime | None,
    sandbox: SandboxChoice = SandboxChoice(),
    *,
    drill: DrillRequest | None = None,
) -> None:
    from contextlib import nullcontext

    from drctl.cli.azure_setup import sandbox_environment, sandbox_summary
    from drctl.engine.paths import resolve_state_dir
    from drctl.planning.load import load_playbook
    from drctl.sandbox.playbook import reverse_for

    state_dir = resolve_state_dir(console.state_dir)
    if sandbox.faults and not sandbox.enabled:
        raise UsageError("--sandbox-fault needs --sandbox")
    # read once: the sandbox is seeded from, and the engine runs, this very text (exit 3 before anything starts)
    loaded = load_playbook(playbook)
    workdir = state_dir / "sandbox" / f"run-{os.getpid()}"
    embedded = (
        sandbox_environment(loaded, list(sandbox.faults), workdir, reverse=reverse_for(mode))
        if sandbox.enabled
        else nullcontext()
    )
    with embedded as running:
        try:
            _start(loaded, mode, console, declared_at, state_dir, sandbox=running, faults=sandbox.faults, drill=drill)
        finally:
            if running is not None:
                print(sandbox_summary(running), file=sys.stderr)


def _start(
    loaded: LoadedPlaybook,
    mode: Mode,
    console: Console,
    declared_at: datetime | None,
    state_dir: Path,
    *,
    sandbox: Any,
    faults: tuple[str, ...] = (),
    drill: DrillRequest | None = None,
) -> None:
    from drctl.cli.azure_setup import connect, environment_for, run_environ, uses_azure
    from drctl.core.clock import SystemClock
    from drctl.engine.runplan import plan_for_mode
    from drctl.engine.session import RunOptions, RunRequest, check_request, start_planned

    # everything the run needs that is not Azure's to say is checked before any credential is built: the
    # playbook (exit 3, loaded by the caller), every ${ENV} it reads, all named at once (exit 2), the settings
    # (subscription: exit 2; endpoints: exit 8), --declared-at and a drill's change windows (exit 2)
    environ = run_environ(sandbox)
    plan = plan_for_mode(loaded, mode, environ)
    environment = environment_for(loaded, environ, sandbox=sandbox, faults=faults)
    options = RunOptions(
        state_dir=state_dir,
        yes=console.yes,
        concurrency=console.concurrency or 8,
        output=console.output.value,
        sandbox=environment.rehearsal,
        accept_data_loss=console.accept_data_loss,
        environment=environment,
    )
    request = RunRequest(playbook=loaded.path, mode=mode, options=options, declared_at=declared_at, drill=drill)
    check_request(plan, request, SystemClock().now())
    azure = connect(loaded, environ) if uses_azure(loaded) else None
    host, close = _host(console, None, environ, azure)
    try:
        result = start_planned(plan, request, host)
    finally:
        close()
    _finish(result)


def _run_command(mode: Mode) -> Callable[..., None]:
    def command(  # noqa: PLR0917 - Typer reads the options from the signature
        playbook: Path = typer.Argument(..., metavar="PLAYBOOK", help="The playbook file."),
        declared_at: str | None = typer.Option(
            None, "--declared-at", help="When the disaster was declared (ISO 8601 with a zone): T0 of the RTO clock."
        ),
        yes: bool = typer.Option(
            False,
            "--yes",
            help="Approve every approval gate as the operator running drctl (never one that needs someone else: "
            "approvers: others).",
        ),
        output: Output = typer.Option(Output.TEXT, "--output", help=OUTPUT_HELP),
        state_dir: Path | None = typer.Option(None, "--state-dir", help=STATE_DIR_HELP),
        concurrency: int = typer.Option(8, "--concurrency", min=1, max=256, help="Most steps running at once."),
        sandbox: bool = typer.Option(
            False, "--sandbox", help="Run against a local sandbox Azure seeded from the playbook (a rehearsal)."
        ),
        sandbox_fault: list[str] = typer.Option(
            [],
            "--sandbox-fault",
            metavar="RULE",
            help="A sandbox fault, e.g. kind=region_outage,region=au-east (repeatable; docs/sandbox.md).",
        ),
        accept_data_loss: str | None = typer.Option(
            None,
            "--accept-data-loss",
            metavar="REASON",
            help="Accept in advance the data loss of a forced failover above the RPO gate, with this reason "
            "(journaled). --yes never accepts data loss.",
        ),
    ) -> None:
        if accept_data_loss is not None and not accept_data_loss.strip():
            raise UsageError("--accept-data-loss needs a reason: it is journaled as the approval")
        console = _console(output, yes, state_dir, concurrency)
        run_playbook(
            playbook,
            mode,
            replace(console, accept_data_loss=accept_data_loss),
            parse_time(declared_at),
            SandboxChoice(enabled=sandbox, faults=tuple(sandbox_fault)),
        )

    return command


def resume(  # noqa: PLR0917 - Typer reads the options from the signature
    run: str = typer.Argument(..., metavar="RUN", help="The run id (a unique prefix will do)."),
    yes: bool = typer.Option(False, "--yes", help="Approve approval gates as the operator running drctl."),
    output: Output = typer.Option(Output.TEXT, "--output", help=OUTPUT_HELP),
    state_dir: Path | None = typer.Option(None, "--state-dir", help=STATE_DIR_HELP),
    concurrency: int | None = typer.Option(None, "--concurrency", min=1, max=256, help="Default: as the run began."),
    force: bool = typer.Option(False, "--force", help="Resume although the playbook changed (needs --reason)."),
    rerun_unchecked: list[str] = typer.Option(
        [], "--rerun-unchecked", metavar="STEP", help="Run again a mutating step that has no done-check."
    ),
    skip: list[str] = typer.Option([], "--skip", metavar="STEP", help="Skip this step (needs --reason)."),
    abort: bool = typer.Option(False, "--abort", help="End the run as aborted instead (needs --reason)."),
    reason: str | None = typer.Option(None, "--reason", help="Why: journaled with --force, --skip or --abort."),
    sandbox: bool = typer.Option(
        False,
        "--sandbox",
        help="Resume a rehearsal that ran on an embedded sandbox (--sandbox) against a new one seeded from the "
        "same playbook, with the same faults: the estate must be the one the run began with.",
    ),
) -> None:
    """Take up a run that stopped (crash, pause, failure): skip what finished, check what was interrupted.

    A step that started but did not finish is checked first (its action's done-check) and only run again when
    not done; a mutating step without a done-check is never run again blindly (--rerun-unchecked STEP after
    checking by hand). T0 stays the original run's. The run resumes only where it began (the same Azure, or a
    sandbox of the same estate); --abort needs no playbook, credentials or estate.
    """
    from contextlib import nullcontext

    from drctl.cli.azure_setup import sandbox_environment
    from drctl.engine.history import load_run
    from drctl.engine.paths import StateDir, resolve_state_dir
    from drctl.engine.resume import resumable_view
    from drctl.planning.load import check_file, load_playbook
    from drctl.sandbox.playbook import reverse_for

    if (force or skip or abort) and not (reason or "").strip():
        raise UsageError("--force, --skip and --abort need --reason: it is journaled")
    if abort and sandbox:
        raise UsageError("--abort needs no sandbox: it only closes the run's journal")
    root = resolve_state_dir(state_dir)
    seed = load_run(StateDir(root), run)
    # a broken journal or a run that already succeeded is refused from the journal alone: no sandbox, setting
    # or credential is needed to say so
    resumable_view(seed.contents)
    started = seed.view.started
    assert started is not None
    faults = started.environment.faults if started.environment is not None else ()
    # read once for the whole resume (sandbox seeding, checks, the engine); an abort needs no playbook
    found = None if abort else check_file(Path(started.playbook_path))
    if sandbox and (found is None or found.loaded is None):
        load_playbook(started.playbook_path)  # raises the playbook's errors (exit 3): nothing to seed from
    workdir = root / "sandbox" / f"resume-{os.getpid()}"
    embedded = (
        # seeded as the run's was (its mode is journaled), or the estate would not be the one it began with
        sandbox_environment(found.loaded, list(faults), workdir, reverse=reverse_for(started.mode))
        if sandbox and found is not None and found.loaded is not None
        else nullcontext()
    )
    choices = _ResumeChoices(
        force_reason=reason if force else None,
        rerun_unchecked=tuple(rerun_unchecked),
        skip=dict.fromkeys(skip, reason or ""),
        abort_reason=reason if abort else None,
    )
    with embedded as running:
        _resume(seed.view, _console(output, yes, state_dir, concurrency), root, choices, sandbox=running, found=found)


@dataclass(frozen=True)
class _ResumeChoices:
    force_reason: str | None
    rerun_unchecked: tuple[str, ...]
    skip: dict[str, str]
    abort_reason: str | None


def _resume(
    seed: RunView, console: Console, root: Path, choices: _ResumeChoices, *, sandbox: Any, found: CheckResult | None
) -> None:
    from drctl.cli.azure_setup import connect, environment_for, run_environ, uses_azure
    from drctl.engine.events import Environment
    from drctl.engine.resume import ResumeRequest, check_resume, environment_refusal, resume_run
    from drctl.engine.session import RunOptions
    from drctl.errors import DrctlError, NotFound

    started = seed.started
    assert started is not None
    environ = run_environ(sandbox)

    def request_in(environment: Environment | None) -> ResumeRequest:
        options = RunOptions(
            state_dir=root,
            yes=console.yes,
            concurrency=console.concurrency or int(started.options.get("concurrency", 8)),
            output=console.output.value,
            sandbox=environment.rehearsal if environment is not None else bool(started.options.get("sandbox")),
            environment=environment,
        )
        return ResumeRequest(
            run_id=seed.run_id,
            options=options,
            force_reason=choices.force_reason,
            rerun_unchecked=choices.rerun_unchecked,
            skip=choices.skip,
            abort_reason=choices.abort_reason,
            loaded=found.loaded if found is not None else None,
        )

    azure = None
    environment = None
    if choices.abort_reason is None:
        # everything is checked before any credential is asked for: where the run began (a refusal needs
        # none), the playbook, every ${ENV} it reads and the settings
        assert found is not None
        if found.loaded is not None:
            then = started.environment
            try:
                environment = environment_for(
                    found.loaded, environ, sandbox=sandbox, faults=then.faults if then else ()
                )
            except DrctlError:
                if then is None or not then.rehearsal or environ.get("DRCTL_SANDBOX_ADMIN"):
                    # Azure, or the shell points at a sandbox and lacks settings: a missing subscription variable
                    # is rarely the only one missing, so name them all at once
                    check_resume(request_in(None), environ)
                    raise
                # a rehearsal, and this shell configures no Azure: the refusal below says how to go on
                environment = Environment(kind="none")
            refusal = environment_refusal(started.environment, environment)
            if refusal is not None:
                message, hint = refusal
                rid = seed.run_id
                raise NotFound(f"run {rid}: {message}; resume refused, nothing was run", hint=hint.format(run=rid))
        check_resume(request_in(environment), environ)
        if found.loaded is not None and uses_azure(found.loaded):
            azure = connect(found.loaded, environ)
    request = request_in(environment)
    host, close = _host(console, seed, environ, azure)
    try:
        result = resume_run(request, host)
    finally:
        close()
    _finish(result)


def register(app: typer.Typer) -> None:
    app.command(
        "failover",
        help="Fail over: run the playbook's steps from source to target against the RTO clock.\n\n"
        "Exit codes: 0 done, 1 a step failed, 4 objective breached, 5 aborted, 6 locked, 7 journal, 10 paused.",
    )(_run_command(Mode.FAILOVER))
    app.command(
        "failback",
        help="Fail back: the same playbook with source and target swapped (mode failback).",
    )(_run_command(Mode.FAILBACK))
    app.command("resume")(resume)
