"""Separation of duties: a gate with `approvers: others` needs someone other than the operator. `--yes`, the run's
own terminal and the operator's own `drctl approve` are refused (journaled); another account's answer counts.
Identities are real (the process's account, not $USER) and printed one way everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from drctl.core.clock import FakeClock
from drctl.engine import events as ev
from drctl.engine.history import approve
from drctl.engine.identity import current, describe, os_user, same_person
from drctl.engine.operator import ApprovalAnswer
from drctl.engine.paths import StateDir
from drctl.errors import ExitCode, UsageError
from drctl.planning.load import check_file
from tests.engine.conftest import ME, ScriptedOperator, Workspace, plan_for, run_plan

GATE = """\
  - id: gate
    uses: gate.approval
    timeout: 20m
    with: {{message: "Fail over?", approvers: {approvers}}}
  - {{id: after, uses: test.record, with: {{file: '{{record}}'}}}}
"""

ALICE = ev.Identity(os_user="alice", host="bastion")


def others_gate(ws: Workspace, approvers: str = "others") -> Path:
    return ws.playbook(GATE.format(approvers=approvers))


def answer_at(ws: Workspace, clock: FakeClock, at: float, who: ev.Identity, errors: list[Exception]) -> None:
    def drop() -> None:
        state = StateDir(ws.state)
        try:
            approve(state, state.run_ids()[-1], "gate", approved=True, reason="checked", approver=who, now=clock.now())
        except UsageError as exc:
            errors.append(exc)

    clock.call_at(at, drop)


def test_yes_cannot_answer_an_others_gate_and_another_account_can(ws: Workspace) -> None:
    """Before: the sample recorded `approved by root@vm (yes)`, the operator approving their own failover."""
    clock = FakeClock()
    errors: list[Exception] = []
    answer_at(ws, clock, 120, ALICE, errors)
    ran = run_plan(plan_for(others_gate(ws)), ws, clock=clock, yes=True)
    assert ran.exit_code == ExitCode.OK
    assert errors == []
    (refused,) = ran.of(ev.ApprovalRefused)
    assert refused.why.startswith("--yes answers for the operator")
    (granted,) = ran.of(ev.ApprovalGranted)
    assert (granted.approver, granted.via) == (ALICE, "file")
    (requested,) = ran.of(ev.ApprovalRequested)
    assert requested.approvers == ("others",)
    assert ran.of(ev.StepSucceeded)[0].summary == "approved by alice@bastion (file): checked"


def test_yes_alone_never_passes_an_others_gate(ws: Workspace) -> None:
    ran = run_plan(plan_for(others_gate(ws)), ws, clock=FakeClock(), yes=True)
    assert ran.exit_code == ExitCode.STEP_FAILED
    assert ran.of(ev.ApprovalGranted) == []
    assert len(ran.of(ev.ApprovalTimedOut)) == 1


def test_the_operators_own_drctl_approve_is_refused(ws: Workspace) -> None:
    clock = FakeClock()
    errors: list[Exception] = []
    answer_at(ws, clock, 60, current(), errors)  # the account running the run, from another terminal
    answer_at(ws, clock, 120, ALICE, errors)
    ran = run_plan(plan_for(others_gate(ws)), ws, clock=clock)
    assert ran.exit_code == ExitCode.OK
    assert len(errors) == 1
    assert "is the operator of this run" in str(errors[0])
    assert ran.of(ev.ApprovalGranted)[0].approver == ALICE


def test_an_answer_file_the_operator_drops_by_hand_is_refused_by_the_run(ws: Workspace) -> None:
    from drctl.engine.approvals import write_answer

    clock = FakeClock()
    me = current()

    def drop_mine() -> None:
        state = StateDir(ws.state)
        run_id = state.run_ids()[-1]
        write_answer(state.approvals(run_id), "gate.1", approved=True, reason="me", approver=me, now=clock.now())

    clock.call_at(60, drop_mine)
    ran = run_plan(plan_for(others_gate(ws)), ws, clock=clock)
    assert ran.exit_code == ExitCode.STEP_FAILED
    (refused,) = ran.of(ev.ApprovalRefused)
    assert "is the operator of this run" in refused.why


def test_the_runs_own_terminal_cannot_answer_an_others_gate(ws: Workspace) -> None:
    clock = FakeClock()
    errors: list[Exception] = []
    answer_at(ws, clock, 300, ALICE, errors)
    operator = ScriptedOperator(approvals=[ApprovalAnswer(True, ME, "I say so", via="prompt")])
    ran = run_plan(plan_for(others_gate(ws)), ws, clock=clock, operator=operator)
    assert ran.exit_code == ExitCode.OK
    assert ran.of(ev.ApprovalRefused)[0].why.startswith("the run's own terminal answers for the operator")
    assert ran.of(ev.ApprovalGranted)[0].approver == ALICE
    assert len(operator.asked) == 1  # not asked again: someone else must answer


def test_a_list_of_approvers_matches_user_at_host_and_principal(ws: Workspace) -> None:
    clock = FakeClock()
    errors: list[Exception] = []
    answer_at(ws, clock, 60, ev.Identity(os_user="bob", host="bastion", principal="IC@Contoso.com"), errors)
    ran = run_plan(plan_for(others_gate(ws, "[alice@bastion, ic@contoso.com]")), ws, clock=clock)
    assert ran.exit_code == ExitCode.OK
    assert errors == []
    assert describe(ran.of(ev.ApprovalGranted)[0].approver) == "bob@bastion (Azure IC@Contoso.com)"


@pytest.mark.parametrize(
    ("approvers", "message"),
    [
        ("someone", "Input should be 'others'"),
        ("[others]", "'others' is a value of its own"),
        ('["ops team"]', "is not an identity"),
        ("[alice, Alice]", "listed twice"),
    ],
)
def test_validate_rejects_malformed_approvers_at_their_line(ws: Workspace, approvers: str, message: str) -> None:
    path = others_gate(ws, approvers)
    result = check_file(path)
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert any(message in d.message and "approvers" in d.path for d in errors), [str(d) for d in errors]
    found = next(d for d in errors if message in d.message)
    assert path.read_text().splitlines()[found.line - 1].strip().startswith("with:")


def test_the_os_user_is_the_processes_account_not_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import pwd

    real = pwd.getpwuid(__import__("os").geteuid()).pw_name
    monkeypatch.setenv("USER", "mallory")
    monkeypatch.setenv("LOGNAME", "mallory")
    assert os_user() == real


def test_one_person_is_told_apart_by_account_and_host_or_principal() -> None:
    assert same_person(ev.Identity("root", "VM"), ev.Identity("root", "vm"))
    assert not same_person(ev.Identity("root", "vm"), ev.Identity("alice", "vm"))
    assert same_person(ev.Identity("root", "vm", "sp-1"), ev.Identity("alice", "vm", "SP-1"))
    assert not same_person(ev.Identity("root", "vm", "sp-1"), ev.Identity("alice", "vm"))
    assert describe(ev.Identity("root", "vm")) == "root@vm"


def test_approve_still_answers_a_gate_open_to_anyone(ws: Workspace) -> None:
    clock = FakeClock()
    errors: list[Exception] = []
    answer_at(ws, clock, 60, current(), errors)
    ran = run_plan(plan_for(others_gate(ws, "[]")), ws, clock=clock)
    assert ran.exit_code == ExitCode.OK
    assert errors == []
