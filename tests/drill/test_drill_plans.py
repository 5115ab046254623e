"""``drctl plan --format md`` is fit to attach to a change request in every direction: a drill's plan shows both
halves and the hold, a failback's reads as a return home."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from drctl.cli.plan_view import render_markdown, render_text
from drctl.planning.load import load_playbook
from drctl.planning.plan import build_plan
from drctl.playbook.enums import Mode
from tests.conftest import SAMPLE


def section(markdown: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", markdown, re.S | re.M)
    assert match, f"no section {title!r}"
    return match.group(1)


@pytest.fixture(scope="module")
def drill_md() -> str:
    return render_markdown(build_plan(load_playbook(SAMPLE), mode=Mode.DRILL))


def test_a_drill_plan_shows_both_halves_and_the_hold(drill_md: str) -> None:
    assert drill_md.startswith("# DR plan: wallet-platform (drill)\n")
    headings = re.findall(r"^## (.*)$", drill_md, re.M)
    order = ["Steps by wave (failover half)", "Hold", "Steps by wave (failback half)"]
    assert [h for h in headings if h in order] == order
    assert "| Whole drill | 41m20s by budgets: failover 15m40s, hold 10m, failback 15m40s |" in drill_md
    hold = section(drill_md, "Hold")
    assert "10m on au-southeast, probing https://api-aus.wallet.example.com/healthz every 1m" in hold
    changes = section(drill_md, "Changes this drill makes")
    forward, back = changes.split("Failback half, au-southeast → au-east:")
    assert "DNS api.wallet.example.com A -> 20.70.20.20, TTL 300" in forward
    assert "DNS api.wallet.example.com A -> 20.53.10.10, TTL 300" in back
    assert "sql-wallet-aue (australiaeast) becomes Primary" in back


def test_a_drill_plan_says_it_never_forces_and_whom_it_never_messages(drill_md: str) -> None:
    assert "forced failover (data loss)" not in drill_md
    assert "planned-then-forced failover; in a drill: planned only, never forced" in drill_md
    safety = section(drill_md, "Drill safety")
    assert "**promote-database**: runs as a planned failover only" in safety
    assert "Never messaged in a drill (production audience only): exec-teams" in safety
    assert "Messages go to ops-slack, stakeholders (drill audience)" in safety
    # the P1 cadence runs once per drill: not again in the failback half
    assert "status-updates" in section(drill_md, "Steps by wave (failover half)")
    assert "status-updates" not in section(drill_md, "Steps by wave (failback half)")
    assert "tue, thu 02:00-04:00 Australia/Sydney: outside them `drctl drill` refuses" in drill_md
    assert "Times are budgets from T0 (the drill's start)" in drill_md


def test_a_failback_plan_reads_as_the_return_home() -> None:
    plan = build_plan(load_playbook(SAMPLE), mode=Mode.FAILBACK)
    md = render_markdown(plan)

    assert md.startswith("# DR plan: wallet-platform (failback)\n")
    assert "A failback returns wallet-platform from au-southeast to au-east, its home region" in md
    assert "| Direction | au-southeast (australiasoutheast) → au-east (australiaeast) |" in md
    assert "Times are budgets from T0 (the failback's start)" in md
    assert "DNS api.wallet.example.com A -> 20.53.10.10, TTL 300" in section(md, "Changes this run makes")
    assert "Whole drill" not in md
    assert "Drill safety" not in md


def test_a_failover_plan_keeps_its_disaster_clock() -> None:
    md = render_markdown(build_plan(load_playbook(SAMPLE), mode=Mode.FAILOVER))

    assert "Times are budgets from T0 (the declared disaster time, or the run's start)" in md
    assert "forced failover (data loss) only when the source is lost" in md
    assert "the RPO exposure of fg-wallet is measured <= 15m, or an approver accepts the loss" in md


def test_the_drill_plan_in_text_and_json_carries_the_failback_half() -> None:
    plan = build_plan(load_playbook(SAMPLE), mode=Mode.DRILL)

    text = render_text(plan)
    assert "Failback half: au-southeast -> au-east (times from the failback's start)" in text
    assert "Hold: 10m on au-southeast" in text
    data = json.loads(json.dumps(plan.as_dict()))
    assert data["drill"]["hold_seconds"] == 600
    assert data["drill"]["failback"]["direction"] == "reverse"
    assert data["drill"]["failback"]["source"]["region"] == "au-southeast"
    assert data["drill"]["production_only_channels"] == ["exec-teams"]
    assert "drill" not in build_plan(load_playbook(SAMPLE), mode=Mode.FAILBACK).as_dict()


def test_a_drill_plan_warns_that_a_forcing_step_stops_the_drill(tmp_path: Path) -> None:
    text = SAMPLE.read_text().replace("mode: planned-then-forced", "mode: forced")
    path = tmp_path / "forced.yaml"
    path.write_text(text)

    plan = build_plan(load_playbook(path), mode=Mode.DRILL)

    assert any("drctl drill refuses to start" in w and "promote-database" in w for w in plan.warnings)
    assert "**refused**: promote-database (sql.failover with mode: forced)" in render_markdown(plan)
