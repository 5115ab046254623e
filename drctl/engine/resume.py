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

from drctl import __version__
from drctl.engine import events as ev
from drctl.engine.identity import current as current_identity
from drctl.engine.journal import Journal, JournalFile, Recorder, read_journal, repair_torn_tail
from drctl.engine.lock import RunLock
from drctl.engine.operator import DecisionPrompt, Operator
from drctl.engine.paths import StateDir, application_key
from drctl.engine.replay import RunState, RunView, StepState
from drctl.engine.runner import Ending, RunOutcome, StartState
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
from drctl.errors import ExitCode, JournalError, NotFound, UsageError
from drctl.playbook.enums import Mode
from drctl.playbook.load import load_playbook


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


def resume_run(request: ResumeRequest, host: Host) -> RunResult:
    state = StateDir(request.options.state_dir)
    run_id = state.find(request.run_id)
    path = state.journal(run_id)
    view = _readable_view(read_journal(path))
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
    # a drill resumes as a drill (its phases), whatever the clock says of change windows: it already started
    plan = plan_for_mode(loaded, Mode(started.mode), environ_of(host))
    now = host.clock.now()
    key = application_key(started.playbook_name, loaded.playbook.azure.subscription, environ_of(host))
    holder = holder_for(run_id, started.playbook_name, now, application=key, state=state)
    lock = RunLock.acquire(state.lock_file(key), holder)
    try:
        contents = read_journal(path)  # again, under the lock: the last holder may have written meanwhile
        view = _readable_view(contents)
        rerun = _unchecked_reruns(view, plan, request, host.operator)
        contents, saved = repair_torn_tail(contents)
        journal = Journal.reopen(contents)
        try:
            recorder = Recorder(journal, plan.secrets, host.listeners)
            if saved is not None:
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
                    options=opts.journaled(),
                    steps=tuple(s.info() for s in plan.steps.values()),
                )
            )
            journal_takeover(recorder, lock, now)
            view = _journal_decisions(recorder, view=view, plan=plan, request=request, rerun=rerun, me=me, now=now)
            if request.abort_reason is not None:
                outcome = _abort(recorder, view, now)
            else:
                start = _start_state(view, plan)
                outcome = execute_plan(
                    plan, recorder, host, run_id=run_id, t0=started.t0, state=state, opts=opts, view=view, start=start
                )
        finally:
            journal.close()
    finally:
        lock.release()
    return RunResult(run_id, path, outcome, tuple(recorder.listener_errors))


def _readable_view(contents: JournalFile) -> RunView:
    """The run as its journal tells it, or why it cannot be resumed."""
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
            sid
            for sid, v in steps.items()
            if (v.interrupted_mid_way or v.check_before_rerun) and plan.steps[sid].implementation.done
        ),
        next_attempt={sid: v.attempt + 1 for sid, v in steps.items() if v.attempt},
        repetitions={sid: v.repetitions for sid, v in steps.items() if v.repetitions},
        last_run_at=last_run_at,
    )
