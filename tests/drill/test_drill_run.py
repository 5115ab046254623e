"""A drill is one run, one journal, in three phases: the drill steps forward, a verification hold probing the
target, then the same steps reversed. Spec: docs/drills.md."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from drctl.actions.runtime import Outcome, StepContext
from drctl.core.clock import FakeClock
from drctl.engine import events as ev
from drctl.errors import ExitCode, PlaybookError
from drctl.planning.drill_rules import forcing_steps
from drctl.planning.load import load_playbook
from drctl.playbook.enums import Mode
from tests.drill.conftest import STEPS, DrillSpace, drill_plan, run_drill

PLAYBOOK_STEPS = ["promote", "start-apps", "check", "cutover"]


def test_a_drill_runs_the_steps_forward_then_holds_then_runs_them_reversed(space: DrillSpace) -> None:
    ran = run_drill(drill_plan(space.playbook()), space)

    assert ran.exit_code == ExitCode.OK
    keys = ran.started_keys()
    assert keys[:2] == ["failover:promote", "failover:start-apps"]
    assert keys == [
        *(f"failover:{s}" for s in PLAYBOOK_STEPS),
        "hold",
        *(f"failback:{s}" for s in PLAYBOOK_STEPS),
    ]
    info = ran.started.drill
    assert info is not None
    assert [(p.name, p.source, p.target) for p in info.phases] == [
        (ev.Phase.FAILOVER, "east", "west"),
        (ev.Phase.HOLD, "east", "west"),
        (ev.Phase.FAILBACK, "west", "east"),
    ]
    assert {s.id: s.phase for s in ran.started.steps}["failback:cutover"] is ev.Phase.FAILBACK
    # nothing of the failback starts before the hold has finished, and the hold waits for the whole failover
    hold_done = ran.first(ev.StepSucceeded, "hold").at
    assert all(ran.first(ev.StepStarted, f"failback:{s}").at >= hold_done for s in PLAYBOOK_STEPS)
    assert ran.first(ev.StepStarted, "hold").at >= ran.first(ev.StepSucceeded, "failover:cutover").at


def test_both_phases_run_in_drill_mode_and_the_failback_in_the_reversed_direction(space: DrillSpace) -> None:
    seen: dict[str, tuple[Mode, str, str]] = {}

    def spy(_params: Any, ctx: StepContext) -> Outcome:
        seen[ctx.step_id] = (ctx.mode, ctx.scope.source_name, ctx.scope.target_name)
        return Outcome("seen")

    keys = ["failover:check", "failback:check"]
    ran = run_drill(drill_plan(space.playbook(), impls=dict.fromkeys(keys, spy)), space)

    assert ran.exit_code == ExitCode.OK
    assert seen == {
        "failover:check": (Mode.DRILL, "east", "west"),
        "failback:check": (Mode.DRILL, "west", "east"),
    }


def test_the_hold_probes_the_target_every_interval_and_journals_each_probe(space: DrillSpace) -> None:
    ran = run_drill(drill_plan(space.playbook(hold="10m", interval="1m")), space)

    probes = ran.facts("drill.probe")
    assert [p.data["n"] for p in probes] == list(range(1, 12))  # at 0, 1m, ..., 10m
    assert {p.data["url"] for p in probes} == {f"{space.health.base}/west"}
    assert all(p.data["ok"] and p.data["status"] == 200 for p in probes)
    gaps = {(b.at - a.at).total_seconds() for a, b in itertools.pairwise(probes)}
    assert gaps == {60.0}
    assert space.health.hits.count("/west") == 11
    assert "/east" not in space.health.hits
    (summary,) = ran.facts("drill.hold")
    assert summary.data | {"held_seconds": 600.0} == summary.data
    assert summary.data["passed"] is True
    assert summary.data["probes"] == 11


def test_a_failed_probe_ends_the_hold_the_drill_still_fails_back_and_the_drill_fails(space: DrillSpace) -> None:
    space.health.script["/west"] = [200, 200, 503]

    ran = run_drill(drill_plan(space.playbook()), space)

    probes = ran.facts("drill.probe")
    assert [(p.data["status"], p.data["ok"]) for p in probes] == [(200, True), (200, True), (503, False)]
    failed = ran.first(ev.StepFailed, "hold")
    assert "probe 3" in failed.error
    assert "503" in failed.error
    assert [f"failback:{s}" for s in PLAYBOOK_STEPS] == [k for k in ran.started_keys() if k.startswith("failback:")]
    assert all(ran.first(ev.StepSucceeded, f"failback:{s}") for s in PLAYBOOK_STEPS)
    finished = ran.finished
    assert finished.ending is ev.RunEnding.FAILED
    assert finished.exit_code == ExitCode.STEP_FAILED
    assert finished.failed_steps == ("hold",)
    assert "hold" not in finished.advisory_failures
    assert ran.exit_code == ExitCode.STEP_FAILED


def test_the_rto_stops_at_the_failover_phases_restore_not_the_failbacks(space: DrillSpace) -> None:
    ran = run_drill(drill_plan(space.playbook()), space)

    restored = ran.facts("service.restored")
    assert [f.step for f in restored] == ["failover:cutover", "failback:cutover"]
    achieved = ran.finished.rto_achieved_seconds
    assert achieved == (restored[0].at - ran.started.t0).total_seconds()
    assert achieved <= (ran.first(ev.StepStarted, "hold").at - ran.started.t0).total_seconds()
    assert achieved < (restored[1].at - ran.started.t0).total_seconds()


def test_without_a_restore_fact_the_rto_stops_when_the_failover_phase_ends(space: DrillSpace) -> None:
    steps = STEPS.replace(", fact: {kind: service.restored, data: {}}", "")
    ran = run_drill(drill_plan(space.playbook(steps)), space)

    phase_end = max(e.at for e in ran.of(ev.StepSucceeded) if e.step.startswith("failover:"))
    assert ran.finished.rto_achieved_seconds == (phase_end - ran.started.t0).total_seconds()
    assert ran.finished.at > phase_end


def test_the_hold_and_the_failback_do_not_count_against_the_rto(space: DrillSpace) -> None:
    # the failover phase takes about 6 minutes against a 15-minute RTO; the whole drill takes about an hour
    ran = run_drill(drill_plan(space.playbook(rto="15m", hold="40m", interval="10m")), space)

    assert ran.exit_code == ExitCode.OK
    assert (ran.finished.at - ran.started.t0).total_seconds() > 15 * 60
    assert not ran.of(ev.ObjectiveAtRisk)
    assert not ran.of(ev.RtoBreached)
    assert ran.started.critical_path == ("failover:promote", "failover:check", "failover:cutover")


def test_a_slow_failover_phase_breaches_the_rto(space: DrillSpace) -> None:
    ran = run_drill(drill_plan(space.playbook(rto="3m", hold="1m")), space)

    assert ran.of(ev.ObjectiveAtRisk)
    (breach,) = ran.of(ev.RtoBreached)
    assert breach.at <= ran.first(ev.StepStarted, "hold").at
    assert ran.exit_code == ExitCode.OBJECTIVE_BREACHED


def test_periodic_steps_run_once_per_drill_and_their_dependents_wait_for_the_hold(space: DrillSpace) -> None:
    steps = """\
  - id: updates
    uses: test.record
    needs: []
    with: {file: "{record}", every: 30m}
  - id: work
    uses: test.record
    needs: [updates]
    with: {file: "{record}", sleep: 1m}
"""
    plan = drill_plan(space.playbook(steps, hold="1h", interval="30m"))

    assert "failback:updates" not in plan.steps
    assert plan.steps["failback:work"].needs == ("hold",)
    ran = run_drill(plan, space)
    assert ran.exit_code == ExitCode.OK
    # the failover phase's cadence goes on through the hold: one message every 30 minutes, not two
    repeats = ran.of(ev.RepeatStarted)
    assert repeats
    assert {r.step for r in repeats} == {"failover:updates"}


def test_a_drill_refuses_a_step_that_could_force(space: DrillSpace) -> None:
    forced = (
        STEPS
        + """\
  - id: promote-db
    uses: sql.failover
    needs: [cutover]
    with: {mode: forced}
"""
    )
    path = space.playbook(forced, sql=True)

    assert forcing_steps(load_playbook(path)) == ["promote-db (sql.failover with mode: forced)"]
    with pytest.raises(PlaybookError, match=r"never loses data.*promote-db"):
        drill_plan(path)
    # planned-then-forced runs its planned part only in a drill; a failover-only forced step is not drilled
    path.write_text(path.read_text().replace("{mode: forced}", "{mode: planned-then-forced}"))
    assert forcing_steps(load_playbook(path)) == []
    path.write_text(path.read_text().replace("{mode: planned-then-forced}", "{mode: forced}\n    when: failover"))
    assert forcing_steps(load_playbook(path)) == []


def test_the_run_started_line_says_what_the_drill_is(space: DrillSpace) -> None:
    ran = run_drill(drill_plan(space.playbook(hold="5m", interval="30s")), space, clock=FakeClock())

    started = ran.started
    assert started.mode == "drill"
    assert started.mttr_seconds == 45 * 60
    info = started.drill
    assert info is not None
    assert (info.hold_seconds, info.probe_interval_seconds) == (300.0, 30.0)
    assert info.probe_url == f"{space.health.base}/west"
    assert info.window == ev.WindowCheck(declared=False, inside=False)
    hold = next(s for s in started.steps if s.id == "hold")
    assert (hold.uses, hold.phase, hold.budget_seconds, hold.mutating) == ("drill.hold", ev.Phase.HOLD, 300.0, False)
