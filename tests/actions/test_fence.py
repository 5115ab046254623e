"""fence.source and the standby fencer against the sandbox, through the real SDK: a planned failover fences nothing,
a forced one stops the source's web apps and scales its workers to 0 (verified, one request each), a region that does
not answer leaves open risks without failing the step, and a crash between intent and answer sends nothing twice.
The counts are the sandbox's request log."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from drctl.actions import registry
from drctl.actions.azure_bridge import FACT_INTENT
from drctl.actions.fence.run import FENCE_IMPLEMENTATION
from drctl.actions.fence.spec import FenceParams, items_with_fencers
from drctl.actions.standby.fencing import FENCER
from drctl.engine import events as ev
from drctl.engine.replay import open_risks
from tests.actions.conftest import SOURCE, Estate
from tests.conftest import ROOT

SOURCE_APPS = ("app-wallet-api-aue", "app-wallet-portal-aue")
SOURCE_VMSS = "vmss-wallet-workers-aue"
FORCED = ("sql.failover", {"failover_group": "fg-wallet", "mode": "forced", "step": "fail-over-sql"})
PLANNED = ("sql.failover", {"failover_group": "fg-wallet", "mode": "planned", "step": "fail-over-sql"})
UNPLANNED_STORAGE = ("storage.failover", {"account": "stwalletdocsaue", "type": "unplanned", "step": "storage"})


def _source(estate: Estate) -> tuple[dict[str, str], int]:
    state = estate.state()
    apps = {n: s["state"] for n, s in state["web_apps"].items() if n in SOURCE_APPS}
    return apps, int(state["scale_sets"][SOURCE_VMSS]["capacity"])


def _items(ctx: Any) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in ctx.recorded("fence.item")}


def test_a_planned_failover_leaves_nothing_to_fence(estate: Estate) -> None:
    ctx = estate.ctx(run_facts_seeded=[PLANNED])
    outcome = FENCE_IMPLEMENTATION.run(FenceParams(), ctx)
    assert not outcome.changed
    assert "nothing to fence" in outcome.summary
    assert ctx.recorded("fence.item") == []
    (summary,) = ctx.recorded("fence.summary")
    assert summary["needed"] is False
    assert FENCE_IMPLEMENTATION.done is not None
    assert FENCE_IMPLEMENTATION.done(FenceParams(), ctx) is True
    assert estate.mutations() == []
    assert _source(estate) == (dict.fromkeys(SOURCE_APPS, "Running"), 6)


def test_a_forced_failover_stops_the_source_apps_and_scales_its_workers_to_zero(estate: Estate) -> None:
    ctx = estate.ctx(run_facts_seeded=[FORCED])
    outcome = FENCE_IMPLEMENTATION.run(FenceParams(), ctx)
    assert outcome.changed
    assert _source(estate) == (dict.fromkeys(SOURCE_APPS, "Stopped"), 0)
    items = _items(ctx)
    assert set(items) == {*SOURCE_APPS, SOURCE_VMSS}
    assert all(f["fenced"] is True and f["region"] == SOURCE for f in items.values())
    mutations = estate.mutations()
    assert sorted(p.rsplit("/", 1)[-1] for _, p in mutations if p.endswith("/stop")) == ["stop", "stop"]
    assert [m for m, p in mutations if "virtualMachineScaleSets" in p] == ["PATCH"]
    assert len(mutations) == 3
    # the done-check now says done, and a second run sends nothing
    assert FENCE_IMPLEMENTATION.done is not None
    assert FENCE_IMPLEMENTATION.done(FenceParams(), ctx.next_attempt(run_facts_seeded=[FORCED])) is True
    assert FENCE_IMPLEMENTATION.done(FenceParams(), estate.ctx(run_facts_seeded=[FORCED])) is False
    again = estate.ctx(run_facts_seeded=[FORCED])
    FENCE_IMPLEMENTATION.run(FenceParams(), again)
    assert len(estate.mutations()) == 3
    assert all("no write" in f["detail"] for f in again.recorded("fence.item"))


def test_an_unplanned_storage_failover_fences_too_and_kinds_narrow_it(estate: Estate) -> None:
    ctx = estate.ctx(run_facts_seeded=[PLANNED, UNPLANNED_STORAGE])
    FENCE_IMPLEMENTATION.run(FenceParams(kinds=["scale_set"]), ctx)
    assert _source(estate) == (dict.fromkeys(SOURCE_APPS, "Running"), 0)
    assert list(_items(ctx)) == [SOURCE_VMSS]


def test_always_fences_without_a_forced_failover(estate: Estate) -> None:
    ctx = estate.ctx(run_facts_seeded=[PLANNED])
    FENCE_IMPLEMENTATION.run(FenceParams(always=True, kinds=["web_app"]), ctx)
    assert _source(estate)[0] == dict.fromkeys(SOURCE_APPS, "Stopped")


def test_with_the_source_control_plane_gone_nothing_is_sent_and_the_step_succeeds(estate: Estate) -> None:
    estate.sandbox.client().set_region(SOURCE, up=False, control_plane="unavailable")
    ctx = estate.ctx(run_facts_seeded=[FORCED])
    outcome = FENCE_IMPLEMENTATION.run(FenceParams(), ctx)
    assert "OPEN RISK" in outcome.summary
    assert {n: f["fenced"] for n, f in _items(ctx).items()} == dict.fromkeys([*SOURCE_APPS, SOURCE_VMSS], False)
    assert estate.mutations() == []  # the reads failed first: nothing was sent into a region that does not answer


def test_with_the_source_region_down_the_step_succeeds_and_leaves_open_risks(estate: Estate) -> None:
    estate.down()  # ARM reads answer the last known state; writes get 503
    ctx = estate.ctx(run_facts_seeded=[FORCED])
    outcome = FENCE_IMPLEMENTATION.run(FenceParams(), ctx)
    assert "OPEN RISK" in outcome.summary
    items = _items(ctx)
    assert set(items) == {*SOURCE_APPS, SOURCE_VMSS}
    assert all(f["fenced"] is False and "did not let it be fenced" in f["detail"] for f in items.values())
    assert _source(estate) == (dict.fromkeys(SOURCE_APPS, "Running"), 6)
    refused = len(estate.mutations())
    facts = [ev.Fact(at=ctx.now(), step="fence", kind=k, data=d) for k, d in ctx.facts]
    assert sorted(r.name for r in open_risks(facts)) == sorted([*SOURCE_APPS, SOURCE_VMSS])
    # done: every item has its outcome; the open ones are the open risk's to close, not the step's to repeat
    assert FENCE_IMPLEMENTATION.done is not None
    assert FENCE_IMPLEMENTATION.done(FenceParams(), ctx.next_attempt(run_facts_seeded=[FORCED])) is True

    # the region answers again: the step taken up again (drctl fence, resume) fences exactly the open items, and
    # each item's latest outcome wins
    estate.sandbox.set_region(SOURCE, up=True)
    later = ctx.next_attempt(facts=[*ctx.facts, ("fence.again", {"via": "fence"})], run_facts_seeded=[FORCED])
    outcome = FENCE_IMPLEMENTATION.run(FenceParams(), later)
    assert all(f["fenced"] is True and f["via"] == "fence" for f in later.recorded("fence.item"))
    facts += [ev.Fact(at=later.now(), step="fence", kind=k, data=d) for k, d in later.facts]
    assert open_risks(facts) == []
    assert _source(estate) == (dict.fromkeys(SOURCE_APPS, "Stopped"), 0)
    assert len(estate.mutations()) == refused + 3
    # once more: nothing is open, nothing is sent
    last = later.next_attempt(run_facts_seeded=[FORCED])
    assert "already fenced" in FENCE_IMPLEMENTATION.run(FenceParams(), last).summary
    assert len(estate.mutations()) == refused + 3
    del outcome


def test_a_crash_between_the_stop_intent_and_its_answer_sends_one_stop(estate: Estate) -> None:
    """The process journaled its intent to stop the API app, sent it, and died before the answer: the app is
    Stopped, so the resumed step finds it done and sends no second stop."""
    api = SOURCE_APPS[0]
    estate.sandbox.client().set_web_app_state(api, "Stopped")
    intent = {"key": f"fence.web.stop rg-wallet-aue/{api}", "round": 1, "what": f"stop web app {api}", "attempt": 1}
    ctx = estate.ctx(
        attempt=2, facts=[(FACT_INTENT, {**intent, "at": "2026-03-03T02:10:00+00:00"})], run_facts_seeded=[FORCED]
    )
    FENCE_IMPLEMENTATION.run(FenceParams(kinds=["web_app"]), ctx)
    stops = [p for _, p in estate.mutations() if p.endswith("/stop")]
    assert len(stops) == 1
    assert SOURCE_APPS[1] in stops[0]


def test_a_crash_after_the_scale_in_was_accepted_follows_it_and_sends_no_second(estate: Estate) -> None:
    ctx = estate.ctx(run_facts_seeded=[FORCED])
    FENCE_IMPLEMENTATION.run(FenceParams(kinds=["scale_set"]), ctx)
    # the next attempt sees its own intent and end: done, nothing sent
    assert FENCE_IMPLEMENTATION.done is not None
    assert (
        FENCE_IMPLEMENTATION.done(FenceParams(kinds=["scale_set"]), ctx.next_attempt(run_facts_seeded=[FORCED])) is True
    )
    again = ctx.next_attempt(run_facts_seeded=[FORCED])
    assert "already fenced" in FENCE_IMPLEMENTATION.run(FenceParams(kinds=["scale_set"]), again).summary
    assert [m for m, p in estate.mutations() if "virtualMachineScaleSets" in p] == ["PATCH"]


def test_preflight_lists_what_would_be_fenced_and_reads_nothing(estate: Estate) -> None:
    assert FENCE_IMPLEMENTATION.preflight is not None
    found = FENCE_IMPLEMENTATION.preflight(FenceParams(), estate.ctx())
    assert [f.subject for f in found] == [f"web_app {a} ({SOURCE})" for a in SOURCE_APPS] + [
        f"scale_set {SOURCE_VMSS} ({SOURCE})"
    ]
    assert estate.arm_requests() == []


def test_the_standby_fencer_offers_the_source_apps_and_scale_sets(estate: Estate) -> None:
    assert [(i.kind, i.name) for i in FENCER.items(estate.scope, SOURCE)] == [
        ("web_app", SOURCE_APPS[0]),
        ("web_app", SOURCE_APPS[1]),
        ("scale_set", SOURCE_VMSS),
    ]
    assert len(items_with_fencers(estate.scope, SOURCE)) == 3


def test_every_fencer_loads_and_lists_its_items_without_an_azure_sdk() -> None:
    # plan and validate list what would be fenced through every family's fencer: none may import an SDK to do it
    code = (
        "import sys\n"
        "from drctl.actions.base import Scope\n"
        "from drctl.actions.fence.spec import SOURCE, FenceParams, fencers\n"
        "from drctl.planning.load import load_playbook\n"
        f"pb = load_playbook({str(ROOT / 'playbooks' / 'au-east-to-au-southeast.yaml')!r}).playbook\n"
        "found = fencers()\n"
        "lines = SOURCE.describe(FenceParams(), Scope(pb, 'au-east', 'au-southeast'))\n"
        "assert found and lines, (found, lines)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('azure', 'drctl.azure', 'kubernetes'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
    assert any(f.fencer is not None for f in registry.FAMILIES)


@pytest.mark.parametrize(
    ("fenced", "expected"),
    [((False, True), []), ((True, False), ["x"]), ((False, False), ["x"])],
)
def test_the_latest_outcome_of_an_item_wins(fenced: tuple[bool, bool], expected: list[str]) -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 3, 3, tzinfo=UTC)
    facts = [
        ev.Fact(
            at=at, step="fence", kind="fence.item", data={"kind": "web_app", "name": "x", "region": "r", "fenced": f}
        )
        for f in fenced
    ]
    assert [r.name for r in open_risks(facts)] == expected
