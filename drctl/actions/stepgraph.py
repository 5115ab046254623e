"""A playbook step seen through its action's spec: its budget, timeout, whether it runs in the background, and the
step graph with those budgets (``core.schedule.Node``).

``playbook.graph`` knows the graph as written (needs, modes) without any action; what an action declares (its
default budget and timeout) is added here, so the pure playbook layer never imports the actions.
"""

from __future__ import annotations

from datetime import timedelta

from drctl.actions import registry
from drctl.core.schedule import Node
from drctl.playbook import graph
from drctl.playbook.enums import Mode
from drctl.playbook.model import Playbook, Step


def budget_of(step: Step) -> timedelta:
    if step.budget is not None:
        return step.budget
    spec = registry.get(step.uses)
    return spec.default_budget if spec else timedelta(0)


def timeout_of(step: Step) -> timedelta:
    if step.timeout is not None:
        return step.timeout
    spec = registry.get(step.uses)
    return spec.default_timeout if spec else timedelta(hours=1)


def is_background(step: Step) -> bool:
    spec = registry.get(step.uses)
    return bool(spec and spec.background(step.with_))


def nodes_for(playbook: Playbook, mode: Mode) -> list[Node]:
    needs = graph.needs_for(playbook, mode)
    return [
        Node(s.id, needs[s.id], budget_of(s).total_seconds(), is_background(s)) for s in graph.steps_for(playbook, mode)
    ]


def planned_finish(playbook: Playbook, mode: Mode, step_id: str) -> float:
    """When the plan's budgets have ``step_id`` done (seconds since T0): what a traffic switch's preflight adds the
    clients' TTL to, to say whether clients switch within the RTO on the planned path."""
    from drctl.core.schedule import CycleError, build

    try:
        timing = build(nodes_for(playbook, mode)).timing.get(step_id)
    except CycleError:  # validation refuses cycles; a preflight still reports what it can
        return 0.0
    return timing.earliest_finish if timing is not None else 0.0
