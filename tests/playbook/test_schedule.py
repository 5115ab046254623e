from __future__ import annotations

import pytest

from drctl.core.schedule import CycleError, Node, build, find_cycle


def test_waves_group_what_can_run_together_and_keep_file_order() -> None:
    plan = build([Node("a", (), 1), Node("c", ("a",), 2), Node("b", ("a",), 5), Node("d", ("b", "c"), 1)])
    assert plan.waves == (("a",), ("c", "b"), ("d",))


def test_the_critical_path_is_the_longest_chain_of_budgets() -> None:
    plan = build([Node("a", (), 1), Node("b", ("a",), 5), Node("c", ("a",), 2), Node("d", ("b", "c"), 1)])
    assert plan.critical_path == ("a", "b", "d")
    assert plan.length == 7
    assert plan.timing["c"].slack == 3
    assert plan.timing["b"].slack == 0


def test_background_steps_hold_nothing_up() -> None:
    plan = build([Node("tick", (), 600, background=True), Node("x", ("tick",), 10)])
    assert plan.length == 10
    assert plan.timing["x"].earliest_start == 0


def test_a_cycle_is_reported_with_its_path() -> None:
    nodes = [Node("a", ("c",), 1), Node("b", ("a",), 1), Node("c", ("b",), 1)]
    cycle = find_cycle(nodes)
    assert cycle is not None
    assert cycle[0] == cycle[-1]
    assert set(cycle) == {"a", "b", "c"}
    with pytest.raises(CycleError):
        build(nodes)


def test_a_long_chain_does_not_recurse_too_deeply() -> None:
    nodes = [Node(f"s{i}", (f"s{i - 1}",) if i else (), 1) for i in range(5000)]
    assert build(nodes).length == 5000
