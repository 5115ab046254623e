"""Approval gates: --yes, an answer from another terminal (the answer file), reject, timeout, approvers, prompts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from drctl.core.clock import FakeClock
from drctl.engine import events as ev
from drctl.engine.history import approve
from drctl.engine.operator import ApprovalAnswer
from drctl.engine.paths import StateDir
from drctl.engine.runplan import RunPlan
from drctl.errors import ExitCode, NotFound
from tests.engine.conftest import ME, ScriptedOperator, Workspace, plan_for, run_plan

GATE = """\
  - id: gate
    uses: gate.approval
    timeout: 20m
    with: {{message: "Fail over?", require_reason: {reason}, approvers: {approvers}}}
  - {{id: after, uses: test.record, with: {{file: '{{record}}'}}}}
"""


def gate(ws: Workspace, *, reason: str = "false", approvers: str = "[]") -> RunPlan:
    return plan_for(ws.playbook(GATE.format(reason=reason, approvers=approvers)))


def answer_from_another_terminal(
    ws: Workspace,
    clock: FakeClock,
    at: float,
    *,
    approved: bool = True,
    who: ev.Identity = ME,
    reason: str | None = "ok",
) -> None:
    """What `drctl approve` does, five minutes into the wait: a real answer file for the live run."""

    def drop() -> None:
        state = StateDir(ws.state)
        approve(
            state, state.run_ids()[-1], "gate", approved=approved, reason=reason, approver=who, now=datetime.now(UTC)
        )

    clock.call_at(at, drop)


def test_yes_approves_as_the_operator_and_journals_who(ws: Workspace) -> None:
    ran = run_plan(gate(ws), ws, yes=True)
    assert ran.exit_code == ExitCode.OK
    (granted,) = ran.of(ev.ApprovalGranted)
    assert granted.via == "yes"
    assert granted.approver.os_user
    assert ran.of(ev.StepSucceeded)[0].summary.startswith("approved by")


def test_an_answer_file_from_another_terminal_approves_the_waiting_gate(ws: Workspace) -> None:
    clock = FakeClock()
    answer_from_another_terminal(ws, clock, 300, reason="IC on the bridge says go")
    ran = run_plan(gate(ws), ws, clock=clock)
    assert ran.exit_code == ExitCode.OK
    (requested,) = ran.of(ev.ApprovalRequested)
    (granted,) = ran.of(ev.ApprovalGranted)
    assert (granted.via, granted.approver, granted.reason) == ("file", ME, "IC on the bridge says go")
    assert (granted.at - requested.at).total_seconds() >= 300
    assert (ws.state / "runs" / ran.result.run_id / "approvals" / "gate.1.taken").exists()


def test_a_rejection_aborts_the_run(ws: Workspace) -> None:
    clock = FakeClock()
    answer_from_another_terminal(ws, clock, 60, approved=False, reason="primary is recovering")
    ran = run_plan(gate(ws), ws, clock=clock)
    assert ran.exit_code == ExitCode.ABORTED
    (rejected,) = ran.of(ev.ApprovalRejected)
    assert rejected.reason == "primary is recovering"
    assert "after" not in [e.step for e in ran.of(ev.StepStarted)]


def test_no_answer_before_the_timeout_fails_the_step(ws: Workspace) -> None:
    clock = FakeClock()
    ran = run_plan(gate(ws), ws, clock=clock)
    assert ran.exit_code == ExitCode.STEP_FAILED
    assert len(ran.of(ev.ApprovalTimedOut)) == 1
    (failed,) = ran.of(ev.StepFailed)
    assert failed.timed_out
    assert failed.duration_seconds == 1200


def test_an_answer_from_someone_not_named_is_refused_and_the_wait_goes_on(ws: Workspace) -> None:
    clock = FakeClock()
    stranger = ev.Identity(os_user="mallory", host="h")
    # `drctl approve` itself refuses a stranger, so drop the file the way a stranger could by hand
    from drctl.engine.approvals import write_answer

    def drop_stranger() -> None:
        state = StateDir(ws.state)
        run_id = state.run_ids()[-1]
        write_answer(state.approvals(run_id), "gate.1", approved=True, reason="me", approver=stranger, now=clock.now())

    clock.call_at(60, drop_stranger)
    answer_from_another_terminal(ws, clock, 120, who=ev.Identity(os_user="alice", host="h"), reason="checked")
    ran = run_plan(gate(ws, approvers="[alice]"), ws, clock=clock)
    assert ran.exit_code == ExitCode.OK
    (refused,) = ran.of(ev.ApprovalRefused)
    assert refused.approver == stranger
    assert "not among the approvers" in refused.why
    assert ran.of(ev.ApprovalGranted)[0].approver.os_user == "alice"


def test_the_terminal_prompt_answers_and_a_required_reason_is_journaled(ws: Workspace) -> None:
    operator = ScriptedOperator(approvals=[ApprovalAnswer(True, ME, "RPO 40s, within objective")])
    ran = run_plan(gate(ws, reason="true"), ws, operator=operator)
    assert ran.exit_code == ExitCode.OK
    (granted,) = ran.of(ev.ApprovalGranted)
    assert (granted.via, granted.reason) == ("prompt", "RPO 40s, within objective")


def test_a_prompt_answer_without_a_required_reason_is_refused_and_asked_again(ws: Workspace) -> None:
    operator = ScriptedOperator(approvals=[ApprovalAnswer(True, ME, None), ApprovalAnswer(True, ME, "now with one")])
    ran = run_plan(gate(ws, reason="true"), ws, operator=operator)
    assert ran.exit_code == ExitCode.OK
    assert [e.why for e in ran.of(ev.ApprovalRefused)] == ["this approval requires a reason"]
    assert ran.of(ev.ApprovalGranted)[0].reason == "now with one"


def test_approve_refuses_when_no_approval_is_waiting(ws: Workspace) -> None:
    ran = run_plan(gate(ws), ws, yes=True)
    with pytest.raises(NotFound, match="no approval is waiting"):
        approve(
            StateDir(ws.state), ran.result.run_id, "gate", approved=True, reason="x", approver=ME, now=datetime.now(UTC)
        )
