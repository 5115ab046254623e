"""A drill as the operator watches it: the live view's projection is the failover phase's alone, and the lines
and ``drctl status`` say what the drill is."""

from __future__ import annotations

from datetime import timedelta

from drctl.cli.live import LiveTable, describe
from drctl.cli.status_view import render_status, status_data
from drctl.engine import events as ev
from drctl.engine.history import load_run
from drctl.engine.journal import read_journal
from drctl.engine.paths import StateDir
from drctl.engine.replay import RunView
from tests.drill.conftest import DrillSpace, cut_journal_after, drill_plan, run_drill


def test_the_live_projection_ignores_the_hold_and_the_failback(space: DrillSpace) -> None:
    ran = run_drill(drill_plan(space.playbook(hold="1h")), space)
    cut_journal_after(ran.result.journal, lambda e: isinstance(e, ev.StepStarted) and e.step == "hold")
    view = RunView.of(read_journal(ran.result.journal).events())
    hold_start = view.steps["hold"].started_at
    assert hold_start is not None

    table = LiveTable(view, now=lambda: hold_start)
    projection = table._projection(hold_start + timedelta(seconds=1))

    # the failover phase is done: its projection is its actual end, not an hour of hold and a failback more
    phase_end = max(s.finished_at for k, s in view.steps.items() if k.startswith("failover:") and s.finished_at)
    assert projection == (phase_end - ran.started.t0).total_seconds()
    assert "phase: hold" in str(table._render().renderables[0])  # type: ignore[attr-defined]


def test_lines_and_status_say_what_the_drill_is(space: DrillSpace) -> None:
    ran = run_drill(drill_plan(space.playbook()), space)

    line = describe(ran.started)
    assert line is not None
    assert "drill of app, east -> west, hold 10m, then west -> east" in line
    probe = describe(ran.facts("drill.probe")[0])
    assert probe == f"hold: probe 1 of {space.health.base}/west: 200 ok in " + probe.rsplit(" in ", 1)[-1]
    assert describe(ran.facts("drill.hold")[0]) == "hold: passed: 11 probes, 0 failed"
    loaded = load_run(StateDir(space.state), ran.result.run_id)
    status = render_status(loaded)
    assert "Drill: failover east -> west; hold 10m on west probing" in status
    assert "failback west -> east; no change windows declared" in status
    phases = {s["id"]: s["phase"] for s in status_data(loaded)["steps"]}
    assert (phases["failover:promote"], phases["hold"], phases["failback:promote"]) == ("failover", "hold", "failback")
