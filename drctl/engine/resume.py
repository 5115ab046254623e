"""Resuming a run: replay its journal, check what was interrupted, never repeat a mutation blindly.

``resume_run(ResumeRequest, Host)`` reads the journal (a broken chain refuses, a torn last line is cut off),
refuses a changed playbook unless forced with a reason, takes the lock, asks the done-check of every step that
started but never finished, journals ``run.resumed`` and the operator's command-line decisions, and hands the
run to the ``Runner`` in the same journal, with the original T0. See docs/engine.md, "Resume".
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from drctl import __version__
from drctl.engine import events as ev
from drctl.engine.identity import current as current_identity
from drctl.engine.journal import Journal, JournalFile, Recorder, read_journal, repair_torn_tail
from drctl.engine.lock import RunLock, holder_of_run
from drctl.engine.lock import describe as describe_holder
from drctl.engine.operator import DecisionPrompt, Operator
from drctl.engine.paths import StateDir, application_key
from drctl.engine.replay import RunState, RunView, StepState
from drctl.engine.runner import Ending, RunOutcome, StartState, finished_with_verdict
from drctl.engine.runplan import RunPlan, plan_for_mode
from drctl.engine.session import (
    Host,
    RunOptions,
    RunResult,
    environ_of,
    execute_plan,
    holder_for,
    journal_takeover,
)
from drctl.errors import DrctlError, ExitCode, JournalError, LockHeld, NotFound, UsageError
from drctl.planning.load import LoadedPlaybook, load_playbook
from drctl.playbook.enums import Mode
from drctl.playbook.secrets import SecretStore


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
    #: end the run as aborted instead of resuming it (needs no playbook, secrets or credentials)
    abort_reason: str | None = None
    #: the run's playbook as the caller already read it (once per resume); its hash is still checked against the
    #: journal's. None: read from the journaled path
    loaded: LoadedPlaybook | None = None


def check_resume(request: ResumeRequest, environ: Mapping[str, str]) -> None:
    """Everything ``resume_run`` refuses before it takes the lock, checked without the lock, a credential or the
    network: a broken journal (exit 7), a run that already succeeded, another environment or a changed playbook
    without ``--force`` (exit 9), a missing ``${ENV}`` (exit 2, every one named). The CLI calls it before it
    authenticates; ``resume_run`` checks it all again."""
    state = StateDir(request.options.state_dir)
    run_id = state.find(request.run_id)
    view = resumable_view(read_journal(state.journal(run_id)))
    if request.abort_reason is None:
        _prepare(run_id, view, request, environ)


def _prepare(
    run_id: str, view: RunView, request: ResumeRequest, environ: Mapping[str, str]
) -> tuple[LoadedPlaybook, bool, RunPlan]:
    """The playbook, whether it changed (and may: ``--force``), and the plan of the run's mode."""
    started = view.started
    assert started is not None
    refusal = environment_refusal(started.environment, request.options.environment)
    if refusal is not None:
        message, hint = refusal
        raise NotFound(f"run {run_id}: {message}; resume refused, nothing was run", hint=hint.format(run=run_id))
    loaded = request.loaded if request.loaded is not None else load_playbook(started.playbook_path)
    changed = loaded.sha256 != started.playbook_sha256
    if changed and not request.force_reason:
        raise NotFound(
            f"run {run_id}: the playbook {started.playbook_path} changed since the run began (sha256 "
            f"{started.playbook_sha256[:12]} then, {loaded.sha256[:12]} now); resume refused",
            hint=f'review the change; to resume with it anyway: drctl resume {run_id} --force --reason "..."',
        )
    # a drill resumes as a drill (its phases), whatever the clock says of change windows: it already started
    return loaded, changed, plan_for_mode(loaded, Mode(started.mode), environ)


def resume_run(request: ResumeRequest, host: Host) -> RunResult:
    state = StateDir(request.options.state_dir)
    run_id = state.find(request.run_id)
    path = state.journal(run_id)
    view = resumable_view(read_journal(path))
    started = view.started
    assert started is not None
    if request.abort_reason is not None:
        return _abort_run(request, host, state, run_id)
    loaded, changed, plan = _prepare(run_id, view, request, environ_of(host))
    now = host.clock.now()
    key = application_key(started.playbook_name, loaded.playbook.azure.subscription, environ_of(host))
    holder = holder_for(run_id, started.playbook_name, now, application=key, state=state)
    lock = RunLock.acquire(state.lock_file(key), holder)
    try:
        contents = read_journal(path)  # again, under the lock: the last holder may have written meanwhile
        view = resumable_view(contents)
        rerun = _unchecked_reruns(view, plan, request, host.operator)
        contents, saved = _repair(contents, run_id)
        journal = Journal.reopen(contents)
        try:
            recorder = Recorder(journal, plan.secrets, host.listeners)
            _repaired(recorder, contents, saved, now)
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
                    options=opts.journaled(),
                    steps=tuple(s.info() for s in plan.steps.values()),
                    environment=opts.environment,
                )
            )
            journal_takeover(recorder, lock, now)
            view = _journal_decisions(recorder, view=view, plan=plan, request=request, rerun=rerun, me=me, now=now)
            _fence_open(plan, recorder, host, view, state)
            start = _start_state(view, plan)
            outcome = execute_plan(
                plan, recorder, host, run_id=run_id, t0=started.t0, state=state, opts=opts, view=view, start=start
            )
        finally:
            journal.close()
    finally:
        lock.release()
    return RunResult(run_id, path, outcome, tuple(recorder.listener_errors))


def _fence_open(plan: RunPlan, recorder: Recorder, host: Host, view: RunView, state: StateDir) -> None:
    """A resume takes up the fence steps that finished with items left open too (``engine/fencing.py``): the region
    may answer again now. Their services are not closed here: the Azure clients are the run's, which it closes."""
    if not view.open_risks:
        return
    from drctl.engine.context import NETWORK, ServiceBag
    from drctl.engine.fencing import fence_open_items
    from drctl.net.config import NetworkConfig

    services = ServiceBag()
    environ = environ_of(host)
    services.register(NETWORK, lambda: NetworkConfig.from_environ(environ))
    if host.register_services is not None:
        host.register_services(services, plan)
    fence_open_items(plan, recorder, host, view=view, state=state, via="resume", services=services)


def _abort_key(name: str, playbook_path: str, environ: Mapping[str, str]) -> str:
    """The application key the run locked under, from its playbook when it can still be read (an abort needs no
    secret, so ``${VAR}`` may stay unresolved); else the name alone, with ``holder_of_run`` as the guard."""
    try:
        subscription = load_playbook(playbook_path).playbook.azure.subscription
    except DrctlError:
        subscription = "unknown"
    return application_key(name, subscription, environ)


def _abort_run(request: ResumeRequest, host: Host, state: StateDir, run_id: str) -> RunResult:
    """End a run as aborted from its journal alone: no playbook, no ``${ENV}``, no credentials, no environment
    check (nothing runs), so a run can always be closed, even from a machine that cannot reach its estate."""
    path = state.journal(run_id)
    started = RunView.of(read_journal(path).events()).started
    assert started is not None
    now = host.clock.now()
    live = holder_of_run(run_id)
    if live is not None:
        raise LockHeld(
            f"run {run_id} is being run by {describe_holder(live)}; nothing was aborted",
            hint=f'stop that process (Ctrl-C pauses it), then: drctl resume {run_id} --abort --reason "..."',
        )
    key = _abort_key(started.playbook_name, started.playbook_path, environ_of(host))
    lock = RunLock.acquire(
        state.lock_file(key), holder_for(run_id, started.playbook_name, now, application=key, state=state)
    )
    try:
        contents = read_journal(path)
        view = resumable_view(contents)
        contents, saved = _repair(contents, run_id)
        journal = Journal.reopen(contents)
        try:
            # the journal is already redacted and an abort writes only names and the operator's reason
            recorder = Recorder(journal, SecretStore({}), host.listeners)
            _repaired(recorder, contents, saved, now)
            me = current_identity()
            recorder.emit(
                ev.RunResumed(
                    at=now,
                    operator=me,
                    pid=os.getpid(),
                    drctl_version=__version__,
                    playbook_sha256=started.playbook_sha256,
                    options=request.options.journaled(),
                    environment=request.options.environment,
                )
            )
            journal_takeover(recorder, lock, now)
            reason = request.abort_reason
            decision = ev.DecisionMade(
                at=now, question=ev.Question.INTERRUPT, choice=ev.Choice.ABORT, by=me, reason=reason
            )
            recorder.emit(decision)
            view.apply(decision)
            outcome = _abort(recorder, view, now)
        finally:
            journal.close()
    finally:
        lock.release()
    return RunResult(run_id, path, outcome, tuple(recorder.listener_errors))


def _repaired(recorder: Recorder, contents: JournalFile, saved: Path | None, now: datetime) -> None:
    if saved is not None:
        recorder.emit(
            ev.JournalRepaired(
                at=now, line=len(contents.lines) + 1, dropped_bytes=saved.stat().st_size, saved_to=str(saved)
            )
        )


def _repair(contents: JournalFile, run_id: str) -> tuple[JournalFile, Path | None]:
    """``repair_torn_tail``, or a clear refusal when the disk is still full: the torn line is copied aside
    before it is cut off, and a copy that cannot be written leaves the journal as it was."""
    try:
        return repair_torn_tail(contents)
    except OSError as exc:
        where = contents.path.parent
        raise JournalError(
            f"cannot set aside the half-written last line of {contents.path} before resuming: "
            f"{exc.strerror or exc}; the journal is unchanged and nothing was run",
            hint=f"free space on the file system of {where}, then: drctl resume {run_id}",
        ) from exc


def _where(env: ev.Environment) -> str:
    if env.kind == "sandbox":
        how = "embedded in its drctl process" if env.embedded else f"at {env.arm_endpoint}"
        return f"a sandbox ({how}, estate {(env.estate_sha256 or '?')[:12]})"
    if env.kind == "azure":
        return f"Azure (ARM {env.arm_endpoint}, tenant {env.tenant or '?'}, subscription {env.subscription})"
    return "no Azure (none configured, or the playbook has no Azure step)"


def environment_refusal(then: ev.Environment | None, now: ev.Environment | None) -> tuple[str, str] | None:
    """Why a run that ran in ``then`` must not be resumed in ``now`` (a message and a hint with ``{run}``), or
    None. A journal without an environment (an older drctl) is not checked."""
    if then is None or now is None:
        return None
    if then.kind == "sandbox":
        again = "drctl resume {run} --sandbox (a sandbox seeded from the same playbook, in this process)"
        if now.kind != "sandbox":
            return f"it is a rehearsal on {_where(then)}, and this would resume it against {_where(now)}", again
        if then.estate_sha256 is not None and now.estate_sha256 is not None:
            # a sandbox seeded with the same estate, whichever process runs it: the run's own one is gone
            if then.estate_sha256 != now.estate_sha256:
                return f"it ran on {_where(then)}; the sandbox now is seeded otherwise ({_where(now)})", again
            return None
        if then.target_sha256 != now.target_sha256:
            hint = "point the environment at the sandbox it ran on, or: " + again
            return f"it ran on {_where(then)}, and the environment now points at {_where(now)}", hint
        return None
    if then.kind == "azure":
        same = then.target_sha256 == now.target_sha256
        known = [t for t in (then.tenant, now.tenant) if t is not None and not t.startswith("[redacted")]
        tenants = len(known) < 2 or known[0] == known[1]
        if now.kind != "azure" or not same or not tenants:
            hint = "set DRCTL_ARM_ENDPOINT, AZURE_TENANT_ID and the subscription to those the run began with"
            return f"it ran against {_where(then)}, and this would resume it against {_where(now)}", hint
    return None


def resumable_view(contents: JournalFile) -> RunView:
    """The run as its journal tells it, or why it cannot be resumed (a broken journal: exit 7; a run that
    already succeeded: exit 9): from the journal alone, before any playbook, setting or credential."""
    path = contents.path
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
        if sid in rerun:
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
        if sid not in request.skip:
            events.append(
                ev.DecisionMade(at=now, question=ev.Question.FAILURE, choice=ev.Choice.RETRY, by=me, step=sid)
            )
    for event in events:
        recorder.emit(event)
        view.apply(event)
    return view


def _abort(recorder: Recorder, view: RunView, now: datetime) -> RunOutcome:
    failed = tuple(sid for sid, s in view.steps.items() if not s.finished and s.started_at is not None)
    event = finished_with_verdict(
        recorder.journal.path,
        ev.RunFinished(at=now, ending=ev.RunEnding.ABORTED, exit_code=int(ExitCode.ABORTED), failed_steps=failed),
    )
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
            sid
            for sid, v in steps.items()
            if (v.interrupted_mid_way or v.check_before_rerun) and plan.steps[sid].implementation.done
        ),
        next_attempt={sid: v.attempt + 1 for sid, v in steps.items() if v.attempt},
        repetitions={sid: v.repetitions for sid, v in steps.items() if v.repetitions},
        last_run_at=last_run_at,
    )
