"""Secrets never reach the journal or a listener; background repetition; pausing (Ctrl-C); journal failures."""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable
from typing import Any

import pytest

from drctl.actions.runtime import ActionError, Outcome, StepContext
from drctl.actions.testing import read_record
from drctl.core.clock import FakeClock
from drctl.engine import events as ev
from drctl.engine.journal import Journal
from drctl.engine.operator import Decision
from drctl.errors import ExitCode, JournalError, UsageError
from tests.engine.conftest import ME, Captured, ScriptedOperator, Workspace, plan_for, run_plan, wait_until

SECRET = "s3cr3t-webhook-token/with?chars=1"


def test_secrets_are_redacted_in_the_journal_and_in_what_listeners_see(ws: Workspace) -> None:
    path = ws.playbook(
        "  - {id: say, uses: test.record, with: {file: '{record}', say: 'token ${HOOK} used', progress: 'p'}}\n"
        "  - {id: leak, uses: test.record, with: {file: '{record}'}}\n"
    )
    environ = {"HOOK": SECRET}

    def leak(_p: Any, ctx: StepContext) -> Outcome:
        url = ctx.secrets.expand("https://hooks.example/${HOOK}")
        ctx.progress(f"posting to {url}")
        ctx.record("message.sent", {"url": url, "encoded": SECRET.replace("/", "%2F").replace("?", "%3F")})
        raise ActionError(f"POST {url} failed")

    printed = Captured()
    ran = run_plan(plan_for(path, environ=environ, impls={"leak": leak}), ws, listeners=[printed])
    journal = ran.result.journal.read_text()
    assert SECRET not in journal
    assert "s3cr3t-webhook-token%2Fwith%3Fchars%3D1" not in journal  # nor its URL-encoded form
    assert "[redacted:HOOK]" in journal
    assert all(SECRET not in r.line and SECRET not in repr(r.event) for r in printed.records)
    assert ran.of(ev.StepSucceeded)[0].summary == "token [redacted:HOOK] used"
    assert ran.of(ev.RunStarted)[0].secrets == ("HOOK",)


def test_a_missing_environment_variable_stops_the_run_before_anything_runs(ws: Workspace) -> None:
    path = ws.playbook("  - {id: say, uses: test.record, with: {file: '{record}', say: '${NOT_SET_ANYWHERE}'}}\n")
    with pytest.raises(UsageError, match=r"\$\{NOT_SET_ANYWHERE\} \(used by steps.say.with.say\)"):
        plan_for(path, environ={})
    assert read_record(ws.record) == []


BACKGROUND = """\
  - {id: updates, uses: test.record, needs: [], with: {file: '{record}', every: 30m}}
  - {id: work, uses: test.record, needs: [updates], timeout: 2h, with: {file: '{record}'}}
"""


def test_a_background_step_runs_in_its_place_then_every_period_until_the_run_ends(ws: Workspace) -> None:
    clock = FakeClock()

    def repetitions() -> int:
        return sum(1 for e in read_record(ws.record) if e["event"] == "done" and e["step"] == "updates")

    def work(_p: Any, ctx: StepContext) -> Outcome:
        for expected in (2, 3):  # 31 minutes in: the first repetition; 61: the second
            ctx.sleep(31 * 60 if expected == 2 else 30 * 60)
            wait_until(lambda n=expected: repetitions() >= n)  # type: ignore[misc]
        ctx.sleep(10 * 60)
        return Outcome("worked 71 minutes")

    ran = run_plan(plan_for(ws.playbook(BACKGROUND, rto="2h"), impls={"work": work}), ws, clock=clock)
    assert ran.exit_code == ExitCode.OK
    assert [e.repetition for e in ran.of(ev.RepeatFinished)] == [1, 2]
    assert all(e.outcome is ev.StepOutcome.SUCCEEDED for e in ran.of(ev.RepeatFinished))
    types = ran.types()
    assert types.index("step.succeeded") < types.index("repeat.started")  # dependents did not wait for repeats
    assert types[-1] == "run.finished"
    assert "repeat.started" not in types[types.index("run.finished") :]


def test_a_failed_repetition_is_journaled_and_does_not_fail_the_run(ws: Workspace) -> None:
    clock = FakeClock()
    calls = {"n": 0}

    def updates(_p: Any, _ctx: StepContext) -> Outcome:
        calls["n"] += 1
        if calls["n"] > 1:
            raise ActionError("webhook down")
        return Outcome("sent")

    def work(_p: Any, ctx: StepContext) -> Outcome:
        ctx.sleep(31 * 60)
        wait_until(lambda: calls["n"] >= 2)
        return Outcome("ok")

    ran = run_plan(plan_for(ws.playbook(BACKGROUND), impls={"updates": updates, "work": work}), ws, clock=clock)
    assert ran.exit_code == ExitCode.OK
    (repeat,) = ran.of(ev.RepeatFinished)
    assert (repeat.outcome, repeat.summary) == (ev.StepOutcome.FAILED, "webhook down")


PAUSABLE = """\
  - {id: busy, uses: test.record, needs: [], with: {file: '{record}'}}
  - {id: hold, uses: wait, needs: [], with: {duration: 10m}}
  - {id: after, uses: test.record, needs: [busy, hold], with: {file: '{record}'}}
"""


def run_with_ctrl_c(ws: Workspace, operator: Any = None) -> Any:
    """Press Ctrl-C while `busy` is in flight (and `hold` waits); `busy` then finishes."""
    pressed = threading.Event()
    handles: list[Any] = []

    def busy(_p: Any, _ctx: StepContext) -> Outcome:
        wait_until(lambda: bool(handles))
        handles[0].request_pause(ev.PauseReason.INTERRUPT)
        pressed.set()
        return Outcome("finished in flight")

    def hold(_p: Any, ctx: StepContext) -> Outcome:
        if not pressed.is_set():  # the first time: be waiting when the pause reaches the steps in flight
            wait_until(lambda: ctx.token.interrupting)  # type: ignore[attr-defined]
        ctx.sleep(600, interruptible=True)
        return Outcome("waited")

    from drctl.engine.session import Host, RunOptions, RunRequest, start_planned

    plan = plan_for(ws.playbook(PAUSABLE), impls={"busy": busy, "hold": hold})
    seen = Captured()
    host = Host(clock=FakeClock(), operator=operator or _unattended(), listeners=[seen], on_ready=handles.append)
    request = RunRequest(playbook=plan.loaded.path, mode=plan.mode, options=RunOptions(state_dir=ws.state))
    return start_planned(plan, request, host)


def _unattended() -> Any:
    from drctl.engine.operator import Unattended

    return Unattended()


def _events(result: Any) -> list[ev.Event]:
    from drctl.engine.journal import read_journal

    return read_journal(result.journal).events()


def test_ctrl_c_lets_in_flight_steps_finish_starts_nothing_new_and_leaves_the_run_paused(ws: Workspace) -> None:
    result = run_with_ctrl_c(ws)
    events = _events(result)
    assert result.outcome.exit_code is ExitCode.PAUSED
    assert [e.step for e in events if isinstance(e, ev.StepSucceeded)] == ["busy"]
    assert [e.step for e in events if isinstance(e, ev.StepInterrupted)] == ["hold"]  # a wait: safe to redo
    assert "after" not in [e.step for e in events if isinstance(e, ev.StepStarted)]
    (paused,) = [e for e in events if isinstance(e, ev.RunPaused)]
    assert paused.reason is ev.PauseReason.INTERRUPT


def test_ctrl_c_at_a_terminal_asks_and_going_on_completes_the_run(ws: Workspace) -> None:
    operator = ScriptedOperator(decisions=[Decision(ev.Choice.CONTINUE, ME)])
    result = run_with_ctrl_c(ws, operator)
    events = _events(result)
    assert result.outcome.exit_code is ExitCode.OK
    assert operator.asked[0].question is ev.Question.INTERRUPT  # type: ignore[union-attr]
    assert [e.step for e in events if isinstance(e, ev.StepSucceeded)] == ["busy", "hold", "after"]


def test_ctrl_c_at_a_terminal_then_abort_ends_the_run_aborted(ws: Workspace) -> None:
    operator = ScriptedOperator(decisions=[Decision(ev.Choice.ABORT, ME, "stop")])
    result = run_with_ctrl_c(ws, operator)
    assert result.outcome.exit_code is ExitCode.ABORTED
    assert isinstance(_events(result)[-1], ev.RunFinished)


def failing_journal(after: int) -> Callable[..., Journal]:
    """Journal.create whose writes fail with ENOSPC after ``after`` lines: a full disk."""
    original = Journal.create

    def create(path: Any, **_seams: Any) -> Journal:
        written = {"n": 0}

        def write(fd: int, data: memoryview) -> int:
            if written["n"] >= after:
                raise OSError(errno.ENOSPC, "No space left on device")
            written["n"] += 1
            import os

            return os.write(fd, data)

        return original(path, write=write)

    return create


def test_a_journal_that_cannot_be_written_stops_the_run_and_nothing_further_runs(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = ws.playbook(
        "".join(f"  - {{id: s{i}, uses: test.record, with: {{file: '{{record}}'}}}}\n" for i in range(6))
    )
    monkeypatch.setattr(Journal, "create", staticmethod(failing_journal(after=4)))
    with pytest.raises(JournalError, match="No space left on device"):
        run_plan(plan_for(path), ws)
    ran_steps = [e["step"] for e in read_record(ws.record) if e["event"] == "run"]
    # lines: run.started, s0 started, s0 succeeded, s1 started; s1's success cannot be written: s2.. never run
    assert ran_steps == ["s0", "s1"]


def test_a_view_that_breaks_is_dropped_and_the_run_goes_on(ws: Workspace) -> None:
    def broken(_record: Any) -> None:
        raise BrokenPipeError("stdout closed")

    path = ws.playbook("  - {id: a, uses: test.record, with: {file: '{record}'}}\n")
    ran = run_plan(plan_for(path), ws, listeners=[broken])
    assert ran.exit_code == ExitCode.OK
    assert ran.result.view_errors == ("BrokenPipeError: stdout closed",)
    assert len(ran.seen.records) == len(ran.events)  # the other views saw everything
