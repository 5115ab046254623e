"""notify against the sandbox's sinks: Slack and Teams webhooks over HTTPS, e-mail over SMTP with STARTTLS, each
message once per intent, and no secret (webhook URLs, the SMTP password) in a fact or a line."""

from __future__ import annotations

import json
from typing import Any

import pytest

from drctl.actions.notify.run import IMPLEMENTATION, SENDING, SENT, UNKNOWN, Envelope
from drctl.actions.notify.spec import NotifyParams
from drctl.actions.runtime import ActionError
from drctl.actions.testkit import FakeStepContext
from drctl.playbook.enums import Mode
from tests.actions.conftest import Estate

CHANNELS = ["ops-slack", "exec-teams", "stakeholders"]

assert IMPLEMENTATION.done is not None
done = IMPLEMENTATION.done


def _params(**kwargs: Any) -> NotifyParams:
    base = {"channels": CHANNELS, "title": "{drill_marker}P1 {mode}: {playbook}", "message": "Elapsed {elapsed}."}
    return NotifyParams.model_validate({**base, **kwargs})


def _delivered(estate: Estate) -> tuple[list[str], list[dict[str, Any]]]:
    return [w["channel"] for w in estate.sandbox.world.webhooks], list(estate.sandbox.world.emails)


def _no_secret_shown(estate: Estate, ctx: FakeStepContext) -> None:
    shown = json.dumps([ctx.facts, ctx.lines], default=str)
    assert estate.secrets.leaks(shown) == []


def test_run_sends_each_channel_one_message(estate: Estate) -> None:
    ctx = estate.ctx()
    outcome = IMPLEMENTATION.run(_params(), ctx)
    hooks, emails = _delivered(estate)
    assert sorted(hooks) == ["exec-teams", "ops-slack"]
    (email,) = emails
    assert email["subject"] == "P1 failover: wallet-platform"
    assert {s["channel"] for s in outcome.facts["sent"]} == set(CHANNELS)
    assert len(ctx.recorded(SENT)) == 3
    # each message carries the key that makes it the same message on every try
    channels = estate.playbook.notifications.channels  # type: ignore[union-attr]
    keys = {w["idempotency_key"] for w in estate.sandbox.world.webhooks}
    assert keys == {Envelope.of(ctx, name, channels[name]).key for name in ("ops-slack", "exec-teams")}
    kinds = ctx.kinds()
    assert kinds.index(SENDING) < kinds.index(SENT)  # journaled before it goes out
    _no_secret_shown(estate, ctx)


def test_run_in_a_drill_speaks_only_to_the_drill_audience(estate: Estate) -> None:
    outcome = IMPLEMENTATION.run(_params(), estate.ctx(mode=Mode.DRILL))
    hooks, emails = _delivered(estate)
    assert hooks == ["ops-slack"]
    assert emails[0]["subject"].startswith("[DRILL] ")
    assert outcome.facts["skipped"] == ["exec-teams"]


def test_done_check_is_false_before_and_true_after(estate: Estate) -> None:
    ctx = estate.ctx()
    assert done(_params(), ctx) is False
    IMPLEMENTATION.run(_params(), ctx)
    resumed = ctx.next_attempt()
    assert done(_params(), resumed) is True
    # run again anyway (a retry of a later failure): nothing is sent twice
    IMPLEMENTATION.run(_params(), resumed)
    hooks, emails = _delivered(estate)
    assert (len(hooks), len(emails)) == (2, 1)


def test_a_periodic_repetition_is_a_new_message(estate: Estate) -> None:
    first = estate.ctx()
    IMPLEMENTATION.run(_params(channels=["ops-slack"]), first)
    IMPLEMENTATION.run(_params(channels=["ops-slack"]), first.next_attempt(repetition=1))
    hooks = estate.sandbox.world.webhooks
    assert len(hooks) == 2
    assert hooks[0]["idempotency_key"] != hooks[1]["idempotency_key"]


def test_a_message_in_doubt_is_not_sent_to_slack_again(estate: Estate) -> None:
    """The process journaled its try and died before the answer: Slack keeps no key, so it is not resent."""
    channel = estate.playbook.notifications.channels["ops-slack"]  # type: ignore[union-attr]
    probe = estate.ctx()
    envelope = Envelope.of(probe, "ops-slack", channel)
    sending = {"channel": "ops-slack", "kind": "slack", "key": envelope.key, "period": 0, "attempt": 1, "try": 1}
    ctx = estate.ctx(attempt=2, facts=[(SENDING, sending)])
    outcome = IMPLEMENTATION.run(_params(channels=["ops-slack"]), ctx)
    assert [u["channel"] for u in outcome.facts["unknown"]] == ["ops-slack"]
    assert ctx.recorded(UNKNOWN)
    assert estate.sandbox.world.webhooks == []
    assert done(_params(channels=["ops-slack"]), ctx) is True  # in doubt and not to be resent: accounted for


def test_a_channel_that_keeps_failing_is_reported_and_the_run_goes_on(estate: Estate) -> None:
    estate.sandbox.add_faults({"kind": "error", "op": "sink.webhook", "status": 500, "times": None})
    ctx = estate.ctx()
    outcome = IMPLEMENTATION.run(_params(channels=["ops-slack", "stakeholders"]), ctx)
    assert [f["channel"] for f in outcome.facts["failed"]] == ["ops-slack"]
    assert [s["channel"] for s in outcome.facts["sent"]] == ["stakeholders"]
    assert len(ctx.recorded(SENDING)) == 4  # three tries for Slack, one for e-mail
    assert ctx.sleeps == [1.0, 2.0]  # the pauses between tries, on the run clock
    assert ctx.lines  # shown to the operator
    assert done(_params(channels=["ops-slack", "stakeholders"]), ctx) is False
    _no_secret_shown(estate, ctx)


def test_a_required_message_that_fails_fails_its_step(estate: Estate) -> None:
    estate.sandbox.add_faults({"kind": "error", "op": "sink.webhook", "status": 500, "times": None})
    with pytest.raises(ActionError) as caught:
        IMPLEMENTATION.run(_params(channels=["ops-slack"], required=True), estate.ctx())
    assert estate.secrets.leaks(str(caught.value)) == []


def test_notify_has_no_preflight() -> None:
    assert IMPLEMENTATION.preflight is None  # a message is sent when the run reaches it
