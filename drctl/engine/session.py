"""Starting and resuming runs: the engine's API for the CLI.

``start_run(RunRequest, Host)`` and ``resume_run(ResumeRequest, Host)`` do everything in order and return a
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
from drctl.engine import events as ev
from drctl.engine.approvals import ApprovalDesk
from drctl.engine.clock import Clock, SystemClock
from drctl.engine.context import RunScope, ServiceBag
from drctl.engine.identity import current as current_identity
from drctl.engine.journal import Journal, Listener, Recorder, read_journal, repair_torn_tail
from drctl.engine.lock import RunLock
from drctl.engine.objectives import ObjectiveTracker
from drctl.engine.operator import DecisionPrompt, Operator, SerialAsker, Unattended
from drctl.engine.paths import StateDir, new_run_id
from drctl.engine.replay import RunState, RunView, StepState
from drctl.engine.runner import Runner, RunOutcome, StartState
from drctl.engine.runplan import RunPlan, build_run_plan
from drctl.errors import JournalError, NotFound, UsageError
from drctl.playbook.enums import Mode
from drctl.playbook.load import load_playbook


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    state_dir: Path
    yes: bool = False
    concurrency: int = 8
    #: how the CLI shows the run (recorded in the journal's options)
    output: str = "text"


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    playbook: Path
    mode: Mode
    options: RunOptions
    #: T0: when the disaster was declared; the run start when None
    declared_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ResumeRequest:
    run_id: str | None
    options: RunOptions
    #: resume although the playbook changed since the run began (journaled with the reason)
    force_reason: str | None = None
    #: mutating steps without a done-check that the operator checked by hand and wants run again
    rerun_unchecked: tuple[str, ...] = ()
    #: step -> reason: skip these steps instead of running them
    skip: Mapping[str, str] = field(default_factory=dict)
    #: end the run as aborted instead of resuming it
    abort_reason: str | None = None


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
    environ: Mapping[str, str] | None = None
    #: registers per-run service factories (the Azure client factory, later) before any step runs
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


def _environ(host: Host) -> Mapping[str, str]:
    return os.environ if host.environ is None else host.environ


def _t0(declared_at: datetime | None, now: datetime) -> datetime:
    if declared_at is None:
        return now
    if declared_at.tzinfo is None:
        raise UsageError("--declared-at needs a time zone, e.g. 2026-03-03T02:00:00+11:00 or ...Z")
    if declared_at > now + timedelta(seconds=1):
        raise UsageError(f"--declared-at {declared_at.isoformat()} is in the future (now {now.isoformat()})")
    return declared_at


def _holder(run_id: str, playbook: str, now: datetime) -> ev.Holder:
    me = current_identity()
    return ev.Holder(run_id=run_id, pid=os.getpid(), host=me.host, since=now.isoformat(), playbook=playbook)


def start_run(request: RunRequest, host: Host) -> RunResult:
    loaded = load_playbook(request.playbook)
    return start_planned(build_run_plan(loaded, request.mode, _environ(host)), request, host)


def start_planned(plan: RunPlan, request: RunRequest, host: Host) -> RunResult:
    """``start_run`` from a plan already built (tests swap implementations in a plan)."""
    loaded = plan.loaded
    now = host.clock.now()
    t0 = _t0(request.declared_at, now)
    state = StateDir(request.options.state_dir)
    state.prepare()
    run_id = new_run_id(now)
    lock = RunLock.acquire(state.lock_file(plan.name), _holder(run_id, plan.name, now))
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
                    options={"concurrency": opts.concurrency, "yes": opts.yes, "output": opts.output},
                    steps=tuple(s.info() for s in plan.steps.values()),
                    excluded_steps=plan.excluded,
                    critical_path=plan.schedule.critical_path,
                    critical_path_seconds=plan.schedule.length,
                    secrets=plan.secrets.names,
                )
            )
            _journal_takeover(recorder, lock, now)
            outcome = _execute(plan, recorder, host, run_id=run_id, t0=t0, state=state, opts=opts, view=None)
        finally:
            journal.close()
    finally:
        lock.release()
    return RunResult(run_id, journal.path, outcome)


def _journal_takeover(recorder: Recorder, lock: RunLock, now: datetime) -> None:
    if lock.previous is not None:
        recorder.emit(ev.LockTakenOver(at=now, lock=str(lock.path), previous=lock.previous))


def resume_run(request: ResumeRequest, host: Host) -> RunResult:
    state = StateDir(request.options.state_dir)
    run_id = state.find(request.run_id)
    path = state.journal(run_id)
    view = _readable_view(path)
    started = view.started
    assert started is not None
    loaded = load_playbook(started.playbook_path)
    changed = loaded.sha256 != started.playbook_sha256
    if changed and not request.force_reason:
        raise NotFound(
            f"run {run_id}: the playbook {started.playbook_path} changed since the run began (sha256 "
            f"{started.playbook_sha256[:12]} then, {loaded.sha256[:12]} now); resume refused",
            hint=f'review the change; to resume with it anyway: drctl resume {run_id} --force --reason "..."',
        )
    plan = build_run_plan(loaded, Mode(started.mode), _environ(host))
    now = host.clock.now()
    lock = RunLock.acquire(state.lock_file(started.playbook_name), _holder(run_id, started.playbook_name, now))
    try:
        contents = read_journal(path)  # again, under the lock: the last holder may have written meanwhile
        view = RunView.of(contents.events())
        rerun = _unchecked_reruns(view, plan, request, host.operator)
        contents, saved = repair_torn_tail(contents)
        journal = Journal.reopen(contents)
        try:
            recorder = Recorder(journal, plan.secrets, host.listeners)
            if saved is not None and contents.lines:
                recorder.emit(
                    ev.JournalRepaired(
                        at=now, line=len(contents.lines) + 1, dropped_bytes=saved.stat().st_size, saved_to=str(saved)
                    )
                )
            me = current_identity()
            opts = request.options
            recorder.emit(
                ev.RunResumed(
                    at=now,
                    operator=me,
                    pid=os.getpid(),
                    drctl_version=__version__,
                    playbook_sha256=loaded.sha256,
                    forced=changed,
                    reason=request.force_reason if changed else None,
                    options={"concurrency": opts.concurrency, "yes": opts.yes, "output": opts.output},
                    steps=tuple(s.info() for s in plan.steps.values()),
                )
            )
            _journal_takeover(recorder, lock, now)
            view = _journal_decisions(recorder, view=view, plan=plan, request=request, rerun=rerun, me=me, now=now)
            if request.abort_reason is not None:
                outcome = _abort(recorder, view, now)
            else:
                outcome = _execute(
                    plan, recorder, host, run_id=run_id, t0=started.t0, state=state, opts=opts, view=view
                )
        finally:
            journal.close()
    finally:
        lock.release()
    return RunResult(run_id, path, outcome)


def _readable_view(path: Path) -> RunView:
    contents = read_journal(path)
    if contents.broken is not None:
        raise JournalError(
            f"{path}: line {contents.broken.line}: {contents.broken.message}; resume refused",
            hint="`drctl runs verify RUN` shows the same; an edited journal cannot be trusted to resume from",
        )
    view = RunView.of(contents.events())
    if view.started is None:
        raise JournalError(f"{path}: no run.started event; this is not a journal drctl can resume")
    if view.state is RunState.SUCCEEDED:
        raise NotFound(f"run {view.run_id} already succeeded; there is nothing to resume")
    return view


def _unchecked_reruns(view: RunView, plan: RunPlan, request: ResumeRequest, operator: Operator) -> set[str]:
    """Mutating steps that started, never finished and cannot be checked: rerun only with the operator's word."""
    unchecked = [
        sid
        for sid, step in plan.steps.items()
        if sid in view.steps
        and view.steps[sid].interrupted_mid_way
        and step.mutating
        and step.implementation.done is None
        and sid not in request.skip
    ]
    rerun = {sid for sid in unchecked if sid in request.rerun_unchecked}
    for sid in unchecked:
        if sid in rerun or request.abort_reason is not None:
            continue
        prompt = DecisionPrompt(view.run_id, ev.Question.UNCHECKED, (ev.Choice.RERUN, ev.Choice.ABORT), step=sid)
        decision = operator.decide(prompt) if operator.interactive else None
        if decision is None or decision.choice is not ev.Choice.RERUN:
            raise NotFound(
                f"run {view.run_id}: step {sid!r} changes the estate, started but did not finish, and its action "
                "has no done-check; resume will not repeat a mutation blindly; nothing was run",
                hint=f"check the estate by hand, then: drctl resume {view.run_id} --rerun-unchecked {sid} "
                f'(or --skip {sid} --reason "...")',
            )
        rerun.add(sid)
    return rerun


def _journal_decisions(
    recorder: Recorder,
    *,
    view: RunView,
    plan: RunPlan,
    request: ResumeRequest,
    rerun: set[str],
    me: ev.Identity,
    now: datetime,
) -> RunView:
    """The operator's answers given on the command line, journaled before anything runs; the view updated."""
    events: list[ev.Event] = []
    for sid in sorted(rerun):
        events.append(ev.DecisionMade(at=now, question=ev.Question.UNCHECKED, choice=ev.Choice.RERUN, by=me, step=sid))
    for sid, reason in request.skip.items():
        if sid not in plan.steps or sid not in view.steps:
            raise UsageError(f"--skip {sid}: no such step in this run")
        if view.steps[sid].finished:
            continue
        events.append(ev.StepSkipped(at=now, step=sid, reason=reason, by=me))
    for sid in view.pending_decisions:
        if sid not in request.skip and request.abort_reason is None:
            events.append(
                ev.DecisionMade(at=now, question=ev.Question.FAILURE, choice=ev.Choice.RETRY, by=me, step=sid)
            )
    if request.abort_reason is not None:
        reason = request.abort_reason
        events.append(
            ev.DecisionMade(at=now, question=ev.Question.INTERRUPT, choice=ev.Choice.ABORT, by=me, reason=reason)
        )
    for event in events:
        recorder.emit(event)
        view.apply(event)
    return view


def _abort(recorder: Recorder, view: RunView, now: datetime) -> RunOutcome:
    from drctl.engine.runner import Ending
    from drctl.errors import ExitCode

    failed = tuple(sid for sid, s in view.steps.items() if not s.finished and s.started_at is not None)
    event = ev.RunFinished(at=now, ending=ev.RunEnding.ABORTED, exit_code=int(ExitCode.ABORTED), failed_steps=failed)
    recorder.emit(event)
    return RunOutcome(Ending.ABORTED, ExitCode.ABORTED, finished=event)


def _start_state(view: RunView, plan: RunPlan) -> StartState:
    steps = {sid: view.steps[sid] for sid in plan.steps if sid in view.steps}
    last_run_at: dict[str, datetime] = {}
    for sid, v in steps.items():
        last = v.last_repetition_at or v.finished_at
        if v.finished and plan.steps[sid].every and last is not None:
            last_run_at[sid] = last
    return StartState(
        done=frozenset(sid for sid, v in steps.items() if v.finished),
        advisory=frozenset(sid for sid, v in steps.items() if v.finished and v.advisory),
        skipped=frozenset(sid for sid, v in steps.items() if v.state is StepState.SKIPPED),
        check_first=frozenset(
            sid for sid, v in steps.items() if v.interrupted_mid_way and plan.steps[sid].implementation.done
        ),
        next_attempt={sid: v.attempt + 1 for sid, v in steps.items() if v.attempt},
        repetitions={sid: v.repetitions for sid, v in steps.items() if v.repetitions},
        last_run_at=last_run_at,
    )


def _execute(
    plan: RunPlan,
    recorder: Recorder,
    host: Host,
    *,
    run_id: str,
    t0: datetime,
    state: StateDir,
    opts: RunOptions,
    view: RunView | None,
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
        restored_at=(view.restored_at - t0).total_seconds() if view and view.restored_at else None,
        rpo_exposure=view.rpo_exposure if view else None,
    )
    if view is not None:
        for sid, step in view.steps.items():
            if step.finished and step.finished_at is not None:
                tracker.step_finished(sid, step.finished_at)
    services = ServiceBag()
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
        poll_seconds=host.approval_poll_seconds,
        granted=view.granted if view else None,
        requested=view.requests_per_step if view else None,
    )
    runner: Runner | None = None

    def on_fact(step: str, kind: str, data: Mapping[str, object]) -> None:
        if runner is not None:
            runner.on_fact(step, kind, data)

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
    )
    runner = Runner(
        plan=plan,
        run=scope,
        asker=asker,
        tracker=tracker,
        start=_start_state(view, plan) if view else None,
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
