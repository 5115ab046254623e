"""Scheduling: dependencies, file order, the concurrency bound, and ``when`` by mode. Fake clock, no sleeping."""

from __future__ import annotations

import threading
from typing import Any

from drctl.actions.runtime import Outcome, StepContext
from drctl.actions.testing import read_record
from drctl.engine import events as ev
from drctl.playbook.enums import Mode
from tests.engine.conftest import Workspace, plan_for, run_plan, wait_until

STEP = """\
  - id: {id}
    uses: test.record
    needs: {needs}
    with: {{file: "{{record}}"}}
"""


def steps(*specs: tuple[str, str]) -> str:
    return "".join(STEP.format(id=i, needs=n) for i, n in specs)


def test_steps_without_needs_follow_file_order(ws: Workspace) -> None:
    path = ws.playbook(
        "  - {id: a, uses: test.record, with: {file: '{record}'}}\n"
        "  - {id: b, uses: test.record, with: {file: '{record}'}}\n"
        "  - {id: c, uses: test.record, with: {file: '{record}'}}\n"
    )
    ran = run_plan(plan_for(path), ws)
    assert ran.exit_code == 0
    assert [e["step"] for e in read_record(ws.record) if e["event"] == "run"] == ["a", "b", "c"]


def test_a_step_starts_as_soon_as_its_own_dependencies_finish_not_its_wave(ws: Workspace) -> None:
    # wave 1: slow, quick; wave 2: after-quick needs only quick. after-quick must start while slow still runs.
    path = ws.playbook(steps(("slow", "[]"), ("quick", "[]"), ("after-quick", "[quick]"), ("last", "[slow]")))
    after_quick_started = threading.Event()

    def slow(_p: Any, _ctx: StepContext) -> Outcome:
        assert after_quick_started.wait(5), "after-quick waited for the whole wave"
        return Outcome("slow done")

    def after_quick(_p: Any, _ctx: StepContext) -> Outcome:
        after_quick_started.set()
        return Outcome("ok")

    ran = run_plan(plan_for(path, impls={"slow": slow, "after-quick": after_quick}), ws)
    assert ran.exit_code == 0
    order = [e.step for e in ran.of(ev.StepSucceeded)]
    assert order.index("after-quick") < order.index("slow") < order.index("last")


def test_independent_steps_never_exceed_the_concurrency_bound(ws: Workspace) -> None:
    path = ws.playbook(steps(*[(f"s{i}", "[]") for i in range(10)]))
    lock = threading.Condition()
    active: list[str] = []
    most = 0
    released: set[str] = set()

    def hold(_p: Any, ctx: StepContext) -> Outcome:
        nonlocal most
        with lock:
            active.append(ctx.step_id)
            most = max(most, len(active))
            lock.notify_all()
            assert lock.wait_for(lambda: ctx.step_id in released, timeout=5)
            active.remove(ctx.step_id)
        return Outcome("ok")

    done = threading.Event()

    def waiting() -> list[str]:
        return [a for a in active if a not in released]

    def release_one_at_a_time() -> None:
        # release a step only once as many as the bound allows are in flight: a fourth would show at once
        while len(released) < 10:
            with lock:
                assert lock.wait_for(lambda: len(waiting()) == min(3, 10 - len(released)), timeout=5)
                released.add(waiting()[0])
                lock.notify_all()
        done.set()

    threading.Thread(target=release_one_at_a_time, daemon=True).start()
    ran = run_plan(plan_for(path, impls={f"s{i}": hold for i in range(10)}), ws, concurrency=3)
    assert done.wait(5)
    assert ran.exit_code == 0
    assert most == 3


def test_concurrency_one_runs_ready_steps_in_file_order(ws: Workspace) -> None:
    path = ws.playbook(steps(("a", "[]"), ("b", "[]"), ("c", "[a]"), ("d", "[]")))
    ran = run_plan(plan_for(path), ws, concurrency=1)
    assert [e.step for e in ran.of(ev.StepStarted)] == ["a", "b", "c", "d"]


def test_when_leaves_steps_out_of_other_modes_and_keeps_the_order_through_them(ws: Workspace) -> None:
    path = ws.playbook(
        "  - {id: first, uses: test.record, with: {file: '{record}'}}\n"
        "  - {id: failover-only, uses: test.record, when: failover, with: {file: '{record}'}}\n"
        "  - {id: last, uses: test.record, with: {file: '{record}'}}\n"
    )
    ran = run_plan(plan_for(path, mode=Mode.FAILBACK), ws)
    started = ran.of(ev.RunStarted)[0]
    assert started.excluded_steps == ("failover-only",)
    assert [s.id for s in started.steps] == ["first", "last"]
    assert started.steps[1].needs == ("first",)
    assert [e["step"] for e in read_record(ws.record) if e["event"] == "run"] == ["first", "last"]


def test_failback_runs_the_playbook_with_source_and_target_swapped(ws: Workspace) -> None:
    path = ws.playbook(steps(("look", "[]")))
    seen: list[tuple[str, str]] = []

    def look(_p: Any, ctx: StepContext) -> Outcome:
        seen.append((ctx.scope.source_name, ctx.scope.target_name))
        return Outcome("ok")

    ran = run_plan(plan_for(path, mode=Mode.FAILBACK, impls={"look": look}), ws)
    assert seen == [("west", "east")]
    started = ran.of(ev.RunStarted)[0]
    assert (started.mode, started.source, started.target) == ("failback", "west", "east")


def test_every_event_reaches_listeners_in_journal_order(ws: Workspace) -> None:
    path = ws.playbook(steps(*[(f"s{i}", "[]") for i in range(12)]))
    ran = run_plan(plan_for(path), ws)
    assert [r.seq for r in ran.seen.records] == list(range(1, len(ran.events) + 1))
    assert [r.event for r in ran.seen.records] == ran.events


def test_a_run_of_many_parallel_steps_waits_for_all_of_them(ws: Workspace) -> None:
    path = ws.playbook(steps(*[(f"s{i}", "[]") for i in range(40)]) + STEP.format(id="end", needs="[s39, s0]"))
    ran = run_plan(plan_for(path), ws, concurrency=8)
    assert ran.exit_code == 0
    assert len(ran.of(ev.StepSucceeded)) == 41
    wait_until(lambda: True)
