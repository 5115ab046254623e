"""Retries, timeouts and on_failure (abort, continue, pause with injected decisions). Fake clock, no sleeping."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from drctl.actions.runtime import Outcome, StepContext, TransientError
from drctl.actions.testing import read_record
from drctl.core.clock import FakeClock
from drctl.engine import events as ev
from drctl.engine.operator import Decision
from drctl.engine.runner import Ending
from drctl.errors import ExitCode
from tests.engine.conftest import ME, ScriptedOperator, Workspace, plan_for, run_plan


def calls(ws: Workspace, step: str) -> list[int]:
    return [e["attempt"] for e in read_record(ws.record) if e["event"] == "run" and e["step"] == step]


def test_a_transient_error_is_retried_with_capped_exponential_backoff_and_every_attempt_journaled(
    ws: Workspace,
) -> None:
    path = ws.playbook(
        "  - id: flaky\n    uses: test.record\n    retry: {attempts: 5, backoff: 2s, max_backoff: 5s}\n"
        "    with: {file: '{record}', transient_failures: 4}\n"
    )
    ran = run_plan(plan_for(path), ws)
    assert ran.exit_code == 0
    assert calls(ws, "flaky") == [1, 2, 3, 4, 5]
    waits = [e.retry_in_seconds for e in ran.of(ev.AttemptFailed)]
    assert [e.attempt for e in ran.of(ev.AttemptFailed)] == [1, 2, 3, 4]
    assert 2 <= waits[0] <= 4
    assert 4 <= waits[1] <= 5
    assert waits[2] == waits[3] == 5
    assert [e.attempt for e in ran.of(ev.AttemptStarted)] == [2, 3, 4, 5]
    assert ran.of(ev.StepSucceeded)[0].attempt == 5


def test_a_fatal_error_is_not_retried(ws: Workspace) -> None:
    path = ws.playbook(
        "  - id: broken\n    uses: test.record\n    retry: 5\n    with: {file: '{record}', fail: true}\n"
    )
    ran = run_plan(plan_for(path), ws)
    assert ran.exit_code == ExitCode.STEP_FAILED
    assert calls(ws, "broken") == [1]
    (failed,) = ran.of(ev.StepFailed)
    assert (failed.error, failed.error_type) == ("failed as asked", "ActionError")


def test_transient_errors_that_outlast_the_attempts_fail_the_step(ws: Workspace) -> None:
    path = ws.playbook(
        "  - id: flaky\n    uses: test.record\n    retry: 3\n    with: {file: '{record}', transient_failures: 9}\n"
    )
    ran = run_plan(plan_for(path), ws)
    assert calls(ws, "flaky") == [1, 2, 3]
    assert ran.of(ev.StepFailed)[0].error == "transient failure 3 of 9 (after 3 attempts)"


def test_an_unexpected_exception_fails_the_step_with_its_type(ws: Workspace) -> None:
    path = ws.playbook("  - id: buggy\n    uses: test.record\n    with: {file: '{record}'}\n")

    def buggy(_p: Any, _ctx: StepContext) -> Outcome:
        raise KeyError("missing")

    ran = run_plan(plan_for(path, impls={"buggy": buggy}), ws)
    (failed,) = ran.of(ev.StepFailed)
    assert (failed.error, failed.error_type) == ("KeyError: 'missing'", "KeyError")


def test_retry_after_is_the_least_wait_before_the_next_attempt(ws: Workspace) -> None:
    path = ws.playbook(
        "  - id: throttled\n    uses: test.record\n    retry: {attempts: 2, backoff: 1s}\n    with: {file: x}\n"
    )
    attempts: list[int] = []

    def throttled(_p: Any, ctx: StepContext) -> Outcome:
        attempts.append(ctx.attempt)
        if ctx.attempt == 1:
            raise TransientError("429", retry_after=42)
        return Outcome("ok")

    clock = FakeClock()
    ran = run_plan(plan_for(path, impls={"throttled": throttled}), ws, clock=clock)
    assert ran.of(ev.AttemptFailed)[0].retry_in_seconds == 42
    assert clock.monotonic() == pytest.approx(42)


def test_the_timeout_bounds_the_whole_step_backoff_included(ws: Workspace) -> None:
    path = ws.playbook(
        "  - id: slow\n    uses: test.record\n    timeout: 5m\n"
        "    retry: {attempts: 10, backoff: 1m, max_backoff: 1m}\n"
        "    with: {file: '{record}', sleep: 2m, transient_failures: 10}\n"
    )
    clock = FakeClock()
    ran = run_plan(plan_for(path), ws, clock=clock)
    (failed,) = ran.of(ev.StepFailed)
    assert failed.timed_out
    assert failed.error == "timed out after 5m"
    assert failed.duration_seconds == pytest.approx(300)
    assert calls(ws, "slow") == [1, 2]  # 2m + 1m back-off + 2m: the second attempt ends on the deadline


def test_an_action_that_ignores_its_timeout_is_abandoned_after_the_grace(ws: Workspace) -> None:
    path = ws.playbook(
        "  - id: stuck\n    uses: test.record\n    timeout: 1m\n    with: {file: x}\n"
        "  - {id: next, uses: wait, with: {duration: 1s}}\n"
    )
    never = threading.Event()
    clock = FakeClock()

    def stuck(_p: Any, _ctx: StepContext) -> Outcome:
        clock.advance(120)  # its time passes, and it does not look
        never.wait(10)
        return Outcome("too late")

    ran = run_plan(plan_for(path, impls={"stuck": stuck}), ws, clock=clock, abandon_grace=0.05)
    never.set()
    (failed,) = ran.of(ev.StepFailed)
    assert failed.abandoned
    assert failed.timed_out
    assert "abandoned" in failed.error
    assert ran.exit_code == ExitCode.STEP_FAILED
    assert not ran.of(ev.StepSucceeded)  # the late success was never journaled, and "next" never started


def test_abort_lets_in_flight_steps_finish_and_starts_nothing_new(ws: Workspace) -> None:
    path = ws.playbook(
        "  - {id: bad, uses: test.record, needs: [], with: {file: '{record}', fail: true}}\n"
        "  - {id: busy, uses: test.record, needs: [], with: {file: '{record}'}}\n"
        "  - {id: after-busy, uses: test.record, needs: [busy], with: {file: '{record}'}}\n"
    )
    bad_failed = threading.Event()

    def busy(_p: Any, _ctx: StepContext) -> Outcome:
        assert bad_failed.wait(5)
        return Outcome("finished although the run is stopping")

    def listener(record: Any) -> None:
        if isinstance(record.event, ev.StepFailed):
            bad_failed.set()

    ran = run_plan(plan_for(path, impls={"busy": busy}), ws, listeners=[listener])
    assert ran.exit_code == ExitCode.STEP_FAILED
    assert [e.step for e in ran.of(ev.StepSucceeded)] == ["busy"]
    assert "after-busy" not in [e.step for e in ran.of(ev.StepStarted)]
    finished = ran.of(ev.RunFinished)[0]
    assert finished.ending is ev.RunEnding.FAILED
    assert finished.failed_steps == ("bad",)


def test_dependents_of_a_failed_continue_step_still_run(ws: Workspace) -> None:
    path = ws.playbook(
        "  - {id: advisory, uses: test.record, on_failure: continue, with: {file: '{record}', fail: true}}\n"
        "  - {id: after, uses: test.record, with: {file: '{record}'}}\n"
    )
    ran = run_plan(plan_for(path), ws)
    assert ran.exit_code == ExitCode.OK
    assert [e.step for e in ran.of(ev.StepSucceeded)] == ["after"]
    assert ran.of(ev.RunFinished)[0].advisory_failures == ("advisory",)


PAUSING = (
    "  - {id: shaky, uses: test.record, on_failure: pause, with: {file: '{record}', transient_failures: 1}}\n"
    "  - {id: after, uses: test.record, with: {file: '{record}'}}\n"
)


def test_pause_asks_the_operator_and_retry_runs_the_step_again(ws: Workspace) -> None:
    operator = ScriptedOperator(decisions=[Decision(ev.Choice.RETRY, ME)])
    ran = run_plan(plan_for(ws.playbook(PAUSING)), ws, operator=operator)
    assert ran.exit_code == ExitCode.OK
    assert calls(ws, "shaky") == [1, 2]
    (made,) = ran.of(ev.DecisionMade)
    assert (made.question, made.choice, made.step, made.by) == (ev.Question.FAILURE, ev.Choice.RETRY, "shaky", ME)


def test_pause_then_skip_with_a_reason_lets_dependents_run(ws: Workspace) -> None:
    operator = ScriptedOperator(decisions=[Decision(ev.Choice.SKIP, ME, "done by hand in the portal")])
    ran = run_plan(plan_for(ws.playbook(PAUSING)), ws, operator=operator)
    assert ran.exit_code == ExitCode.OK
    (skipped,) = ran.of(ev.StepSkipped)
    assert (skipped.step, skipped.reason, skipped.by) == ("shaky", "done by hand in the portal", ME)
    assert calls(ws, "after") == [1]


def test_pause_then_abort_ends_the_run_aborted(ws: Workspace) -> None:
    operator = ScriptedOperator(decisions=[Decision(ev.Choice.ABORT, ME, "not today")])
    ran = run_plan(plan_for(ws.playbook(PAUSING)), ws, operator=operator)
    assert ran.exit_code == ExitCode.ABORTED
    assert ran.result.outcome.ending is Ending.ABORTED
    assert calls(ws, "after") == []


def test_pause_with_nobody_to_ask_leaves_the_run_paused_with_exit_10(ws: Workspace) -> None:
    ran = run_plan(plan_for(ws.playbook(PAUSING)), ws)
    assert ran.exit_code == ExitCode.PAUSED
    (paused,) = ran.of(ev.RunPaused)
    assert paused.reason is ev.PauseReason.DECISION
    assert paused.step == "shaky"
    assert "drctl resume" in paused.next
    assert not ran.of(ev.RunFinished)
