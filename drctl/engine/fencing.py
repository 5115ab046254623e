"""Fencing again what a run left open: ``drctl fence RUN`` (``fence_run``) and a resume (``fence_open_items``).

A fence step that could not fence an item (the region it left did not answer) succeeded all the same and journaled
the item unfenced: an open risk (``replay.open_risks``). Once the region answers, this takes the finished fence step
up again in the run's own journal, under the application's lock, with the step's own journaled facts (so a fencing
change already sent is followed, never sent twice): it journals ``fence.again`` (who, how, which items), then runs
the step's implementation once more, which fences exactly the items still open. The step's state and the run's
verdict stay as they were; only the open risk changes, and every view reads it from the journal.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from drctl.actions.fence.facts import FENCE_AGAIN
from drctl.actions.runtime import Cancelled
from drctl.engine import events as ev
from drctl.engine.approvals import ApprovalDesk
from drctl.engine.context import NETWORK, EngineStepContext, FactBook, RunScope, ServiceBag, Token
from drctl.engine.identity import current as current_identity
from drctl.engine.identity import describe as describe_person
from drctl.engine.journal import Journal, Recorder, read_journal, repair_torn_tail
from drctl.engine.lock import RunLock, holder_of_run
from drctl.engine.lock import describe as describe_holder
from drctl.engine.operator import SerialAsker, Unattended
from drctl.engine.paths import StateDir, application_key
from drctl.engine.replay import OpenRisk, RunView
from drctl.engine.runplan import RunPlan, plan_for_mode
from drctl.engine.session import Host, RunOptions, environ_of, holder_for, journal_takeover
from drctl.errors import JournalError, LockHeld, NotFound
from drctl.net.config import NetworkConfig
from drctl.planning.load import LoadedPlaybook, load_playbook
from drctl.playbook.enums import Mode


@dataclass(frozen=True, kw_only=True)
class FenceRequest:
    run_id: str | None
    options: RunOptions
    #: the run's playbook as the caller already read it; its hash is still checked against the journal's
    loaded: LoadedPlaybook | None = None


@dataclass(frozen=True)
class FenceResult:
    run_id: str
    journal: Path
    #: what was open before this command (empty: nothing to do, and nothing was written or sent)
    before: tuple[OpenRisk, ...]
    #: what stays open after it, read back from the journal
    after: tuple[OpenRisk, ...]


def fence_open_items(
    plan: RunPlan,
    recorder: Recorder,
    host: Host,
    *,
    view: RunView,
    state: StateDir,
    via: str,
    services: ServiceBag,
) -> None:
    """Take each finished fence step with open items up again, in this process, journaled in ``recorder``'s
    journal. A step no longer in the plan is left as it is (its open risk stays shown)."""
    risks = view.open_risks
    started = view.started
    assert started is not None
    steps = [sid for sid in dict.fromkeys(r.step for r in risks) if sid in plan.steps]
    for sid in steps:
        step_view = view.steps.get(sid)
        if step_view is not None and not step_view.finished:
            continue  # an unfinished fence step runs again on its own, and fences what is open then
        step = plan.steps[sid]
        clock = host.clock
        me = current_identity()
        asker = SerialAsker(Unattended())
        scope = RunScope(
            run_id=view.run_id,
            mode=plan.mode,
            scope=step.scope or plan.scope,
            t0=started.t0,
            rto_deadline=started.t0 + timedelta(seconds=started.rto_seconds),
            clock=clock,
            recorder=recorder,
            secrets=plan.secrets,
            services=services,
            # fencing asks no one: an approval it wanted would be a bug, and is refused for want of an operator
            approvals=ApprovalDesk(
                run_id=view.run_id,
                directory=state.approvals(view.run_id),
                recorder=recorder,
                clock=clock,
                asker=asker,
            ),
            on_fact=_ignore,
            journaled=FactBook(view.facts),
        )
        labels = [r.label for r in risks if r.step == sid]
        recorder.emit(
            ev.Fact(
                at=clock.now(),
                step=sid,
                kind=FENCE_AGAIN,
                data={"via": via, "operator": describe_person(me), "pid": os.getpid(), "open": labels},
            )
        )
        scope.journaled.add(sid, FENCE_AGAIN, {"via": via})
        attempt = (step_view.attempt if step_view is not None else 0) + 1
        context = EngineStepContext(
            scope, step_id=sid, attempt=attempt, token=Token(), deadline=clock.monotonic() + step.timeout
        )
        try:
            step.implementation.run(step.params, context)
        except (Exception, Cancelled) as exc:
            # the items stay open, and every view says so; a fencing pass never stops a resume or crashes the CLI
            recorder.emit(ev.StepProgress(at=clock.now(), step=sid, text=f"fencing again stopped: {exc!r}"))
        finally:
            asker.close()


def _ignore(_step: str, _kind: str, _data: Mapping[str, Any]) -> None:
    """Facts journaled while fencing again cause no objective events: the run's clock stopped when it ended."""


def fence_run(request: FenceRequest, host: Host) -> FenceResult:
    """``drctl fence RUN``: fence what the run left open, appending to its journal; nothing to do is no write."""
    state = StateDir(request.options.state_dir)
    run_id = state.find(request.run_id)
    path = state.journal(run_id)
    view = _view(path)
    before = tuple(view.open_risks)
    if not before:
        return FenceResult(run_id, path, (), ())
    started = view.started
    assert started is not None
    live = holder_of_run(run_id)
    if live is not None:
        raise LockHeld(
            f"run {run_id} is being run by {describe_holder(live)}; nothing was fenced",
            hint=f"its fence step runs in that process; once it ends: drctl fence {run_id}",
        )
    from drctl.engine.resume import environment_refusal

    refusal = environment_refusal(started.environment, request.options.environment)
    if refusal is not None:
        message, hint = refusal
        raise NotFound(
            f"run {run_id}: {message}; nothing was fenced", hint=hint.format(run=run_id).replace("resume", "fence")
        )
    loaded = request.loaded if request.loaded is not None else load_playbook(started.playbook_path)
    if loaded.sha256 != started.playbook_sha256:
        raise NotFound(
            f"run {run_id}: the playbook {started.playbook_path} changed since the run began; nothing was fenced",
            hint="fence with the playbook the run ran (its sha256 is in `drctl status`), or by hand",
        )
    plan = plan_for_mode(loaded, Mode(started.mode), environ_of(host))
    now = host.clock.now()
    key = application_key(started.playbook_name, loaded.playbook.azure.subscription, environ_of(host))
    lock = RunLock.acquire(
        state.lock_file(key), holder_for(run_id, started.playbook_name, now, application=key, state=state)
    )
    services = ServiceBag()
    environ = environ_of(host)
    services.register(NETWORK, lambda: NetworkConfig.from_environ(environ))
    if host.register_services is not None:
        host.register_services(services, plan)
    try:
        contents = read_journal(path)  # again, under the lock: the last holder may have written meanwhile
        view = _checked(contents.path, contents.broken is not None, RunView.of(contents.events()))
        if view.open_risks:
            contents, saved = repair_torn_tail(contents)
            journal = Journal.reopen(contents)
            try:
                recorder = Recorder(journal, plan.secrets, host.listeners)
                if saved is not None:
                    recorder.emit(
                        ev.JournalRepaired(
                            at=now,
                            line=len(contents.lines) + 1,
                            dropped_bytes=saved.stat().st_size,
                            saved_to=str(saved),
                        )
                    )
                journal_takeover(recorder, lock, now)
                fence_open_items(plan, recorder, host, view=view, state=state, via="fence", services=services)
            finally:
                journal.close()
    finally:
        services.close()
        lock.release()
    return FenceResult(run_id, path, before, tuple(_view(path).open_risks))


def _view(path: Path) -> RunView:
    contents = read_journal(path)
    return _checked(path, contents.broken is not None, RunView.of(contents.events()))


def _checked(path: Path, broken: bool, view: RunView) -> RunView:
    if broken:
        raise JournalError(
            f"{path}: the journal does not verify; nothing was fenced",
            hint="`drctl runs verify RUN` names the line; an edited journal cannot be trusted to fence from",
        )
    if view.started is None:
        raise JournalError(f"{path}: no run.started event; not a drctl journal")
    return view
