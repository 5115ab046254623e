"""Starting runs: the engine's API for the CLI (``resume.py`` takes runs up again).

``start_run(RunRequest, Host)`` (and ``resume.resume_run(ResumeRequest, Host)``) do everything in order and return a
``RunResult`` (how the run ended and its exit code); problems before anything runs raise ``DrctlError``s:

1. load and validate the playbook (``PlaybookError``, exit 3); build the run plan, reading every ``${ENV}``
   (a missing one: ``UsageError``, exit 2); check ``--declared-at`` (not in the future);
2. take the playbook's lock (``LockHeld``, exit 6), create the run directory and journal (``JournalError``, 7);
3. journal ``run.started`` (or ``run.resumed``), then hand over to the ``Runner``.

``Host`` is what the caller injects: clock, operator, listeners (live view), services, signal wiring. Options
that later commands add (``--sandbox``, ``drill``) become fields of ``RunRequest``.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from drctl import __version__
from drctl.actions.prior import EARLIER_PRIORS
from drctl.actions.runtime import FACT_SERVICE_RESTORED
from drctl.core.clock import Clock, SystemClock
from drctl.engine import events as ev
from drctl.engine.approvals import DATA_LOSS, ApprovalDesk
from drctl.engine.context import NETWORK, FactBook, RunScope, ServiceBag
from drctl.engine.history import EarlierRuns
from drctl.engine.identity import current as current_identity
from drctl.engine.journal import Journal, Listener, Recorder
from drctl.engine.lock import RunLock
from drctl.engine.objectives import ObjectiveTracker
from drctl.engine.operator import ApprovalAnswer, Operator, SerialAsker, Unattended
from drctl.engine.paths import StateDir, application_key, new_run_id
from drctl.engine.replay import RunView, restored_moment
from drctl.engine.runner import Runner, RunOutcome, StartState
from drctl.engine.runplan import RunPlan, plan_for_mode
from drctl.errors import UsageError
from drctl.net.config import NetworkConfig
from drctl.planning.load import load_playbook
from drctl.playbook.enums import Mode


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    state_dir: Path
    yes: bool = False
    concurrency: int = 8
    #: how the CLI shows the run (recorded in the journal's options)
    output: str = "text"
    #: the run drives an embedded sandbox, not Azure (a rehearsal: the journal says so)
    sandbox: bool = False
    #: ``--accept-data-loss REASON``: the operator accepts, in advance, a forced failover's data loss
    accept_data_loss: str | None = None
    #: where the run runs (Azure, a sandbox): journaled, and resume refuses another one
    environment: ev.Environment | None = None

    def journaled(self) -> dict[str, object]:
        """The options as ``run.started`` and ``run.resumed`` record them."""
        return {
            "concurrency": self.concurrency,
            "yes": self.yes,
            "output": self.output,
            "sandbox": self.sandbox,
            "accept_data_loss": self.accept_data_loss,
        }


@dataclass(frozen=True, kw_only=True)
class DrillRequest:
    """A drill's own options: starting outside every change window needs the operator's reason."""

    outside_window: bool = False
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    playbook: Path
    mode: Mode
    options: RunOptions
    #: T0: when the disaster was declared; the run start when None
    declared_at: datetime | None = None
    #: for ``Mode.DRILL``: the change-window override (a drill without one must start inside a window)
    drill: DrillRequest | None = None


@dataclass(frozen=True)
class RunHandle:
    """What the CLI may do to a run in progress (signal handlers)."""

    run_id: str
    journal: Path
    request_pause: Callable[[ev.PauseReason], None]
    force_interrupt: Callable[[], None]


@dataclass(frozen=True, kw_only=True)
class Host:
    clock: Clock = field(default_factory=SystemClock)
    operator: Operator = field(default_factory=Unattended)
    listeners: Sequence[Listener] = ()
    #: the run's environment, read (never written) for ``${ENV}`` values and the network settings; None: the process's
    environ: Mapping[str, str] | None = None
    #: registers per-run service factories (the Azure clients, the network settings) before any step runs
    register_services: Callable[[ServiceBag, RunPlan], None] | None = None
    on_ready: Callable[[RunHandle], None] | None = None
    abandon_grace: float = 30.0
    approval_poll_seconds: float = 0.5
    rng: random.Random | None = None


@dataclass(frozen=True)
class RunResult:
    run_id: str
    journal: Path
    outcome: RunOutcome
    #: views that broke during the run and were dropped (the journal has everything)
    view_errors: tuple[str, ...] = ()


def environ_of(host: Host) -> Mapping[str, str]:
    return os.environ if host.environ is None else host.environ


def _t0(declared_at: datetime | None, now: datetime) -> datetime:
    if declared_at is None:
        return now
    if declared_at.tzinfo is None:
        raise UsageError("--declared-at needs a time zone, e.g. 2026-03-03T02:00:00+11:00 or ...Z")
    if declared_at > now + timedelta(seconds=1):
        raise UsageError(f"--declared-at {declared_at.isoformat()} is in the future (now {now.isoformat()})")
    return declared_at


def holder_for(run_id: str, playbook: str, now: datetime, *, application: str, state: StateDir) -> ev.Holder:
    me = current_identity()
    return ev.Holder(
        run_id=run_id,
        pid=os.getpid(),
        host=me.host,
        since=now.isoformat(),
        playbook=playbook,
        user=me.os_user,
        application=application,
        state_dir=str(state.root.resolve()),
    )


def start_run(request: RunRequest, host: Host) -> RunResult:
    loaded = load_playbook(request.playbook)
    return start_planned(plan_for_mode(loaded, request.mode, environ_of(host)), request, host)


def check_request(plan: RunPlan, request: RunRequest, now: datetime) -> None:
    """What ``start_planned`` refuses before anything runs (``--declared-at``, a drill's change windows: exit 2),
    for a caller to check before it asks for a credential; ``start_planned`` checks again on its own clock."""
    _t0(request.declared_at, now)
    _drill_info(plan, request, now)


def start_planned(plan: RunPlan, request: RunRequest, host: Host) -> RunResult:
    """``start_run`` from a plan already built (tests swap implementations in a plan)."""
    loaded = plan.loaded
    now = host.clock.now()
    t0 = _t0(request.declared_at, now)
    drill = _drill_info(plan, request, now)
    state = StateDir(request.options.state_dir)
    state.prepare()
    run_id = new_run_id(now)
    key = application_key(plan.name, loaded.playbook.azure.subscription, environ_of(host))
    lock = RunLock.acquire(state.lock_file(key), holder_for(run_id, plan.name, now, application=key, state=state))
    try:
        state.create_run_dir(run_id)
        journal = Journal.create(state.journal(run_id))
        try:
            recorder = Recorder(journal, plan.secrets, host.listeners)
            pb = loaded.playbook
            opts = request.options
            recorder.emit(
                ev.RunStarted(
                    at=now,
                    run_id=run_id,
                    playbook_name=pb.name,
                    playbook_path=str(loaded.path.resolve()),
                    playbook_sha256=loaded.sha256,
                    mode=request.mode.value,
                    source=plan.scope.source_name,
                    target=plan.scope.target_name,
                    operator=current_identity(),
                    pid=os.getpid(),
                    drctl_version=__version__,
                    t0=t0,
                    declared=request.declared_at is not None,
                    rto_seconds=pb.objectives.rto.total_seconds(),
                    rpo_seconds=pb.objectives.rpo.total_seconds(),
                    options=opts.journaled(),
                    steps=tuple(s.info() for s in plan.steps.values()),
                    excluded_steps=plan.excluded,
                    critical_path=plan.schedule.critical_path,
                    critical_path_seconds=plan.schedule.length,
                    secrets=plan.secrets.names,
                    mttr_seconds=pb.objectives.mttr.total_seconds() if pb.objectives.mttr else None,
                    drill=drill,
                    environment=opts.environment,
                )
            )
            journal_takeover(recorder, lock, now)
            outcome = execute_plan(
                plan, recorder, host, run_id=run_id, t0=t0, state=state, opts=opts, view=None, start=None
            )
        finally:
            journal.close()
    finally:
        lock.release()
    return RunResult(run_id, journal.path, outcome, tuple(recorder.listener_errors))


def _drill_info(plan: RunPlan, request: RunRequest, now: datetime) -> ev.DrillInfo | None:
    """A drill's shape and its change-window check, on the run's clock: refused (exit 2) before anything runs."""
    if plan.drill is None:
        return None
    from drctl.engine.drill import check_window

    options = request.drill or DrillRequest()
    window = check_window(
        plan.loaded.playbook.change_windows,
        now,
        outside_window=options.outside_window,
        reason=options.reason,
        sandbox=request.options.sandbox,
    )
    shape = plan.drill
    return ev.DrillInfo(
        hold_seconds=shape.hold_seconds,
        probe_interval_seconds=shape.probe_interval_seconds,
        probe_url=shape.probe_url,
        phases=shape.phases,
        window=window,
    )


def journal_takeover(recorder: Recorder, lock: RunLock, now: datetime) -> None:
    if lock.previous is not None:
        recorder.emit(ev.LockTakenOver(at=now, lock=str(lock.path), previous=lock.previous))


def _restored(view: RunView | None, plan: RunPlan, t0: datetime) -> float | None:
    """When the service was restored before this process took the run up (seconds since T0), if it was."""
    if view is None:
        return None
    restored = view.first_restored(plan.rto_steps) if plan.drill is not None else view.restored_at
    return (restored - t0).total_seconds() if restored else None


def _served(view: RunView | None, plan: RunPlan, t0: datetime) -> dict[str, float]:
    """When each step's ``service.restored`` said clients were served before this process took the run up."""
    if view is None:
        return {}
    served: dict[str, float] = {}
    for fact in view.facts:
        if fact.kind == FACT_SERVICE_RESTORED and fact.step in plan.rto_steps:
            served.setdefault(fact.step, (restored_moment(fact) - t0).total_seconds())
    return served


def execute_plan(
    plan: RunPlan,
    recorder: Recorder,
    host: Host,
    *,
    run_id: str,
    t0: datetime,
    state: StateDir,
    opts: RunOptions,
    view: RunView | None,
    start: StartState | None,
) -> RunOutcome:
    clock = host.clock
    pb = plan.loaded.playbook
    rto = pb.objectives.rto.total_seconds()
    already = frozenset(e.type for e in view.objective_events) if view else frozenset()
    tracker = ObjectiveTracker(
        t0=t0,
        rto_seconds=rto,
        rpo_seconds=pb.objectives.rpo.total_seconds(),
        nodes=plan.nodes,
        already=already,
        restored_at=_restored(view, plan, t0),
        rpo_exposure=view.rpo_exposure if view else None,
        phased=plan.drill is not None,
        switches=frozenset(k for k, sp in plan.steps.items() if sp.spec.moves_traffic and k in plan.rto_steps),
        served=_served(view, plan, t0),
    )
    if view is not None:
        for sid, step in view.steps.items():
            if step.finished and step.finished_at is not None:
                tracker.step_finished(sid, step.finished_at)
    services = ServiceBag()
    # the network settings of the run's environment, read once; a host may register its own (the CLI's, from a
    # sandbox) and then this one is never built
    environ = environ_of(host)
    services.register(NETWORK, lambda: NetworkConfig.from_environ(environ))
    # what earlier runs of this application found before they changed a region (a failback's standby.return)
    services.register(EARLIER_PRIORS, lambda: EarlierRuns(state, pb.name, run_id))
    if host.register_services is not None:
        host.register_services(services, plan)
    asker = SerialAsker(host.operator)
    desk = ApprovalDesk(
        run_id=run_id,
        directory=state.approvals(run_id),
        recorder=recorder,
        clock=clock,
        asker=asker,
        auto_yes=current_identity() if opts.yes else None,
        operators=(current_identity(), *((view.started.operator,) if view and view.started else ())),
        standing=(
            {DATA_LOSS: ApprovalAnswer(True, current_identity(), opts.accept_data_loss, via="flag")}
            if opts.accept_data_loss
            else None
        ),
        poll_seconds=host.approval_poll_seconds,
        granted=view.granted if view else None,
        requested=view.requests_per_step if view else None,
    )

    def on_fact(step: str, kind: str, data: Mapping[str, object]) -> None:
        """Objective events a fact causes (an RPO breach), journaled right after the fact."""
        for event in tracker.fact(step, kind, data, clock.now()):
            recorder.emit(event)

    def run_facts() -> dict[str, str]:
        from drctl.durations import format_duration

        now = clock.now()
        elapsed = tracker.since_t0(now)
        exposure = tracker.rpo_exposure
        return {
            "playbook": pb.name,
            "mode": plan.mode.value,
            "source": plan.scope.source_name,
            "target": plan.scope.target_name,
            "run_id": run_id,
            "operator": current_identity().os_user,
            "status": "running",
            "elapsed": format_duration(elapsed),
            "rto": format_duration(rto),
            "rto_remaining": format_duration(rto - elapsed),
            "projected": f"T+{format_duration(tracker.projection(now))}",
            "rpo": format_duration(pb.objectives.rpo),
            "rpo_exposure": format_duration(exposure) if exposure is not None else "not measured yet",
            "steps_done": f"{len(tracker.finished)}/{len(plan.steps)}",
        }

    scope = RunScope(
        run_id=run_id,
        mode=plan.mode,
        scope=plan.scope,
        t0=t0,
        rto_deadline=t0 + timedelta(seconds=rto),
        clock=clock,
        recorder=recorder,
        secrets=plan.secrets,
        services=services,
        approvals=desk,
        on_fact=on_fact,
        facts=run_facts,
        journaled=FactBook(view.facts if view else ()),
    )
    runner = Runner(
        plan=plan,
        run=scope,
        asker=asker,
        tracker=tracker,
        start=start,
        concurrency=opts.concurrency,
        abandon_grace=host.abandon_grace,
        rng=host.rng,
    )
    if host.on_ready is not None:
        host.on_ready(RunHandle(run_id, recorder.journal.path, runner.request_pause, runner.force_interrupt))
    try:
        return runner.execute()
    finally:
        asker.close()
        services.close()
