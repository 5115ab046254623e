"""Done-checks that verify, and what a resumed step knows of its own past: the engine's side of exactly once.

A done-check may return an ``Outcome``: the step is complete, with the facts and summary of the verification the
crash interrupted (not merely "found done"). ``ctx.journaled`` gives an action the facts it journaled before the
crash, which is how it follows an operation in flight instead of starting a second; ``ctx.repetition`` names
the period of a background step's message.
"""

from __future__ import annotations

from typing import Any

import pytest

from drctl.actions import testing
from drctl.actions.runtime import Implementation, Outcome, StepContext
from drctl.engine import events as ev
from drctl.errors import ExitCode
from tests.engine.conftest import Workspace, crash_after, plan_for, resume_run_in, run_plan

STEPS = """\
  - {id: change, uses: test.record, with: {file: '{record}', mutating: true}}
  - {id: finish, uses: test.record, with: {file: '{record}'}}
"""


class Probe:
    """An action that journals its intent, then its verification; its done-check verifies what is missing."""

    def __init__(self) -> None:
        self.seen: list[list[dict[str, Any]]] = []
        self.runs = 0

    def run(self, params: Any, ctx: StepContext) -> Outcome:
        self.runs += 1
        ctx.record("probe.intent", {"step": ctx.step_id})
        ctx.record("probe.verified", {"by": "run"})
        return Outcome("changed and verified", changed=True)

    def done(self, params: Any, ctx: StepContext) -> bool | Outcome:
        intents = ctx.journaled("probe.intent")
        self.seen.append(intents)
        if not intents:
            return False
        if ctx.journaled("probe.verified"):
            return True
        ctx.record("probe.verified", {"by": "done-check"})
        return Outcome("verified on resume", changed=True, facts={"verified": True})


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> Probe:
    found = Probe()
    monkeypatch.setattr(testing, "IMPLEMENTATION", Implementation(run=found.run, done=found.done))
    return found


def test_a_done_check_that_verifies_completes_the_step_with_its_evidence(ws: Workspace, probe: Probe) -> None:
    first = run_plan(plan_for(ws.playbook(STEPS)), ws)
    crash_after(first, "fact", "change")  # the intent is journaled, the verification never ran
    again = resume_run_in(ws, first.result.run_id)
    assert again.exit_code == ExitCode.OK
    assert probe.seen[0] == [{"step": "change"}], "the done-check saw the intent journaled before the crash"
    succeeded = [e for e in again.of(ev.StepSucceeded) if e.step == "change"]
    assert [(s.summary, s.facts, s.attempt) for s in succeeded] == [("verified on resume", {"verified": True}, 1)]
    verified = [e.data for e in again.of(ev.Fact) if e.step == "change" and e.kind == "probe.verified"]
    assert verified == [{"by": "done-check"}]
    assert not [e for e in again.of(ev.StepChecked) if e.step == "change"]
    assert [e.attempt for e in again.of(ev.StepStarted) if e.step == "change"] == [1]  # not run again


def test_a_done_check_that_finds_everything_journaled_answers_done(ws: Workspace, probe: Probe) -> None:
    first = run_plan(plan_for(ws.playbook(STEPS)), ws)
    crash_after(first, "fact", "change", nth=2)  # verified too, then killed before step.succeeded
    again = resume_run_in(ws, first.result.run_id)
    assert again.exit_code == ExitCode.OK
    assert [e.done for e in again.of(ev.StepChecked) if e.step == "change"] == [True]
    verified = [e for e in again.of(ev.Fact) if e.step == "change" and e.kind == "probe.verified"]
    assert len(verified) == 1


def test_a_done_check_that_finds_no_intent_runs_the_step_again(ws: Workspace, probe: Probe) -> None:
    first = run_plan(plan_for(ws.playbook(STEPS)), ws)
    crash_after(first, "step.started", "change")
    again = resume_run_in(ws, first.result.run_id)
    assert again.exit_code == ExitCode.OK
    assert probe.seen[0] == []
    assert [e.attempt for e in again.of(ev.StepStarted) if e.step == "change"] == [1, 2]


def test_a_background_step_knows_which_repetition_it_is(ws: Workspace) -> None:
    from drctl.core.clock import FakeClock
    from tests.engine.conftest import wait_until

    periods: list[int | None] = []

    def cadence(_p: Any, ctx: StepContext) -> Outcome:
        periods.append(ctx.repetition)
        return Outcome("sent")

    def work(_p: Any, ctx: StepContext) -> Outcome:
        for expected in (2, 3):
            ctx.sleep(31 * 60 if expected == 2 else 30 * 60)
            wait_until(lambda n=expected: len(periods) >= n)  # type: ignore[misc]
        return Outcome("worked an hour")

    steps = """\
  - {id: cadence, uses: test.record, needs: [], with: {file: '{record}', every: 30m}}
  - {id: work, uses: test.record, needs: [cadence], timeout: 2h, with: {file: '{record}'}}
"""
    plan = plan_for(ws.playbook(steps, rto="2h"), impls={"cadence": cadence, "work": work})
    ran = run_plan(plan, ws, clock=FakeClock())
    assert ran.exit_code == ExitCode.OK
    assert periods == [None, 1, 2]
