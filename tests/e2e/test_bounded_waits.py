"""Bounded waits and every signal, on the sandbox through the real SDK: a `Retry-After: 900` no longer stalls a
step silently for 15 minutes, SIGTERM and SIGHUP end an SDK wait within a second or two, and SIGHUP (the terminal
closed) pauses the run, journaled, instead of killing it unheard."""

from __future__ import annotations

import signal
import time

import pytest

from drctl.errors import ExitCode
from tests.e2e.conftest import Rehearsal, wait_for

pytestmark = pytest.mark.slow


def _throttled(r: Rehearsal) -> bool:
    return any(q.get("status") == 429 for q in r.sandbox.client().requests(method="POST"))


def test_a_retry_after_beyond_the_bound_fails_the_step_at_once_saying_why(rehearsal: Rehearsal) -> None:
    r = rehearsal
    r.sandbox.add_faults([{"kind": "throttle", "op": "web.start", "times": 1, "retry_after": 900}])
    started = time.monotonic()
    result = r.failover("--yes", timeout=300)
    took = time.monotonic() - started
    assert took < 120, f"the run took {took:.0f} s: the 900 s Retry-After was waited for"
    assert result.returncode == ExitCode.STEP_FAILED, result.stderr[-3000:]
    (failed,) = [e for e in r.journal() if e["type"] == "step.failed" and e["step"] == "start-web-apps"]
    assert "Retry-After" in failed["error"]
    assert "900 s" in failed["error"]
    assert "longer than drctl waits: 60 s" in failed["error"]
    starts = [m["path"] for m in r.mutations() if m["path"].endswith("/start")]
    assert len(starts) == len(set(starts)) == 2  # each web app once: the throttled request was not retried


@pytest.mark.parametrize(("signum", "reason"), [(signal.SIGTERM, "terminate"), (signal.SIGHUP, "hangup")])
def test_a_signal_ends_an_sdk_wait_within_seconds_and_pauses_journaled(
    rehearsal: Rehearsal, signum: signal.Signals, reason: str
) -> None:
    r = rehearsal
    # within the bound: the SDK itself waits 45 s before retrying, in its own retry policy
    r.sandbox.add_faults([{"kind": "throttle", "op": "web.start", "times": 3, "retry_after": 45}])
    process = r.start("failover", str(r.playbook), "--yes")
    try:
        wait_for(lambda: _throttled(r), timeout=120, what="the throttled web app start")
        time.sleep(1.0)  # inside the SDK's 45 s sleep
        sent = time.monotonic()
        process.send_signal(signum)
        _, err = process.communicate(timeout=60)
        took = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == ExitCode.PAUSED, err[-3000:]
    assert took < 8, f"{took:.1f} s from the signal to the exit"
    events = r.journal()
    (paused,) = [e for e in events if e["type"] == "run.paused"]
    assert paused["reason"] == reason
    assert any(e["type"] == "step.interrupted" and e["step"] == "start-web-apps" for e in events)
