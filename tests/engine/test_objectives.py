"""The RTO/RPO clock: T0, projection from the remaining critical path, breach events and exit 4. Fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drctl.core.clock import FakeClock
from drctl.core.schedule import Node
from drctl.engine import events as ev
from drctl.engine.objectives import in_order, projected_finish
from drctl.errors import ExitCode, UsageError
from tests.engine.conftest import Workspace, plan_for, run_plan

NODES = [Node("a", (), 10.0), Node("b", ("a",), 20.0), Node("c", ("a",), 5.0), Node("d", ("b", "c"), 10.0)]


def test_projection_before_anything_runs_is_the_critical_path_of_budgets() -> None:
    assert projected_finish(in_order(NODES), now=0, started={}, finished={}) == 40


def test_projection_uses_actual_finishes_and_a_running_steps_overrun() -> None:
    # a took 30 s instead of 10; b has run 25 s of its 20 s budget
    projected = projected_finish(in_order(NODES), now=55, started={"b": 30}, finished={"a": 30, "c": 35})
    assert projected == 55 + 10  # b is due now at the earliest, then d's 10 s


def test_background_steps_hold_nothing_up_in_the_projection() -> None:
    nodes = [Node("tell", (), 600.0, background=True), Node("work", ("tell",), 60.0)]
    assert projected_finish(in_order(nodes), now=0, started={}, finished={}) == 60


SLOW = """\
  - {id: first, uses: test.record, budget: 10m, timeout: 1h, with: {file: '{record}', sleep: 25m}}
  - {id: second, uses: test.record, budget: 10m, timeout: 1h, with: {file: '{record}', sleep: 10m}}
"""


def test_the_projection_breaking_the_rto_is_reported_once_before_the_breach_and_the_breach_exits_4(
    ws: Workspace,
) -> None:
    ran = run_plan(plan_for(ws.playbook(SLOW, rto="30m")), ws)
    assert ran.exit_code == ExitCode.OBJECTIVE_BREACHED
    (at_risk,) = ran.of(ev.ObjectiveAtRisk)
    (breached,) = ran.of(ev.RtoBreached)
    assert at_risk.projected_seconds >= 25 * 60 + 10 * 60
    assert at_risk.at < breached.at
    finished = ran.of(ev.RunFinished)[0]
    assert finished.ending is ev.RunEnding.SUCCEEDED
    assert finished.rto_achieved_seconds == 35 * 60
    assert finished.breached == ("objective.rto_breached",)


def test_a_run_within_its_budgets_reports_no_objective_event(ws: Workspace) -> None:
    ran = run_plan(plan_for(ws.playbook(SLOW, rto="2h")), ws)
    assert ran.exit_code == ExitCode.OK
    assert not ran.of(ev.ObjectiveAtRisk)
    assert not ran.of(ev.RtoBreached)


def test_t0_is_the_declared_time_and_counts_against_the_rto(ws: Workspace) -> None:
    clock = FakeClock()
    declared = clock.now() - timedelta(minutes=50)
    ran = run_plan(plan_for(ws.playbook(SLOW, rto="1h")), ws, clock=clock, declared_at=declared)
    started = ran.of(ev.RunStarted)[0]
    assert started.t0 == declared
    assert started.declared
    assert ran.exit_code == ExitCode.OBJECTIVE_BREACHED
    assert ran.of(ev.RunFinished)[0].rto_achieved_seconds == 85 * 60


def test_a_declared_time_in_the_future_is_refused_before_anything_runs(ws: Workspace) -> None:
    clock = FakeClock()
    with pytest.raises(UsageError, match="in the future"):
        run_plan(plan_for(ws.playbook(SLOW)), ws, clock=clock, declared_at=clock.now() + timedelta(minutes=5))
    assert not (ws.state / "runs").exists() or not any((ws.state / "runs").iterdir())


def test_a_declared_time_without_a_zone_is_refused(ws: Workspace) -> None:
    with pytest.raises(UsageError, match="time zone"):
        run_plan(plan_for(ws.playbook(SLOW)), ws, declared_at=datetime(2026, 3, 3, 1, 0))


RPO = """\
  - id: measure
    uses: test.record
    with: {{file: '{{record}}', fact: {{kind: rpo.exposure, data: {{seconds: {seconds}}}}}}}
"""


def test_an_rpo_exposure_fact_over_the_objective_is_a_breach(ws: Workspace) -> None:
    ran = run_plan(plan_for(ws.playbook(RPO.format(seconds=1200), rpo="15m")), ws)
    assert ran.exit_code == ExitCode.OBJECTIVE_BREACHED
    (breach,) = ran.of(ev.RpoBreached)
    assert (breach.step, breach.exposure_seconds, breach.rpo_seconds) == ("measure", 1200, 900)
    (fact,) = ran.of(ev.Fact)
    assert ran.events.index(fact) < ran.events.index(breach)
    assert ran.of(ev.RunFinished)[0].rpo_exposure_seconds == 1200


def test_an_rpo_exposure_within_the_objective_is_evidence_not_a_breach(ws: Workspace) -> None:
    ran = run_plan(plan_for(ws.playbook(RPO.format(seconds=40), rpo="15m")), ws)
    assert ran.exit_code == ExitCode.OK
    assert ran.of(ev.RunFinished)[0].rpo_exposure_seconds == 40


def test_service_restored_stops_the_rto_clock_before_the_run_ends(ws: Workspace) -> None:
    restored = datetime(2026, 3, 3, 2, 20, tzinfo=UTC)
    steps = (
        "  - {id: cutover, uses: test.record, timeout: 1h, with: {file: '{record}', sleep: 20m, "
        f"fact: {{kind: service.restored, data: {{at: '{restored.isoformat()}'}}}}}}}}\n"
        "  - {id: monitoring, uses: test.record, timeout: 1h, with: {file: '{record}', sleep: 40m}}\n"
    )
    ran = run_plan(plan_for(ws.playbook(steps, rto="30m")), ws)
    assert ran.exit_code == ExitCode.OK  # the run took 60 m but clients were served at T+20m
    assert ran.of(ev.RunFinished)[0].rto_achieved_seconds == 20 * 60
    assert not ran.of(ev.RtoBreached)


def test_the_live_clock_waits_for_the_last_traffic_switch_and_takes_up_one_seen_before_a_crash() -> None:
    from drctl.engine.objectives import ObjectiveTracker

    t0 = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
    nodes = [Node("swap", (), 60.0), Node("afd", (), 60.0)]

    def served(offset: float) -> dict[str, str]:
        return {"at": (t0 + timedelta(seconds=offset)).isoformat()}

    tracker = ObjectiveTracker(
        t0=t0, rto_seconds=3600, rpo_seconds=900, nodes=nodes, switches=frozenset({"swap", "afd"})
    )
    tracker.fact("swap", "service.restored", served(16), t0 + timedelta(seconds=16))
    assert tracker.restored_at is None  # the API's clients are still sent to the old region
    tracker.fact("afd", "service.restored", served(40), t0 + timedelta(seconds=40))
    assert tracker.restored_at == 40

    # a resumed run: the DNS swap's restoration was journaled before the crash
    resumed = ObjectiveTracker(
        t0=t0,
        rto_seconds=3600,
        rpo_seconds=900,
        nodes=nodes,
        switches=frozenset({"swap", "afd"}),
        served={"swap": 16.0},
    )
    resumed.fact("afd", "service.restored", served(30), t0 + timedelta(seconds=30))
    assert resumed.restored_at == 30
    # a switch that serves clients past the RTO is a breach at once, whatever the others
    late = ObjectiveTracker(t0=t0, rto_seconds=60, rpo_seconds=900, nodes=nodes, switches=frozenset({"swap", "afd"}))
    (breach,) = late.fact("swap", "service.restored", served(400), t0 + timedelta(seconds=100))
    assert isinstance(breach, ev.RtoBreached)
