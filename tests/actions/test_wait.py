"""wait: a pause on the run clock that a pausing run may cut short, and polling a URL until it answers."""

from __future__ import annotations

import pytest

from drctl.actions.runtime import Interrupted, TimedOut
from drctl.actions.wait.run import IMPLEMENTATION
from drctl.actions.wait.spec import WaitParams
from tests.actions.conftest import Estate


def test_run_waits_its_duration_on_the_run_clock(estate: Estate) -> None:
    ctx = estate.ctx()
    outcome = IMPLEMENTATION.run(WaitParams.model_validate({"duration": "5m"}), ctx)
    assert not outcome.changed
    assert ctx.sleeps == [300.0]
    assert ctx.clock.monotonic() == 300.0


def test_run_is_cut_short_by_a_pausing_run(estate: Estate) -> None:
    ctx = estate.ctx()
    ctx.interrupt()
    with pytest.raises(Interrupted):
        IMPLEMENTATION.run(WaitParams.model_validate({"duration": "5m"}), ctx)
    assert ctx.clock.monotonic() == 0.0


def test_run_longer_than_the_step_timeout_times_out_at_the_deadline(estate: Estate) -> None:
    ctx = estate.ctx(timeout=60.0)
    with pytest.raises(TimedOut):
        IMPLEMENTATION.run(WaitParams.model_validate({"duration": "5m"}), ctx)
    assert ctx.clock.monotonic() == 60.0


def test_run_polls_a_url_until_the_step_timeout(estate: Estate) -> None:
    ctx = estate.ctx(timeout=30.0)
    params = WaitParams.model_validate({"until_url": "http://127.0.0.1:9/never", "poll_interval": "10s"})
    with pytest.raises(TimedOut):
        IMPLEMENTATION.run(params, ctx)
    assert len(ctx.lines) == 3  # polls at 0 s, 10 s and 20 s, each shown; the fourth pause reaches the deadline
    assert all("expecting 200" in line for line in ctx.lines)


def test_run_polls_the_sandbox_app_by_its_real_name(estate: Estate) -> None:
    url = estate.scope.source.health_url
    ctx = estate.ctx(timeout=30.0)
    outcome = IMPLEMENTATION.run(WaitParams.model_validate({"until_url": url, "poll_interval": "10s"}), ctx)
    assert outcome.facts == {"polls": 1}


def test_wait_has_no_done_check_nor_preflight() -> None:
    # a wait changes nothing: resume simply runs it again, and there is nothing to read beforehand
    assert IMPLEMENTATION.done is None
    assert IMPLEMENTATION.preflight is None
