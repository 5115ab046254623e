"""The gate every SDK sleep goes through: a pause ends it within a slice, a step's timeout ends it on the step's
own thread, and it waits its full time otherwise."""

from __future__ import annotations

import threading
import time

import pytest

from drctl.actions.runtime import Interrupted, TimedOut
from drctl.core.waits import WaitGate, WaitInterrupted
from drctl.engine.context import Token


def test_an_open_gate_waits_the_time_asked() -> None:
    gate = WaitGate()
    started = time.monotonic()
    gate.sleep(0.3)
    assert time.monotonic() - started >= 0.3


def test_closing_the_gate_ends_a_long_wait_in_another_thread_at_once() -> None:
    gate = WaitGate()
    caught: list[BaseException] = []

    def sleeper() -> None:
        try:
            gate.sleep(60)
        except WaitInterrupted as exc:
            caught.append(exc)

    thread = threading.Thread(target=sleeper)
    thread.start()
    time.sleep(0.2)
    closed = time.monotonic()
    gate.close()
    thread.join(5)
    assert not thread.is_alive()
    assert time.monotonic() - closed < 1.0
    assert caught
    assert caught[0].cause is Interrupted  # type: ignore[attr-defined]
    gate.open()
    gate.sleep(0.01)  # open again: waits as asked


def test_a_cancelled_step_ends_the_wait_on_its_own_thread_as_a_timeout() -> None:
    gate = WaitGate()
    token = Token()
    gate.bind(token)
    threading.Timer(0.2, lambda: token.cancel(TimedOut)).start()
    with pytest.raises(WaitInterrupted) as ended:
        gate.sleep(60)
    assert ended.value.cause is TimedOut
    gate.bind(None)


MUTATING = "  - {id: change, uses: test.record, needs: [], with: {file: '{record}', mutating: true}}\n"


def test_a_pause_ends_an_sdk_wait_inside_a_mutating_step_which_is_checked_before_it_runs_again(
    tmp_path: object,
) -> None:
    """The SDK's poll sleep ends within a slice on Ctrl-C; on "go on" the step's done-check runs first, so an
    operation Azure already accepted is not started twice."""
    from pathlib import Path

    from drctl.actions.runtime import Implementation, Outcome
    from drctl.core.clock import FakeClock
    from drctl.core.waits import WAITS
    from drctl.engine import events as ev
    from drctl.engine.journal import read_journal
    from drctl.engine.operator import Decision
    from drctl.engine.session import Host, RunOptions, RunRequest, start_planned
    from drctl.errors import ExitCode
    from tests.engine.conftest import ME, Captured, ScriptedOperator, Workspace, plan_for

    ws = Workspace(Path(str(tmp_path)))
    handles: list[object] = []
    calls: list[str] = []
    checks: list[str] = []
    interrupted_after: list[float] = []

    def run(_p: object, _ctx: object) -> Outcome:
        calls.append("run")
        started = time.monotonic()
        threading.Timer(0.3, lambda: handles[0].request_pause(ev.PauseReason.INTERRUPT)).start()  # type: ignore[attr-defined]
        try:
            WAITS.sleep(600)  # the LRO poller's sleep, after Azure accepted the change
        except WaitInterrupted as exc:
            interrupted_after.append(time.monotonic() - started)
            raise exc.cause() from None
        return Outcome("never")

    def done(_p: object, _ctx: object) -> bool:
        checks.append("check")
        return True

    plan = plan_for(ws.playbook(MUTATING), impls={"change": Implementation(run=run, done=done)})
    operator = ScriptedOperator(decisions=[Decision(ev.Choice.CONTINUE, ME)])
    host = Host(clock=FakeClock(), operator=operator, listeners=[Captured()], on_ready=handles.append)
    request = RunRequest(playbook=plan.loaded.path, mode=plan.mode, options=RunOptions(state_dir=ws.state))
    result = start_planned(plan, request, host)
    assert result.outcome.exit_code is ExitCode.OK
    assert interrupted_after[0] < 1.0
    assert calls == ["run"]  # not started a second time
    assert checks == ["check"]
    events = read_journal(result.journal).events()
    assert [e.type for e in events if getattr(e, "step", None) == "change"] == [
        "step.started",
        "step.interrupted",
        "step.checked",
    ]
    assert not WAITS.closed  # going on opened the gate again
