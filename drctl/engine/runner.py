"""The scheduling loop: start each step as soon as its own dependencies are done, at most ``concurrency`` at once.

One thread (the caller's) owns the run's state; steps run in daemon threads (``execute.StepRun``) and report
back through a queue, as do operator answers and pause requests (Ctrl-C). Rules, as docs/engine.md tells them:

- ``on_failure: abort``: no new step starts, in-flight steps finish, the run ends failed (exit 1).
- ``on_failure: continue``: the step is advisory; its dependents run as if it had succeeded.
- ``on_failure: pause``: no new step starts and the operator is asked (retry, skip with a reason, abort); with
  nobody to ask, the run pauses once in-flight steps finish (exit 10) and ``drctl resume`` retries the step.
- A pause (Ctrl-C, SIGTERM): no new step starts, waits that change nothing (approvals, ``wait``) stop and will
  run again, other in-flight steps finish; then, at a terminal after Ctrl-C, the operator chooses to go on or
  abort; otherwise the run is left paused and resumable (exit 10).
- A background step (``notify`` with ``every``) runs once in its place, then again every period until the run
  ends; repetitions never hold the run up and a failed one is journaled, not fatal.
- A journal write that fails stops everything: running steps are cancelled at their next safe point and nothing
  new starts (``JournalError``, exit 7).
"""

from __future__ import annotations

import contextlib
import queue
import random
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from drctl.actions.runtime import Stopped, TimedOut
from drctl.core.waits import WAITS
from drctl.engine import events as ev
from drctl.engine.context import RunScope
from drctl.engine.execute import Result, StepResult, StepRun
from drctl.engine.objectives import ObjectiveTracker
from drctl.engine.operator import Decision, DecisionPrompt, SerialAsker
from drctl.engine.runplan import RunPlan
from drctl.errors import ExitCode, JournalError
from drctl.playbook.enums import OnFailure


class Ending(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABORTED = "aborted"
    PAUSED = "paused"


@dataclass(frozen=True)
class RunOutcome:
    ending: Ending
    exit_code: ExitCode
    finished: ev.RunFinished | None = None
    paused: ev.RunPaused | None = None


class Status(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"  # succeeded, completed by check, skipped, or failed advisory (continue)
    FAILED = "failed"  # failed and holding the run (abort)
    HELD = "held"  # failed with on_failure: pause, waiting for a decision


@dataclass(frozen=True)
class StartState:
    """Where the run stands when this process takes it up: fresh, or rebuilt from the journal (resume)."""

    done: frozenset[str] = frozenset()
    advisory: frozenset[str] = frozenset()
    skipped: frozenset[str] = frozenset()
    #: started and never finished, with a done-check to ask before anything runs again
    check_first: frozenset[str] = frozenset()
    next_attempt: Mapping[str, int] = field(default_factory=dict)
    repetitions: Mapping[str, int] = field(default_factory=dict)
    #: background steps already run: when they last ran, so their cadence carries on
    last_run_at: Mapping[str, datetime] = field(default_factory=dict)


_TICK = ("tick",)
#: pauses whose process must end (SIGTERM, SIGHUP: nobody is left to answer): they win over an open question
_ENDS_THE_PROCESS = (ev.PauseReason.TERMINATE, ev.PauseReason.HANGUP)


class Runner:
    def __init__(
        self,
        *,
        plan: RunPlan,
        run: RunScope,
        asker: SerialAsker,
        tracker: ObjectiveTracker,
        start: StartState | None = None,
        concurrency: int = 8,
        abandon_grace: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        start = start or StartState()
        self.plan = plan
        self.run = run
        self.asker = asker
        self.tracker = tracker
        self.concurrency = max(1, concurrency)
        self.abandon_grace = abandon_grace
        self.rng = rng or random.Random()
        self.status = {sid: Status.DONE if sid in start.done else Status.PENDING for sid in plan.steps}
        self.advisory = set(start.advisory)
        self.skipped = set(start.skipped)
        self.check_first = set(start.check_first)
        self.next_attempt = {sid: start.next_attempt.get(sid, 1) for sid in plan.steps}
        self.repetitions = dict(start.repetitions)
        self.running: dict[str, StepRun] = {}
        self.repeating: dict[str, StepRun] = {}
        self.due: dict[str, float] = {}
        now_wall, now = run.clock.now(), run.clock.monotonic()
        for sid, last in start.last_run_at.items():
            every = plan.steps[sid].every if sid in plan.steps else None
            if every and sid in start.done:
                self.due[sid] = now + max(0.0, every - (now_wall - last).total_seconds())
        self.stop_reason: Ending | None = None
        self.pause_request: ev.PauseReason | None = None
        self.asking: Future[Decision | None] | None = None
        #: False once an operator could not answer (or there is no terminal): the run pauses instead of asking
        self.can_ask = asker.operator.interactive
        self.errors: dict[str, str] = {}
        self._queue: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()

    # --- called from other threads ---------------------------------------------------------------------------

    def request_pause(self, reason: ev.PauseReason) -> None:
        """Ctrl-C or SIGTERM: safe to call from a signal handler (SimpleQueue.put is reentrant)."""
        self._queue.put(("pause", reason))

    def force_interrupt(self) -> None:
        """A second Ctrl-C: journal ``run.interrupted`` if the journal is free within a second; never raises."""
        # best effort by definition: the process is going down now, whatever happens here
        with contextlib.suppress(Exception):
            self.run.recorder.emit(ev.RunInterrupted(at=self.run.clock.now(), in_flight=tuple(self.running)), wait=1.0)

    # --- the loop --------------------------------------------------------------------------------------------

    def execute(self) -> RunOutcome:
        WAITS.open()  # a pause of an earlier run in this process is over
        self.run.clock.subscribe(lambda: self._queue.put(_TICK))
        try:
            while True:
                self._watchdog()
                self._emit_all(self.tracker.tick(self.run.clock.now()))
                if self._may_start():
                    self._start_ready()
                if self.stop_reason is None:
                    self._repeat_due()
                outcome = self._settle()
                if outcome is not None:
                    return outcome
                self._wait()
        except JournalError:
            self._stop_all()
            raise
        finally:
            WAITS.open()  # the run is over: nothing of it waits any more, and the process may go on (tests)

    def _wait(self, limit: float = 1.0) -> None:
        clock = self.run.clock
        now = clock.monotonic()
        timers = [limit]
        for sr in [*self.running.values(), *self.repeating.values()]:
            timers.append(sr.deadline - now if sr.cancelled_at is None else 0.25)
        timers += [due - now for sid, due in self.due.items() if sid not in self.repeating]
        if ev.RtoBreached.type not in self.tracker.breached and self.tracker.stopped_at is None:
            timers.append((self.tracker.t0 - clock.now()).total_seconds() + self.tracker.rto)
        try:
            message = self._queue.get(timeout=clock.idle_wait(max(0.0, min(timers))))
        except queue.Empty:
            return
        while True:
            self._handle(message)
            try:
                message = self._queue.get_nowait()
            except queue.Empty:
                return

    def _handle(self, message: tuple[Any, ...]) -> None:
        match message:
            case ("done", StepRun() as sr, StepResult() as result):
                self._done(sr, result)
            case ("pause", ev.PauseReason() as reason):
                if self.stop_reason is None and self.pause_request not in _ENDS_THE_PROCESS:
                    self.pause_request = reason
                    WAITS.close()  # the SDK's retry and poll sleeps end too, within a fraction of a second
                    for sr in self.running.values():
                        sr.token.interrupt()
            case ("answer", DecisionPrompt() as prompt, decision):
                self.asking = None
                self._answered(prompt, decision)

    def _may_start(self) -> bool:
        return (
            self.stop_reason is None
            and self.pause_request is None
            and Status.HELD not in self.status.values()
            and self.asking is None
        )

    def _start_ready(self) -> None:
        for sid, plan in self.plan.steps.items():
            if len(self.running) >= self.concurrency:
                return
            if self.status[sid] is Status.PENDING and all(self.status.get(d) is Status.DONE for d in plan.needs):
                self._launch(sid)

    def _launch(self, sid: str, repetition: int | None = None) -> None:
        sr = StepRun(
            self.plan.steps[sid],
            self.run,
            first_attempt=1 if repetition else self.next_attempt[sid],
            post=lambda step_run, result: self._queue.put(("done", step_run, result)),
            rng=self.rng,
            check_first=repetition is None and sid in self.check_first,
            repetition=repetition,
        )
        if repetition is None:
            self.check_first.discard(sid)
            self.status[sid] = Status.RUNNING
            self.running[sid] = sr
            self.tracker.step_started(sid, self.run.clock.now())
        else:
            self.repeating[sid] = sr
        sr.start()

    def _repeat_due(self) -> None:
        now = self.run.clock.monotonic()
        for sid, due in list(self.due.items()):
            if due <= now and sid not in self.repeating:
                every = self.plan.steps[sid].every or 1.0
                following = due
                while following <= now:  # a late wake (a suspended laptop) sends one message, not a burst
                    following += every
                self.due[sid] = following
                self.repetitions[sid] = self.repetitions.get(sid, 0) + 1
                self._launch(sid, repetition=self.repetitions[sid])

    def _done(self, sr: StepRun, result: StepResult) -> None:
        sid = sr.step_id
        if sr.repetition is not None:
            self.repeating.pop(sid, None)
            if result.result is Result.JOURNAL and result.journal_error:
                raise result.journal_error
            return
        if self.running.get(sid) is not sr:
            return  # abandoned after its timeout; its late result was not journaled
        del self.running[sid]
        self.next_attempt[sid] = result.attempt + 1
        if result.result is Result.JOURNAL and result.journal_error:
            raise result.journal_error
        if result.result in (Result.SUCCEEDED, Result.DONE_BY_CHECK):
            self._finished_ok(sid, sr)
        elif result.result is Result.INTERRUPTED:
            self.status[sid] = Status.PENDING
            self.tracker.step_pending(sid)
            step = self.plan.steps[sid]
            if step.mutating and step.implementation.done is not None:
                # a pause may have cut an SDK wait short after Azure accepted the change: check before rerunning
                self.check_first.add(sid)
        else:
            self._failed(sid, sr, abort_run=result.abort_run, error=result.error)

    def _finished_ok(self, sid: str, sr: StepRun) -> None:
        self.status[sid] = Status.DONE
        self.tracker.step_finished(sid, self.run.clock.now())
        every = self.plan.steps[sid].every
        if every:
            self.due[sid] = sr.started + every

    def _failed(self, sid: str, sr: StepRun, *, abort_run: bool, error: str) -> None:
        self.tracker.step_finished(sid, self.run.clock.now())
        policy = self.plan.steps[sid].step.on_failure
        if abort_run:
            self.status[sid] = Status.FAILED
            self._stop(Ending.ABORTED)
        elif policy is OnFailure.CONTINUE:
            self.advisory.add(sid)
            self._finished_ok(sid, sr)
        elif policy is OnFailure.ABORT:
            self.status[sid] = Status.FAILED
            self._stop(Ending.FAILED)
        else:
            self.status[sid] = Status.HELD
            self.errors[sid] = error
            self._emit(
                ev.DecisionRequested(at=self.run.clock.now(), question=ev.Question.FAILURE, step=sid, error=error)
            )

    def _stop(self, ending: Ending) -> None:
        if self.stop_reason is None or ending is Ending.ABORTED:
            self.stop_reason = ending

    def _ask(self, question: ev.Question, choices: tuple[ev.Choice, ...], **about: str | None) -> None:
        prompt = DecisionPrompt(self.run.run_id, question, choices, **about)
        self.asking = self.asker.submit(lambda: self.asker.operator.decide(prompt))
        self.asking.add_done_callback(
            lambda f: self._queue.put(("answer", prompt, f.result() if f.exception() is None else None))
        )

    def _answered(self, prompt: DecisionPrompt, decision: Decision | None) -> None:
        if decision is None:  # nobody could answer: pause as an unattended run would
            self.can_ask = False
            return
        self._emit(
            ev.DecisionMade(
                at=self.run.clock.now(),
                question=prompt.question,
                choice=decision.choice,
                by=decision.by,
                step=prompt.step,
                reason=decision.reason,
            )
        )
        step = prompt.step
        if decision.choice is ev.Choice.ABORT:
            self._stop(Ending.ABORTED)
        elif decision.choice is ev.Choice.CONTINUE:
            self.pause_request = None
            WAITS.open()
        elif step is not None and decision.choice is ev.Choice.RETRY:
            self.status[step] = Status.PENDING
            self.tracker.step_pending(step)
        elif step is not None and decision.choice is ev.Choice.SKIP:
            self._emit(ev.StepSkipped(at=self.run.clock.now(), step=step, reason=decision.reason or "", by=decision.by))
            self.skipped.add(step)
            self.status[step] = Status.DONE

    def _settle(self) -> RunOutcome | None:
        """The run's ending once nothing is in flight, or None to keep going."""
        held = [sid for sid, status in self.status.items() if status is Status.HELD]
        if held and self.asking is None and self.can_ask and self.stop_reason is None:
            # ask at once: steps already in flight go on meanwhile, and nothing new starts
            choices = (ev.Choice.RETRY, ev.Choice.SKIP, ev.Choice.ABORT)
            self._ask(ev.Question.FAILURE, choices, step=held[0], error=self.errors.get(held[0]))
        if self.running:
            return None
        if self.pause_request in _ENDS_THE_PROCESS:  # SIGTERM and SIGHUP win over an open question
            assert self.pause_request is not None
            return self._pause(self.pause_request, None)
        if self.asking is not None:
            return None
        if self.stop_reason is not None:
            return self._finish(self.stop_reason)
        if held:
            return self._pause(ev.PauseReason.DECISION, held[0])
        if self.pause_request is not None:
            if self.can_ask:
                self._emit(ev.RunPaused(at=self.run.clock.now(), reason=self.pause_request, next="asking the operator"))
                self._ask(ev.Question.INTERRUPT, (ev.Choice.CONTINUE, ev.Choice.ABORT))
                return None
            return self._pause(self.pause_request, None)
        if all(status is Status.DONE for status in self.status.values()):
            return self._finish(Ending.SUCCEEDED)
        if not any(self._ready(sid) for sid in self.status):
            raise RuntimeError(f"the run cannot make progress: {self.status}")  # a bug, never a playbook's doing
        return None

    def _ready(self, sid: str) -> bool:
        needs = self.plan.steps[sid].needs
        return self.status[sid] is Status.PENDING and all(self.status.get(d) is Status.DONE for d in needs)

    def _drain_repetitions(self) -> None:
        self.due.clear()
        while self.repeating:
            self._watchdog()
            self._wait(limit=0.25)

    def _pause(self, reason: ev.PauseReason, step: str | None) -> RunOutcome:
        self._drain_repetitions()
        what = f"decide about step {step}" if step else "go on"
        event = ev.RunPaused(
            at=self.run.clock.now(), reason=reason, step=step, next=f"to {what}: drctl resume {self.run.run_id}"
        )
        self._emit(event)
        return RunOutcome(Ending.PAUSED, ExitCode.PAUSED, paused=event)

    def _finish(self, ending: Ending) -> RunOutcome:
        self._drain_repetitions()
        now = self.run.clock.now()
        self._emit_all(self.tracker.final(now))
        # a must-pass step (a drill's hold) let its dependents run, but its failure is the run's failure
        must_pass = {sid for sid in self.advisory if self.plan.steps[sid].must_pass}
        if must_pass and ending is Ending.SUCCEEDED:
            ending = Ending.FAILED
        failed = tuple(sid for sid, s in self.status.items() if s in (Status.FAILED, Status.HELD) or sid in must_pass)
        event = finished_with_verdict(
            self.run.recorder.journal.path,
            ev.RunFinished(
                at=now,
                ending=ev.RunEnding(ending.value),
                exit_code=0,
                failed_steps=failed,
                advisory_failures=tuple(sorted(self.advisory - must_pass)),
                skipped_steps=tuple(sorted(self.skipped)),
                rto_achieved_seconds=self.tracker.rto_achieved(now),
                rpo_exposure_seconds=self.tracker.rpo_exposure,
                breached=self.tracker.breached,
                service_restored=self.tracker.restored_at is not None,
            ),
        )
        self._emit(event)
        return RunOutcome(ending, ExitCode(event.exit_code), finished=event)

    def _watchdog(self) -> None:
        now = self.run.clock.monotonic()
        for sr in [*self.running.values(), *self.repeating.values()]:
            if sr.cancelled_at is None:
                if now >= sr.deadline:
                    sr.token.cancel(TimedOut)
                    sr.cancelled_at = time.monotonic()
            elif time.monotonic() - sr.cancelled_at >= self.abandon_grace and sr.abandon():
                self._abandon(sr)

    def _abandon(self, sr: StepRun) -> None:
        event = sr.abandoned(self.run.clock.now(), self.abandon_grace)
        self._emit(event)
        if isinstance(event, ev.StepFailed):
            self.running.pop(sr.step_id, None)
            self.next_attempt[sr.step_id] = sr.attempt + 1
            self._failed(sr.step_id, sr, abort_run=False, error=event.error)
        else:
            self.repeating.pop(sr.step_id, None)

    def _stop_all(self) -> None:
        """The journal failed: cancel every step at its next safe point and wait (a bounded time) for them."""
        in_flight = [*self.running.values(), *self.repeating.values()]
        for sr in in_flight:
            sr.token.cancel(Stopped)
        give_up = time.monotonic() + self.abandon_grace
        while (self.running or self.repeating) and time.monotonic() < give_up:
            try:
                message = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if message[0] == "done":
                self.running.pop(message[1].step_id, None)
                self.repeating.pop(message[1].step_id, None)

    def _emit(self, event: ev.Event) -> None:
        self.run.recorder.emit(event)

    def _emit_all(self, events: list[ev.Event]) -> None:
        for event in events:
            self._emit(event)


def finished_with_verdict(journal: Path, finished: ev.RunFinished) -> ev.RunFinished:
    """``finished`` with the run's verdict, judged from the journal as it stands plus this last event; its exit
    code and RTO figure are the verdict's, so the journal cannot disagree with itself."""
    from drctl.engine.journal import read_journal
    from drctl.engine.verdict import judge, objective

    verdict = judge([*read_journal(journal).events(), finished])
    rto = objective(verdict, "RTO")
    return replace(
        finished,
        exit_code=verdict.exit_code if verdict.exit_code is not None else int(ExitCode.INTERNAL),
        rto_achieved_seconds=rto.achieved_seconds if rto is not None else None,
        verdict=verdict,
    )
