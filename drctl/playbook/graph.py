"""A playbook's steps as a graph for one mode: which steps run and what each waits for. Pure data.

Budgets come from the actions' specs, so the graph with budgets is ``actions.stepgraph.nodes_for``.
"""

from __future__ import annotations

from drctl.playbook.enums import Mode
from drctl.playbook.model import Playbook, Step


def declared_needs(playbook: Playbook) -> dict[str, tuple[str, ...]]:
    """Each step's dependencies as written: its ``needs``, or else the step before it in the file."""
    out: dict[str, tuple[str, ...]] = {}
    previous: str | None = None
    for step in playbook.steps:
        if step.needs is not None:
            out[step.id] = tuple(step.needs)
        else:
            out[step.id] = (previous,) if previous is not None else ()
        previous = step.id
    return out


def steps_for(playbook: Playbook, mode: Mode) -> list[Step]:
    return [s for s in playbook.steps if mode in s.when]


def needs_for(playbook: Playbook, mode: Mode) -> dict[str, tuple[str, ...]]:
    """Dependencies among the steps that run in ``mode``.

    A step left out of a mode passes its own dependencies on to its dependents, so leaving out a
    failover-only step never lets a later step jump ahead of what came before it.
    """
    declared = declared_needs(playbook)
    included = {s.id for s in steps_for(playbook, mode)}
    memo: dict[str, tuple[str, ...]] = {}

    def through(step_id: str, seen: frozenset[str]) -> tuple[str, ...]:
        if step_id in memo:
            return memo[step_id]
        found: list[str] = []
        for dep in declared.get(step_id, ()):
            if dep in seen or dep not in declared:
                continue
            if dep in included:
                found.append(dep)
            else:
                found.extend(through(dep, seen | {dep}))
        memo[step_id] = tuple(dict.fromkeys(found))
        return memo[step_id]

    return {step_id: through(step_id, frozenset({step_id})) for step_id in declared if step_id in included}


def direction_for(playbook: Playbook, *, reverse: bool) -> tuple[str, str]:
    """(source, target) region names; failback is the playbook's direction reversed."""
    source, target = playbook.direction.source, playbook.direction.target
    return (target, source) if reverse else (source, target)


def ancestors(needs: dict[str, tuple[str, ...]], step_id: str) -> set[str]:
    seen: set[str] = set()
    stack = list(needs.get(step_id, ()))
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack.extend(needs.get(current, ()))
    return seen
