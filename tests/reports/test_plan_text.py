"""Plans as a person reads them: no raw template field in any mode or format, a drill plan naming only who a drill
messages, a long critical path shown by its ends, counts in words."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from drctl.cli.plan_view import render_markdown, render_text
from drctl.planning.load import load_playbook
from drctl.planning.plan import Plan, build_plan
from drctl.playbook.enums import Mode

PLAYBOOKS = sorted((Path(__file__).parents[2] / "playbooks").glob("*.yaml"))
SAMPLE = next(p for p in PLAYBOOKS if p.name == "au-east-to-au-southeast.yaml")


def strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings(v)]
    return []


def plan_of(path: Path, mode: Mode) -> Plan:
    return build_plan(load_playbook(path), mode=mode)


@pytest.mark.parametrize("mode", list(Mode))
@pytest.mark.parametrize("path", PLAYBOOKS, ids=[p.name for p in PLAYBOOKS])
def test_no_plan_shows_a_raw_template_field(path: Path, mode: Mode) -> None:
    plan = plan_of(path, mode)

    for shown in (render_text(plan), render_markdown(plan), *strings(plan.as_dict())):
        assert "{" not in shown, shown
        assert "}" not in shown, shown
    assert "{" not in json.dumps(strings(plan.as_dict()))


def test_a_drill_plan_lists_only_who_a_drill_messages() -> None:
    md = render_markdown(plan_of(SAMPLE, Mode.DRILL))
    text = render_text(plan_of(SAMPLE, Mode.DRILL))

    mentions = [line for line in md.splitlines() if "exec-teams" in line]
    assert mentions == ["- Never messaged in a drill (production audience only): exec-teams"]
    assert "exec-teams" not in text
    messages = [line for line in md.splitlines() if line.startswith("- message ")]
    assert messages
    for line in messages:
        assert "ops-slack (slack)" in line
        assert "\\[DRILL\\] " in line  # the marker a drill puts on every title, as the plan fills it
    assert "\\[DRILL\\] P1 drill: wallet-platform au-east -> au-southeast started" in md
    assert "\\<run state>" in md  # a fact only the run knows, described


def test_a_failover_plan_messages_production_and_marks_nothing() -> None:
    text = render_text(plan_of(SAMPLE, Mode.FAILOVER))

    assert (
        "message ops-slack (slack), exec-teams (teams), stakeholders (email): "
        "'P1 failover: wallet-platform au-east -> au-southeast started'"
    ) in text
    assert "DRILL" not in text
    assert "in a drill:" not in text
    assert "in a failback:" not in text
    back = render_text(plan_of(SAMPLE, Mode.FAILBACK))
    assert "'P1 failback: wallet-platform au-southeast -> au-east started'" in back


def test_a_long_critical_path_is_shown_by_its_ends() -> None:
    plan = plan_of(SAMPLE, Mode.FAILOVER)
    chain = tuple(f"step-{n}" for n in range(2000))
    long = replace(plan, critical_path=chain)

    text, md = render_text(long), render_markdown(long)

    for shown in (text, md):
        assert "(1,992 more steps)" in shown
        assert max(len(line) for line in shown.splitlines()) < 400
    assert "step-1000" not in text
    # a short path is shown whole
    assert " -> ".join(plan.critical_path) in render_text(plan)


def test_a_plan_counts_in_words() -> None:
    minimal = next(p for p in PLAYBOOKS if p.name == "minimal.yaml")
    plan = plan_of(minimal, Mode.FAILOVER)
    one = replace(plan, waves=plan.waves[:1])

    assert "| Steps | 3 steps in 3 waves; 2 change the estate |" in render_markdown(plan)
    assert "| Steps | 1 step in 1 wave; 1 changes the estate |" in render_markdown(one)
