"""gate.approval with scripted answers: who may answer, the reason it requires, and an approval that survives a
crash. The fake context refuses the answers the engine's approval desk refuses, so these are the action's
observable cases."""

from __future__ import annotations

import pytest

from drctl.actions.gate.run import IMPLEMENTATION
from drctl.actions.gate.spec import ApprovalParams
from drctl.actions.runtime import AbortRun, TimedOut
from drctl.actions.testkit import Answer
from drctl.core.identity import Identity
from tests.actions.conftest import Estate

ALICE = Identity("alice", "ops-01", principal="alice@contoso.com")


def test_run_records_who_approved_and_how(estate: Estate) -> None:
    ctx = estate.ctx(answers=[Answer(True, "checked the dashboards", ALICE, "file")])
    outcome = IMPLEMENTATION.run(ApprovalParams(message="Fail over?", require_reason=True), ctx)
    assert outcome.facts == {"approver": "alice", "principal": "alice@contoso.com", "via": "file"}
    assert not outcome.changed
    (asked,) = ctx.requests
    assert (asked.prompt, asked.require_reason, asked.topic) == ("Fail over?", True, "gate")


def test_run_aborts_the_whole_run_on_a_rejection(estate: Estate) -> None:
    ctx = estate.ctx(answers=[Answer(False, "not yet", ALICE)])
    with pytest.raises(AbortRun):
        IMPLEMENTATION.run(ApprovalParams(message="Fail over?"), ctx)
    assert ctx.prior_approval() is None


def test_run_waits_past_answers_that_cannot_count_until_the_timeout(estate: Estate) -> None:
    operator = Identity("bob", "console")
    answers = [
        Answer(True, "", ALICE),  # no reason, and one is required
        Answer(True, "me", operator, "file"),  # the operator, at an "others" gate
        Answer(True, "yes flag", ALICE, "yes"),  # --yes answers for the operator
    ]
    ctx = estate.ctx(answers=answers, operator=operator, timeout=1200.0)
    with pytest.raises(TimedOut):
        IMPLEMENTATION.run(ApprovalParams(message="Go?", approvers="others", require_reason=True), ctx)
    assert ctx.clock.monotonic() == 1200.0
    assert ctx.answers == []


def test_run_takes_an_answer_from_a_listed_approver_only(estate: Estate) -> None:
    mallory = Identity("mallory", "laptop")
    ctx = estate.ctx(answers=[Answer(True, "ok", mallory), Answer(True, "ok", ALICE)])
    outcome = IMPLEMENTATION.run(ApprovalParams(message="Go?", approvers=["alice@contoso.com"]), ctx)
    assert outcome.facts["approver"] == "alice"


def test_done_check_answers_from_an_approval_granted_before_a_crash(estate: Estate) -> None:
    assert IMPLEMENTATION.done is not None
    params = ApprovalParams(message="Go?")
    ctx = estate.ctx(answers=[Answer(True, "go", ALICE)])
    assert IMPLEMENTATION.done(params, ctx) is False
    IMPLEMENTATION.run(params, ctx)
    resumed = ctx.next_attempt()
    assert IMPLEMENTATION.done(params, resumed) is True
    assert resumed.requests == []  # nobody is asked twice


def test_gate_has_no_preflight() -> None:
    # a gate reads nothing beforehand; plan --preflight lists it as such
    assert IMPLEMENTATION.preflight is None
