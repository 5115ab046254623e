"""A drill survives a crash like any run: resume takes it up mid-hold or mid-failback in the same journal,
never repeats a finished phase, and keeps the failover phase's RTO."""

from __future__ import annotations

import json
from pathlib import Path

from drctl.engine import events as ev
from drctl.errors import ExitCode
from tests.drill.conftest import DrillSpace, at, cut_journal_after, drill_plan, resume_drill, run_drill

STEPS = ["promote", "start-apps", "check", "cutover"]


def keep_record(space: DrillSpace, keep: int) -> list[dict[str, object]]:
    """The record file as the crash left it: its first ``keep`` entries (the test.record calls made by then)."""
    path = Path(space.record)
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps(e) + "\n" for e in entries[:keep]))
    return entries[:keep]


def entries(space: DrillSpace) -> list[dict[str, object]]:
    return [json.loads(line) for line in Path(space.record).read_text().splitlines()]


def test_a_crash_during_the_hold_resumes_with_a_full_hold_then_fails_back(space: DrillSpace) -> None:
    first = run_drill(drill_plan(space.playbook()), space)
    journal = first.result.journal
    cut_journal_after(journal, lambda e: isinstance(e, ev.Fact) and e.kind == "drill.probe", nth=3)
    # the crash came before the failback: its calls never happened
    before = [e for e in entries(space) if not str(e["step"]).startswith("failback:")]
    keep_record(space, len(before))
    restored_before = first.facts("service.restored")[0]

    resumed = resume_drill(space, first.result.run_id, clock=at("2026-03-03T03:00:00+00:00"))

    assert resumed.exit_code == ExitCode.OK
    after = resumed.events[resumed.events.index(resumed.of(ev.RunResumed)[0]) :]
    started_after = [e.step for e in after if isinstance(e, ev.StepStarted)]
    assert started_after == ["hold", *(f"failback:{s}" for s in STEPS)]  # no failover step again
    hold_again = next(e for e in after if isinstance(e, ev.StepStarted) and e.step == "hold")
    assert hold_again.attempt == 2
    probes_after = [e for e in after if isinstance(e, ev.Fact) and e.kind == "drill.probe"]
    assert len(probes_after) == 11  # the hold runs again in full: the evidence is an uninterrupted hold
    calls = entries(space)
    for step in STEPS:
        for phase in ("failover", "failback"):
            done = [e for e in calls if e["step"] == f"{phase}:{step}" and e["event"] == "done"]
            assert len(done) == 1, (phase, step)
    # the RTO was achieved before the crash, in the failover phase, and stays what it was
    assert resumed.finished.rto_achieved_seconds == (restored_before.at - resumed.started.t0).total_seconds()


def test_a_crash_during_the_failback_resumes_it_checking_the_interrupted_step_first(space: DrillSpace) -> None:
    first = run_drill(drill_plan(space.playbook()), space)
    journal = first.result.journal
    cut_journal_after(journal, lambda e: isinstance(e, ev.StepStarted) and e.step == "failback:promote")
    # the crash came after failback:promote made its change (its "done" is in the record) but before it said so
    calls = entries(space)
    done_at = next(i for i, e in enumerate(calls) if e["step"] == "failback:promote" and e["event"] == "done")
    kept = [e for e in calls[: done_at + 1] if e["step"] != "failback:start-apps"]
    Path(space.record).write_text("".join(json.dumps(e) + "\n" for e in kept))

    resumed = resume_drill(space, first.result.run_id, clock=at("2026-03-03T03:00:00+00:00"))

    assert resumed.exit_code == ExitCode.OK
    after = resumed.events[resumed.events.index(resumed.of(ev.RunResumed)[0]) :]
    checked = [e for e in after if isinstance(e, ev.StepChecked)]
    assert [(c.step, c.done) for c in checked] == [("failback:promote", True)]
    started_after = [e.step for e in after if isinstance(e, ev.StepStarted)]
    assert "failback:promote" not in started_after
    assert not [s for s in started_after if s.startswith("failover:") or s == "hold"]
    assert set(started_after) == {"failback:start-apps", "failback:check", "failback:cutover"}
    runs = [e for e in entries(space) if e["step"] == "failback:promote" and e["event"] == "run"]
    assert len(runs) == 1  # never repeated: its done-check said it was done


def test_a_crash_before_the_failover_restored_keeps_the_rto_clock_from_the_original_t0(space: DrillSpace) -> None:
    first = run_drill(drill_plan(space.playbook()), space)
    cut_journal_after(first.result.journal, lambda e: isinstance(e, ev.StepSucceeded) and e.step == "failover:check")
    calls = entries(space)
    check_done = max(i for i, e in enumerate(calls) if e["step"] == "failover:check")
    keep_record(space, check_done + 1)

    resumed = resume_drill(space, first.result.run_id, clock=at("2026-03-03T02:30:00+00:00"))

    assert resumed.exit_code == ExitCode.OK
    restored = resumed.facts("service.restored")
    assert [f.step for f in restored] == ["failover:cutover", "failback:cutover"]
    t0 = resumed.started.t0
    assert resumed.finished.rto_achieved_seconds == (restored[0].at - t0).total_seconds()
    assert resumed.finished.rto_achieved_seconds > 30 * 60  # the crash's half hour counts against the RTO
