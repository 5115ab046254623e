"""Resume: finished steps are skipped, interrupted ones are checked before anything runs again, a mutation is
never repeated blindly, a changed playbook is refused, a torn journal tail is cut off and said so."""

from __future__ import annotations

import pytest

from drctl.actions.testing import read_record
from drctl.engine import events as ev
from drctl.engine.operator import Decision
from drctl.errors import ExitCode, JournalError, NotFound
from tests.engine.conftest import (
    ME,
    ScriptedOperator,
    Workspace,
    crash_after,
    forget_done,
    plan_for,
    resume_run_in,
    run_plan,
)

CHAIN = """\
  - {id: prepare, uses: test.record, with: {file: '{record}'}}
  - {id: change, uses: test.record, with: {file: '{record}', mutating: true}}
  - {id: finish, uses: test.record, with: {file: '{record}'}}
"""


def runs_of(ws: Workspace, step: str) -> int:
    return sum(1 for e in read_record(ws.record) if e["event"] == "run" and e["step"] == step)


def test_resume_skips_finished_steps_appends_to_the_same_chain_and_keeps_t0(ws: Workspace) -> None:
    first = run_plan(plan_for(ws.playbook(CHAIN)), ws)
    kept = crash_after(first, "step.succeeded", "change")
    again = resume_run_in(ws, first.result.run_id)
    assert again.exit_code == ExitCode.OK
    assert (runs_of(ws, "prepare"), runs_of(ws, "change"), runs_of(ws, "finish")) == (1, 1, 2)
    events = again.events
    assert events[kept].type == "run.resumed"
    assert again.of(ev.RunStarted)[0].t0 == first.of(ev.RunStarted)[0].t0
    from drctl.engine.journal import verify

    assert verify(again.result.journal).ok


def test_resume_never_repeats_a_mutating_step_whose_done_check_says_it_is_done(ws: Workspace) -> None:
    first = run_plan(plan_for(ws.playbook(CHAIN)), ws)
    crash_after(first, "step.started", "change")  # killed after the change was made, before it was journaled
    again = resume_run_in(ws, first.result.run_id)
    assert again.exit_code == ExitCode.OK
    assert runs_of(ws, "change") == 1
    checked = [e for e in again.of(ev.StepChecked) if e.step == "change"]
    assert [c.done for c in checked] == [True]
    assert [e.attempt for e in again.of(ev.StepStarted) if e.step == "change"] == [1]  # the one before the crash


def test_resume_runs_an_interrupted_step_again_as_a_new_attempt_when_its_done_check_says_not_done(
    ws: Workspace,
) -> None:
    first = run_plan(plan_for(ws.playbook(CHAIN)), ws)
    crash_after(first, "step.started", "change")
    forget_done(ws, "change")  # killed before the change was made
    again = resume_run_in(ws, first.result.run_id)
    assert again.exit_code == ExitCode.OK
    record = [(e["event"], e["attempt"]) for e in read_record(ws.record) if e["step"] == "change"]
    assert record == [("run", 1), ("check", 1), ("run", 2), ("done", 2)]  # checked before it ran again


UNCHECKED = """\
  - {id: change, uses: test.record_unchecked, with: {file: '{record}', mutating: true}}
  - {id: finish, uses: test.record, with: {file: '{record}'}}
"""


def test_resume_refuses_to_rerun_an_interrupted_mutating_step_without_a_done_check(ws: Workspace) -> None:
    first = run_plan(plan_for(ws.playbook(UNCHECKED)), ws)
    lines = crash_after(first, "step.started", "change")
    with pytest.raises(NotFound, match="will not repeat a mutation blindly") as refused:
        resume_run_in(ws, first.result.run_id)
    assert "--rerun-unchecked change" in (refused.value.hint or "")
    assert len(first.result.journal.read_bytes().splitlines()) == lines  # nothing written, nothing run
    assert runs_of(ws, "change") == 1


def test_resume_reruns_an_unchecked_step_the_operator_names_and_journals_the_decision(ws: Workspace) -> None:
    first = run_plan(plan_for(ws.playbook(UNCHECKED)), ws)
    crash_after(first, "step.started", "change")
    again = resume_run_in(ws, first.result.run_id, rerun_unchecked=("change",))
    assert again.exit_code == ExitCode.OK
    (decision,) = again.of(ev.DecisionMade)
    assert (decision.question, decision.choice, decision.step) == (ev.Question.UNCHECKED, ev.Choice.RERUN, "change")
    assert runs_of(ws, "change") == 2


def test_resume_at_a_terminal_asks_before_rerunning_an_unchecked_step_and_yes_is_not_enough(ws: Workspace) -> None:
    first = run_plan(plan_for(ws.playbook(UNCHECKED)), ws)
    crash_after(first, "step.started", "change")
    with pytest.raises(NotFound):
        resume_run_in(ws, first.result.run_id, yes=True)
    operator = ScriptedOperator(decisions=[Decision(ev.Choice.RERUN, ME, "checked the portal: not done")])
    again = resume_run_in(ws, first.result.run_id, operator=operator)
    assert again.exit_code == ExitCode.OK
    assert again.of(ev.DecisionMade)[0].choice is ev.Choice.RERUN


def test_resume_refuses_a_playbook_changed_since_the_run_began_unless_forced_with_a_reason(ws: Workspace) -> None:
    path = ws.playbook(CHAIN)
    first = run_plan(plan_for(path), ws)
    crash_after(first, "step.succeeded", "prepare")
    path.write_text(path.read_text().replace("id: finish", "id: finish-differently"))
    with pytest.raises(NotFound, match="changed since the run began"):
        resume_run_in(ws, first.result.run_id)
    again = resume_run_in(ws, first.result.run_id, force_reason="fixed a typo in the last step")
    (resumed,) = again.of(ev.RunResumed)
    assert resumed.forced
    assert resumed.reason == "fixed a typo in the last step"
    assert again.exit_code == ExitCode.OK
    assert runs_of(ws, "finish-differently") == 1


def test_resume_of_a_run_paused_for_a_decision_retries_the_step(ws: Workspace) -> None:
    path = ws.playbook(
        "  - {id: shaky, uses: test.record, on_failure: pause, with: {file: '{record}', transient_failures: 1}}\n"
    )
    first = run_plan(plan_for(path), ws)
    assert first.exit_code == ExitCode.PAUSED
    again = resume_run_in(ws, first.result.run_id)
    assert again.exit_code == ExitCode.OK
    assert again.of(ev.DecisionMade)[-1].choice is ev.Choice.RETRY
    assert runs_of(ws, "shaky") == 2


def test_resume_can_skip_a_step_with_a_reason_or_abort_the_run(ws: Workspace) -> None:
    path = ws.playbook(
        "  - {id: shaky, uses: test.record, on_failure: pause, with: {file: '{record}', fail: true}}\n"
        "  - {id: after, uses: test.record, with: {file: '{record}'}}\n"
    )
    first = run_plan(plan_for(path), ws)
    skipped = resume_run_in(ws, first.result.run_id, skip={"shaky": "done by hand"})
    assert skipped.exit_code == ExitCode.OK
    assert skipped.of(ev.StepSkipped)[0].reason == "done by hand"
    second = run_plan(plan_for(path), ws)
    aborted = resume_run_in(ws, second.result.run_id, abort_reason="primary came back")
    assert aborted.exit_code == ExitCode.ABORTED


def test_resume_does_not_ask_an_approval_granted_before_the_crash_again(ws: Workspace) -> None:
    path = ws.playbook(
        "  - {id: gate, uses: gate.approval, with: {message: go?}}\n"
        "  - {id: after, uses: test.record, with: {file: '{record}'}}\n"
    )
    first = run_plan(plan_for(path), ws, yes=True)
    crash_after(first, "approval.granted", "gate")
    again = resume_run_in(ws, first.result.run_id)  # no --yes, no terminal: it would wait if it asked
    assert again.exit_code == ExitCode.OK
    assert not again.of(ev.ApprovalRequested)[1:]
    assert [c.done for c in again.of(ev.StepChecked)] == [True]


def test_resume_cuts_off_a_torn_last_line_keeps_its_bytes_and_says_so(ws: Workspace) -> None:
    first = run_plan(plan_for(ws.playbook(CHAIN)), ws)
    kept = crash_after(first, "step.succeeded", "prepare")
    with first.result.journal.open("ab") as journal:
        journal.write(b'{"v":1,"seq":' + str(kept + 1).encode() + b',"type":"step.sta')  # the write a kill cut short
    again = resume_run_in(ws, first.result.run_id)
    assert again.exit_code == ExitCode.OK
    (repaired,) = again.of(ev.JournalRepaired)
    assert repaired.line == kept + 1
    assert again.events[kept].type == "journal.repaired"
    assert open(repaired.saved_to, "rb").read().endswith(b'"type":"step.sta')  # noqa: SIM115
    assert len(again.of(ev.StepSucceeded)) == 3  # nothing before the torn line was lost


def test_resume_refuses_a_journal_whose_chain_is_broken(ws: Workspace) -> None:
    first = run_plan(plan_for(ws.playbook(CHAIN)), ws)
    crash_after(first, "step.succeeded", "prepare")
    path = first.result.journal
    path.write_text(path.read_text().replace('"prepare"', '"prepared"', 1))
    with pytest.raises(JournalError, match="hash chain broken"):
        resume_run_in(ws, first.result.run_id)


def test_resume_of_a_succeeded_run_is_refused(ws: Workspace) -> None:
    first = run_plan(plan_for(ws.playbook(CHAIN)), ws)
    with pytest.raises(NotFound, match="already succeeded"):
        resume_run_in(ws, first.result.run_id)
