"""One execution of one step, in its own thread: done-check (resume), attempts with tenacity, timeout, journal.

Every attempt is journaled before the action is called (``step.started`` for the first, ``attempt.started`` for
each retry) and its result after (``attempt.failed`` with the back-off before the next, ``step.succeeded`` or
``step.failed``). The step's ``timeout`` bounds the whole step, back-off included: it is how long the operator
lets the step take. Only ``TransientError`` is retried, with exponential back-off and jitter capped at
``max_backoff`` (and never shorter than an error's ``retry_after``).

The thread is a daemon: an action that ignores its timeout is abandoned by the runner after a grace period
(journaled), and must not keep the process alive after the run has ended.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_base

from drctl.actions.runtime import (
    AbortRun,
    ActionError,
    Interrupted,
    Outcome,
    Stopped,
    TimedOut,
    TransientError,
)
from drctl.durations import format_duration
from drctl.engine import events as ev
from drctl.engine.context import EngineStepContext, RunScope, Token
from drctl.engine.runplan import StepPlan
from drctl.errors import JournalError


class Result(StrEnum):
    SUCCEEDED = "succeeded"
    DONE_BY_CHECK = "done-by-check"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    JOURNAL = "journal"


@dataclass(frozen=True)
class StepResult:
    result: Result
    attempt: int
    abort_run: bool = False
    error: str = ""
    journal_error: JournalError | None = None


class Backoff(wait_base):
    """``min(max, backoff * 2**(n-1) + uniform(0, backoff))``, and at least a transient error's ``retry_after``."""

    def __init__(self, backoff: float, maximum: float, rng: random.Random) -> None:
        self.backoff = backoff
        self.maximum = maximum
        self.rng = rng

    def __call__(self, retry_state: RetryCallState) -> float:
        exponent = min(retry_state.attempt_number - 1, 60)  # 2**60 seconds is plenty, and no overflow
        wait = min(self.maximum, self.backoff * 2**exponent + self.rng.uniform(0, self.backoff))
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, TransientError) and error.retry_after is not None:
            wait = max(wait, error.retry_after)
        return float(wait)


def describe_error(error: BaseException) -> str:
    if isinstance(error, ActionError | TransientError):
        return str(error) or type(error).__name__
    return f"{type(error).__name__}: {error}"


class StepRun:
    """Runs a step (or one repetition of a background step) in a daemon thread, then calls ``post``."""

    def __init__(
        self,
        plan: StepPlan,
        run: RunScope,
        *,
        first_attempt: int,
        post: Callable[[StepRun, StepResult], None],
        rng: random.Random,
        check_first: bool = False,
        repetition: int | None = None,
    ) -> None:
        self.plan = plan
        # a drill's failback steps run in the reversed direction: the same run, another scope
        self.run = run if plan.scope is None else dataclasses.replace(run, scope=plan.scope)
        self.first_attempt = first_attempt
        self.check_first = check_first
        self.repetition = repetition
        self.token = Token()
        self.started = run.clock.monotonic()
        self.deadline = self.started + plan.timeout
        #: real-time (time.monotonic) moment the runner cancelled it for its timeout; for the abandon grace
        self.cancelled_at: float | None = None
        self.attempt = first_attempt
        self._post = post
        self._rng = rng
        self._final = threading.Lock()
        self._finalized = False

    @property
    def step_id(self) -> str:
        return self.plan.id

    def start(self) -> None:
        name = f"drctl-step-{self.plan.id}" + (f"-r{self.repetition}" if self.repetition else "")
        threading.Thread(target=self._main, name=name, daemon=True).start()

    def abandon(self) -> bool:
        """Claim the step's final event for the runner (the action never returned); False if it just did."""
        with self._final:
            if self._finalized:
                return False
            self._finalized = True
            return True

    def abandoned(self, now: datetime, grace: float) -> ev.Event:
        """The final event the runner journals for a step it abandoned (see ``abandon``)."""
        error = (
            f"timed out after {format_duration(self.plan.timeout)}; the action did not stop within "
            f"{format_duration(grace)} and was abandoned"
        )
        took = self.run.clock.monotonic() - self.started
        if self.repetition is not None:
            return ev.RepeatFinished(
                at=now,
                step=self.step_id,
                repetition=self.repetition,
                outcome=ev.StepOutcome.FAILED,
                summary=error,
                duration_seconds=took,
            )
        return ev.StepFailed(
            at=now,
            step=self.step_id,
            attempt=self.attempt,
            error=error,
            error_type="TimedOut",
            duration_seconds=took,
            on_failure=self.plan.step.on_failure.value,
            timed_out=True,
            abandoned=True,
        )

    def _emit_final(self, event: ev.Event) -> None:
        with self._final:
            if self._finalized:
                return
            self._finalized = True
            self.run.recorder.emit(event)

    def _main(self) -> None:
        try:
            result = self._execute()
        except JournalError as exc:
            result = StepResult(Result.JOURNAL, self.attempt, journal_error=exc)
        except BaseException as exc:  # a bug here must fail the step, never leave the runner waiting
            try:
                result = self._failed(f"internal error: {describe_error(exc)}", type(exc).__name__)
            except JournalError as journal_error:
                result = StepResult(Result.JOURNAL, self.attempt, journal_error=journal_error)
        self._post(self, result)

    def _elapsed(self) -> float:
        return self.run.clock.monotonic() - self.started

    def _context(self, attempt: int) -> EngineStepContext:
        return EngineStepContext(
            self.run,
            step_id=self.plan.id,
            attempt=attempt,
            token=self.token,
            deadline=self.deadline,
            repetition=self.repetition,
        )

    def _execute(self) -> StepResult:
        plan, run = self.plan, self.run
        if self.check_first and plan.implementation.done is not None:
            checked = self._done_check()
            if checked is not None:
                return checked
        if self.repetition is None:
            run.recorder.emit(ev.StepStarted(at=run.clock.now(), step=plan.id, attempt=self.first_attempt))
        else:
            run.recorder.emit(ev.RepeatStarted(at=run.clock.now(), step=plan.id, repetition=self.repetition))
        try:
            outcome = self._attempts()
        except JournalError:
            raise
        except BaseException as exc:
            return self._ended_by(exc)
        now = run.clock.now()
        if self.repetition is None:
            self._emit_final(
                ev.StepSucceeded(
                    at=now,
                    step=plan.id,
                    attempt=self.attempt,
                    summary=outcome.summary,
                    changed=outcome.changed,
                    facts=dict(outcome.facts),
                    duration_seconds=self._elapsed(),
                )
            )
        else:
            self._emit_final(self._repeat_finished(ev.StepOutcome.SUCCEEDED, outcome.summary))
        return StepResult(Result.SUCCEEDED, self.attempt)

    def _ended_by(self, exc: BaseException) -> StepResult:
        plan, run = self.plan, self.run
        match exc:
            case TimedOut():
                return self._failed(f"timed out after {format_duration(plan.timeout)}", "TimedOut", timed_out=True)
            case Interrupted():
                if self.repetition is None:
                    self._emit_final(ev.StepInterrupted(at=run.clock.now(), step=plan.id, attempt=self.attempt))
                return StepResult(Result.INTERRUPTED, self.attempt)
            case Stopped():
                return self._failed("stopped: the run cannot go on", "Stopped")
            case AbortRun():
                return self._failed(describe_error(exc), type(exc).__name__, abort_run=True)
            case TransientError():
                return self._failed(f"{describe_error(exc)} (after {self.attempt} attempts)", type(exc).__name__)
            case Exception():  # any other error fails the step, journaled with its type and message
                return self._failed(describe_error(exc), type(exc).__name__)
        raise exc  # KeyboardInterrupt, SystemExit: not the step's doing

    def _done_check(self) -> StepResult | None:
        """Resume: ask the done-check of a step that started but never finished. None: run it again."""
        plan, run = self.plan, self.run
        check = plan.implementation.done
        assert check is not None
        attempt = self.first_attempt - 1
        try:
            done = check(plan.params, self._context(attempt))
        except JournalError:
            raise
        except BaseException as exc:
            return self._failed(f"done-check failed: {describe_error(exc)}", type(exc).__name__)
        if isinstance(done, Outcome):
            # the check ran the verification the crash interrupted: a completed step, with its evidence
            self.attempt = attempt
            self._emit_final(
                ev.StepSucceeded(
                    at=run.clock.now(),
                    step=plan.id,
                    attempt=attempt,
                    summary=done.summary,
                    changed=done.changed,
                    facts=dict(done.facts),
                    duration_seconds=self._elapsed(),
                )
            )
            return StepResult(Result.DONE_BY_CHECK, attempt)
        if done:
            self._emit_final(ev.StepChecked(at=run.clock.now(), step=plan.id, attempt=attempt, done=True))
            return StepResult(Result.DONE_BY_CHECK, attempt)
        run.recorder.emit(ev.StepChecked(at=run.clock.now(), step=plan.id, attempt=attempt, done=False))
        return None

    def _attempts(self) -> Outcome:
        plan = self.plan
        retrying = Retrying(
            stop=stop_after_attempt(plan.retry.attempts),
            wait=Backoff(plan.retry.backoff.total_seconds(), plan.retry.max_backoff.total_seconds(), self._rng),
            retry=retry_if_exception_type(TransientError),
            sleep=self._nap,
            before_sleep=self._journal_retry,
            reraise=True,
        )
        outcome: Outcome | None = None
        for attempt in retrying:
            with attempt:
                number = self.first_attempt + attempt.retry_state.attempt_number - 1
                self.attempt = number
                if number > self.first_attempt:
                    self.run.recorder.emit(ev.AttemptStarted(at=self.run.clock.now(), step=plan.id, attempt=number))
                context = self._context(number)
                context.check_cancelled()
                outcome = plan.implementation.run(plan.params, context)
        if not isinstance(outcome, Outcome):
            raise ActionError(f"the action returned {type(outcome).__name__}, not an Outcome")
        return outcome

    def _nap(self, seconds: float) -> None:
        """Back-off between attempts on the run clock; the step deadline cuts it short."""
        remaining = self.deadline - self.run.clock.monotonic()
        # interruptible: nothing is in flight between attempts, so a pause need not wait out a back-off
        self.token.wait(self.run.clock, max(0.0, min(seconds, remaining)), interruptible=True)
        if seconds >= remaining:
            raise TimedOut()

    def _journal_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        self.run.recorder.emit(
            ev.AttemptFailed(
                at=self.run.clock.now(),
                step=self.plan.id,
                attempt=self.attempt,
                error=describe_error(error) if error else "",
                error_type=type(error).__name__ if error else "",
                retry_in_seconds=wait,
            )
        )

    def _repeat_finished(self, outcome: ev.StepOutcome, summary: str) -> ev.RepeatFinished:
        assert self.repetition is not None
        return ev.RepeatFinished(
            at=self.run.clock.now(),
            step=self.plan.id,
            repetition=self.repetition,
            outcome=outcome,
            summary=summary,
            duration_seconds=self._elapsed(),
        )

    def _failed(self, error: str, error_type: str, *, timed_out: bool = False, abort_run: bool = False) -> StepResult:
        if self.repetition is None:
            self._emit_final(
                ev.StepFailed(
                    at=self.run.clock.now(),
                    step=self.plan.id,
                    attempt=self.attempt,
                    error=error,
                    error_type=error_type,
                    duration_seconds=self._elapsed(),
                    on_failure=self.plan.step.on_failure.value,
                    timed_out=timed_out,
                )
            )
        else:
            self._emit_final(self._repeat_finished(ev.StepOutcome.FAILED, error))
        return StepResult(Result.FAILED, self.attempt, abort_run=abort_run, error=error)
