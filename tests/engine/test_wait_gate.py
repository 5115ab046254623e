"""The gate every SDK sleep goes through: a pause ends it within a slice, a step's timeout ends it on the step's
own thread, and it waits its full time otherwise."""

from __future__ import annotations

import threading
import time

import pytest

from drctl.actions.runtime import Interrupted, TimedOut
from drctl.engine.context import Token, WaitGate, WaitInterrupted


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
