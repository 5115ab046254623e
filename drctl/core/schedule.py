"""The step graph: waves of steps that may run together, earliest times and the critical path. Pure.

``plan`` (offline), the engine and the reports all schedule the same way, so this lives below all of them.

Budgets are the expected durations the playbook declares; the critical path is the longest chain of budgets,
which is what bounds the RTO however much runs in parallel. Background steps (periodic messages) start in
their place but hold nothing up, so they count as zero on the path.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Node:
    id: str
    needs: tuple[str, ...]
    budget: float
    background: bool = False


@dataclass(frozen=True)
class Timing:
    earliest_start: float
    earliest_finish: float
    slack: float


@dataclass(frozen=True)
class Schedule:
    waves: tuple[tuple[str, ...], ...]
    timing: dict[str, Timing]
    critical_path: tuple[str, ...]
    length: float

    def wave_of(self, step_id: str) -> int:
        for index, wave in enumerate(self.waves):
            if step_id in wave:
                return index
        raise KeyError(step_id)


class CycleError(ValueError):
    def __init__(self, cycle: Sequence[str]) -> None:
        super().__init__(" -> ".join(cycle))
        self.cycle = tuple(cycle)


def find_cycle(nodes: Iterable[Node]) -> list[str] | None:
    """One dependency cycle (first node repeated at the end), or None; unknown needs are ignored."""
    graph = {n.id: list(n.needs) for n in nodes}
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(start: str) -> list[str] | None:
        # iterative DFS: a 500-step chain must not hit Python's recursion limit
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            node, index = work.pop()
            if index == 0:
                state[node] = 1
                stack.append(node)
            deps = [d for d in graph[node] if d in graph]
            if index < len(deps):
                work.append((node, index + 1))
                dep = deps[index]
                if state.get(dep) == 1:
                    return [*stack[stack.index(dep) :], dep]
                if dep not in state:
                    work.append((dep, 0))
            else:
                state[node] = 2
                stack.pop()
        return None

    for node_id in graph:
        if node_id not in state:
            cycle = visit(node_id)
            if cycle:
                return cycle
    return None


def build(nodes: Sequence[Node]) -> Schedule:
    """Waves in topological order (file order within a wave), timings and the critical path.

    Raises ``CycleError``; unknown ``needs`` must have been rejected before (``checks`` does).
    """
    cycle = find_cycle(nodes)
    if cycle:
        raise CycleError(cycle)
    by_id = {n.id: n for n in nodes}
    order = {n.id: i for i, n in enumerate(nodes)}
    level: dict[str, int] = {}
    start: dict[str, float] = {}
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}
    for node in _topological(nodes):
        deps = [d for d in node.needs if d in by_id]
        level[node.id] = 1 + max((level[d] for d in deps), default=-1)
        best = max(deps, key=lambda d: (finish[d], -order[d]), default=None)
        start[node.id] = finish[best] if best is not None else 0.0
        via[node.id] = best
        finish[node.id] = start[node.id] + (0.0 if node.background else node.budget)
    length = max(finish.values(), default=0.0)
    waves: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for node in nodes:
        waves[level[node.id]].append(node.id)
    latest = _latest_finish(nodes, finish, length)
    timing = {n.id: Timing(start[n.id], finish[n.id], max(0.0, latest[n.id] - finish[n.id])) for n in nodes}
    path: list[str] = []
    if nodes:
        tail: str | None = max(nodes, key=lambda n: (finish[n.id], -order[n.id])).id
        while tail is not None:
            path.append(tail)
            tail = via[tail]
    return Schedule(tuple(tuple(w) for w in waves), timing, tuple(reversed(path)), length)


def _topological(nodes: Sequence[Node]) -> list[Node]:
    by_id = {n.id: n for n in nodes}
    remaining = {n.id: len([d for d in n.needs if d in by_id]) for n in nodes}
    children: dict[str, list[str]] = {n.id: [] for n in nodes}
    for node in nodes:
        for dep in node.needs:
            if dep in by_id:
                children[dep].append(node.id)
    ready = [n.id for n in nodes if remaining[n.id] == 0]
    out: list[Node] = []
    while ready:
        current = ready.pop(0)
        out.append(by_id[current])
        for child in children[current]:
            remaining[child] -= 1
            if remaining[child] == 0:
                ready.append(child)
    return out


def _latest_finish(nodes: Sequence[Node], finish: dict[str, float], length: float) -> dict[str, float]:
    by_id = {n.id: n for n in nodes}
    children: dict[str, list[str]] = {n.id: [] for n in nodes}
    for node in nodes:
        for dep in node.needs:
            if dep in by_id:
                children[dep].append(node.id)
    latest: dict[str, float] = {}
    for node in reversed(_topological(nodes)):
        kids = children[node.id]
        latest[node.id] = min(
            (latest[k] - (0.0 if by_id[k].background else by_id[k].budget) for k in kids), default=length
        )
    return latest
