"""The fake step context behaves as the engine's does for what an action observes (engine/context.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from drctl.actions.base import Scope
from drctl.actions.runtime import Interrupted, Stopped, TimedOut
from drctl.actions.testkit import FakeClock, FakeSecrets, FakeServices, FakeStepContext
from drctl.planning.load import load_playbook
from tests.conftest import SAMPLE

START = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def scope() -> Scope:
    return Scope(load_playbook(SAMPLE).playbook, "au-southeast", "au-east")


def test_sleep_moves_the_run_clock_and_stops_at_the_deadline(scope: Scope) -> None:
    ctx = FakeStepContext(scope, clock=FakeClock(START), timeout=10.0)
    ctx.sleep(4)
    assert ctx.now() == datetime(2026, 3, 3, 2, 0, 4, tzinfo=UTC)
    assert not ctx.cancelled
    with pytest.raises(TimedOut):
        ctx.sleep(7)
    assert ctx.clock.monotonic() == 10.0  # the wait ends at the deadline, not after the whole sleep
    assert ctx.cancelled
    with pytest.raises(TimedOut):
        ctx.check_cancelled()


def test_cancel_and_interrupt_stop_waits_as_the_runner_does(scope: Scope) -> None:
    ctx = FakeStepContext(scope)
    ctx.interrupt()
    ctx.sleep(1)  # only interruptible waits end on a pause
    with pytest.raises(Interrupted):
        ctx.sleep(1, interruptible=True)
    ctx.cancel(Stopped)
    with pytest.raises(Stopped):
        ctx.check_cancelled()


def test_timers_change_the_world_at_a_point_of_run_time(scope: Scope) -> None:
    ctx = FakeStepContext(scope)
    seen: list[float] = []
    ctx.clock.call_at(3, lambda: seen.append(ctx.clock.monotonic()))
    ctx.sleep(2)
    assert seen == []
    ctx.sleep(2)
    assert seen == [4.0]


def test_journaled_answers_from_seeded_and_recorded_facts_of_a_kind(scope: Scope) -> None:
    ctx = FakeStepContext(scope, facts=[("op.intent", {"key": "a"}), ("other", {})])
    ctx.record("op.intent", {"key": "b"})
    assert ctx.journaled("op.intent") == [{"key": "a"}, {"key": "b"}]
    assert ctx.recorded("op.intent") == [{"key": "b"}]
    ctx.journaled("op.intent")[0]["key"] = "changed"  # a copy, as the engine's fact book hands out
    assert ctx.journaled("op.intent")[0]["key"] == "a"


def test_next_attempt_reads_the_journal_back_as_json(scope: Scope) -> None:
    ctx = FakeStepContext(scope, clock=FakeClock(START))
    ctx.record("seen", {"at": START, "values": ("x",)})
    resumed = ctx.next_attempt()
    assert resumed.attempt == 2
    assert resumed.clock is ctx.clock
    assert resumed.journaled("seen") == [{"at": str(START), "values": ["x"]}]
    assert resumed.recorded("seen") == []


def test_run_facts_speak_of_the_step_direction(scope: Scope) -> None:
    facts = FakeStepContext(scope, run_facts={"steps_done": "3/9"}).run_facts()
    assert (facts["source"], facts["target"], facts["steps_done"]) == ("au-southeast", "au-east", "3/9")
    assert facts["playbook"] == "wallet-platform"


def test_services_are_made_once_and_a_missing_one_is_named(scope: Scope) -> None:
    made: list[int] = []
    services = FakeServices({"thing": lambda: made.append(1) or len(made)})
    assert services.get("thing") == services.get("thing") == 1
    with pytest.raises(KeyError, match="registered: thing"):
        services.get("azure")


def test_secrets_expand_and_redact_their_escaped_forms() -> None:
    secrets = FakeSecrets({"HOOK": "https://hooks.example/T0/abc def"})
    assert secrets.expand({"url": ["${HOOK}"], "n": 1}) == {"url": ["https://hooks.example/T0/abc def"], "n": 1}
    assert secrets.expand("${UNSET}") == "${UNSET}"
    escaped = "https%3A%2F%2Fhooks.example%2FT0%2Fabc%20def"
    assert secrets.redact(f"posted to {escaped}") == "posted to [redacted:HOOK]"
    assert secrets.leaks(f"x {escaped}") == ["HOOK"]
