"""Reading runs back: one run's state (``status``), every run (``runs``), and answering an approval from another
terminal (``approve``). Read-only except for the answer file ``approve`` drops."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from drctl.actions.prior import FACT_PRIOR, EarlierPriors, first_priors
from drctl.engine import events as ev
from drctl.engine.approvals import refusal, write_answer
from drctl.engine.journal import JournalFile, Verdict, read_journal, verify_contents
from drctl.engine.lock import holder_of_run
from drctl.engine.operator import ApprovalAnswer
from drctl.engine.paths import StateDir
from drctl.engine.replay import RunState, RunView
from drctl.errors import JournalError, NotFound, UsageError


class Liveness(StrEnum):
    #: the journal does not verify (a line edited or removed, the head not anchored): evidence to keep, never a
    #: run to resume or to count as succeeded
    BROKEN = "broken"
    LIVE = "live"  # a process holds the run's lock now
    STOPPED = "stopped"  # the journal has no ending and nobody holds the lock: a crash; resumable
    ENDED = "ended"  # finished, paused or interrupted as the journal says


@dataclass(frozen=True)
class LoadedRun:
    run_id: str
    path: Path
    contents: JournalFile
    view: RunView
    holder: ev.Holder | None

    @property
    def integrity(self) -> Verdict:
        """Whether the journal verifies (chain and anchored head): every view of a run asks this first."""
        return verify_contents(self.contents)

    @property
    def broken(self) -> bool:
        """The journal was tampered with or damaged beyond a torn last line (which resume repairs)."""
        return self.contents.broken is not None or (self.contents.torn is None and not self.integrity.ok)

    @property
    def liveness(self) -> Liveness:
        if self.broken:
            return Liveness.BROKEN
        if self.holder is not None:
            return Liveness.LIVE
        return Liveness.STOPPED if self.view.state is RunState.RUNNING else Liveness.ENDED

    @property
    def state_label(self) -> str:
        """The run's state as a person would say it."""
        if self.liveness is Liveness.BROKEN:
            return f"BROKEN journal ({self.integrity.message}): not resumable, no verdict"
        if self.liveness is Liveness.STOPPED:
            return "stopped (no ending journaled: resumable)"
        if self.liveness is Liveness.LIVE and self.view.state is RunState.PAUSED:
            return "paused (asking the operator)"
        return self.view.state.value


def load_run(state: StateDir, run_id: str | None) -> LoadedRun:
    found = state.find(run_id)
    path = state.journal(found)
    contents = read_journal(path)
    view = RunView.of(contents.events())
    if view.started is None:
        raise JournalError(f"{path}: no run.started event; not a drctl journal")
    holder = holder_of_run(found)
    return LoadedRun(found, path, contents, view, holder)


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    playbook: str
    mode: str
    started: datetime | None
    state: str
    steps_done: int
    steps: int


def summaries(state: StateDir) -> list[RunSummary]:
    out = []
    for run_id in state.run_ids():
        try:
            run = load_run(state, run_id)
        except JournalError as exc:
            out.append(RunSummary(run_id, "?", "?", None, f"unreadable: {exc.message}", 0, 0))
            continue
        started = run.view.started
        assert started is not None
        done = sum(1 for s in run.view.steps.values() if s.finished)
        out.append(
            RunSummary(
                run_id, started.playbook_name, started.mode, started.at, run.state_label, done, len(run.view.steps)
            )
        )
    return out


def approve(
    state: StateDir,
    run_id: str,
    step: str,
    *,
    approved: bool,
    reason: str | None,
    approver: ev.Identity,
    now: datetime,
) -> tuple[str, Path]:
    """Answer the approval a live run is waiting for on ``step``; (request id, answer file)."""
    run = load_run(state, run_id)
    step = _step_key(run.view, step)
    if step not in run.view.steps:
        raise NotFound(f"run {run.run_id} has no step {step!r}")
    pending = [r for r in run.view.pending_approvals.values() if r.step == step]
    if not pending:
        raise NotFound(
            f"no approval is waiting for step {step!r} in run {run.run_id}",
            hint=f"`drctl status {run.run_id}` shows what the run is doing",
        )
    if run.liveness is not Liveness.LIVE:
        raise NotFound(
            f"run {run.run_id} is not running (nobody holds its lock), so nothing would read the answer",
            hint=f"resume it (`drctl resume {run.run_id}`); it asks for the approval again",
        )
    request = pending[-1]
    why = refusal(
        ApprovalAnswer(approved, approver, reason, via="file"),
        approvers=request.approvers,
        require_reason=request.require_reason,
        operators=operators_of(run),
    )
    if why is not None:
        raise UsageError(f"approval refused: {why}")
    path = write_answer(
        state.approvals(run.run_id), request.request_id, approved=approved, reason=reason, approver=approver, now=now
    )
    return request.request_id, path


def operators_of(run: LoadedRun) -> tuple[ev.Identity, ...]:
    """Who runs ``run``: who started it, and the live holder of its lock (who resumed it, maybe)."""
    started = run.view.started
    found = [started.operator] if started else []
    if run.holder is not None and run.holder.user:
        found.append(ev.Identity(os_user=run.holder.user, host=run.holder.host))
    return tuple(found)


def _step_key(view: RunView, step: str) -> str:
    """A drill's steps are keyed ``<phase>:<id>``: a bare playbook step id names the one waiting for approval."""
    if step in view.steps:
        return step
    waiting = {r.step for r in view.pending_approvals.values() if r.step.split(":", 1)[-1] == step}
    return waiting.pop() if len(waiting) == 1 else step


class EarlierRuns:
    """``actions.prior.PriorHistory`` over this state directory: the priors earlier runs of one application
    journaled, for a failback run that changed nothing in the region it returns (``standby.return``). The engine
    registers it as the run's ``prior.earlier`` service: actions never read other runs' journals themselves."""

    def __init__(self, state: StateDir, playbook_name: str, run_id: str) -> None:
        self._state = state
        self._playbook = playbook_name
        self._run_id = run_id

    def latest(self, region: str) -> EarlierPriors | None:
        for run_id in reversed(self._state.run_ids()):
            if run_id >= self._run_id:  # ids sort by start time: only runs that started before this one
                continue
            try:
                run = load_run(self._state, run_id)
            except (JournalError, NotFound):
                continue
            # a journal that does not verify is evidence to keep, never a state to put a region back to
            if run.broken or run.view.started is None or run.view.started.playbook_name != self._playbook:
                continue
            priors = first_priors([dict(f.data) for f in run.view.facts if f.kind == FACT_PRIOR], region)
            if priors:
                return EarlierPriors(run_id, tuple(priors))
        return None
