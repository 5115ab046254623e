"""The RTO/RPO clock: the projected finish, and the events that say an objective is at risk or breached.

Times here are seconds since T0 (the declared disaster time, or the run start).

- Projected finish: finished steps count at their actual finish, a running step at ``max(start + budget, now)``,
  and a step not started yet at ``max(now, its dependencies' projected finish) + budget``; the run's projection is
  the latest of them (background steps count as zero: they hold nothing up). This is "now plus the remaining
  critical path of budgets", with actual durations for what is done.
- ``objective.at_risk``: once per run, the first time the projection passes the RTO.
- ``objective.rto_breached``: once, when the elapsed time passes the RTO before the service is restored
  (a ``service.restored`` fact, or the end of the run when no action records one), or as soon as a
  ``service.restored`` fact says clients reach the target only after the RTO (its ``at`` includes the previous
  DNS TTL); ``elapsed_seconds`` is then that restoration time.
- ``objective.rpo_breached``: once, when an ``rpo.exposure`` fact exceeds the RPO (an ``upper_bound`` does not).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from drctl.core.schedule import Node, build
from drctl.engine import events as ev


def in_order(nodes: Sequence[Node]) -> list[Node]:
    """The nodes in dependency order (wave by wave), as ``projected_finish`` needs them."""
    by_id = {n.id: n for n in nodes}
    return [by_id[step_id] for wave in build(nodes).waves for step_id in wave]


def projected_finish(
    ordered: Sequence[Node], *, now: float, started: Mapping[str, float], finished: Mapping[str, float]
) -> float:
    """The projected finish (seconds since T0) of ``ordered`` (see ``in_order``); see the module docstring."""
    projected: dict[str, float] = {}
    for node in ordered:
        budget = 0.0 if node.background else node.budget
        if node.id in finished:
            projected[node.id] = finished[node.id]
        elif node.id in started:
            projected[node.id] = max(started[node.id] + budget, now)
        else:
            ready = max((projected[d] for d in node.needs if d in projected), default=now)
            projected[node.id] = max(now, ready) + budget
    return max(projected.values(), default=now)


class ObjectiveTracker:
    """Turns progress into objective events, each at most once per run (resume carries the flags over)."""

    def __init__(
        self,
        *,
        t0: datetime,
        rto_seconds: float,
        rpo_seconds: float,
        nodes: Sequence[Node],
        already: frozenset[str] = frozenset(),
        restored_at: float | None = None,
        rpo_exposure: float | None = None,
        phased: bool = False,
        switches: frozenset[str] = frozenset(),
        served: Mapping[str, float] | None = None,
    ) -> None:
        self.t0 = t0
        self.rto = rto_seconds
        self.rpo = rpo_seconds
        self._nodes = in_order(nodes)
        #: a drill: the RTO is about ``nodes`` (its failover phase) alone. Only their ``service.restored``
        #: counts, and without one the clock stops when the last of them finishes, not at the end of the run
        self._phased = phased
        self._rto_ids = frozenset(n.id for n in nodes)
        #: a drill without a ``service.restored`` fact: when its failover phase's last step finished
        self.phase_ended_at: float | None = None
        self._emitted = set(already)
        self._lock = threading.Lock()
        self.restored_at = restored_at
        #: the traffic switches the RTO waits for (``replay.clients_served``: the last of them serves clients)
        self._switches = switches
        #: when each step's ``service.restored`` says clients were served (seconds since T0), before a crash too
        self._served: dict[str, float] = dict(served or {})
        self.rpo_exposure = rpo_exposure
        self.started: dict[str, float] = {}
        self.finished: dict[str, float] = {}

    def since_t0(self, now: datetime) -> float:
        return (now - self.t0).total_seconds()

    @property
    def breached(self) -> tuple[str, ...]:
        return tuple(sorted(t for t in self._emitted if t != ev.ObjectiveAtRisk.type))

    def step_started(self, step_id: str, now: datetime) -> None:
        with self._lock:
            self.started[step_id] = self.since_t0(now)

    def step_finished(self, step_id: str, now: datetime) -> None:
        with self._lock:
            self.finished[step_id] = self.since_t0(now)
            if self._phased and self.phase_ended_at is None and self._rto_ids <= self.finished.keys():
                self.phase_ended_at = max(self.finished[i] for i in self._rto_ids)

    def step_pending(self, step_id: str) -> None:
        with self._lock:
            self.started.pop(step_id, None)
            self.finished.pop(step_id, None)

    def projection(self, now: datetime) -> float:
        with self._lock:
            return projected_finish(
                self._nodes, now=self.since_t0(now), started=dict(self.started), finished=dict(self.finished)
            )

    def _once(self, event: ev.Event) -> list[ev.Event]:
        if event.type in self._emitted:
            return []
        self._emitted.add(event.type)
        return [event]

    def tick(self, now: datetime) -> list[ev.Event]:
        """Events due now: the projection breaking the RTO, the RTO passing."""
        out: list[ev.Event] = []
        elapsed = self.since_t0(now)
        if ev.ObjectiveAtRisk.type not in self._emitted:
            projected = self.projection(now)
            if projected > self.rto:
                out += self._once(
                    ev.ObjectiveAtRisk(
                        at=now,
                        projected_finish=self.t0 + timedelta(seconds=projected),
                        projected_seconds=projected,
                        rto_seconds=self.rto,
                    )
                )
        if self.stopped_at is None and elapsed > self.rto:
            out += self._once(ev.RtoBreached(at=now, elapsed_seconds=elapsed, rto_seconds=self.rto))
        return out

    @property
    def stopped_at(self) -> float | None:
        """When the RTO clock stopped (seconds since T0): the service restored, or a drill's failover phase done."""
        return self.restored_at if self.restored_at is not None else self.phase_ended_at

    def fact(self, step_id: str, kind: str, data: Mapping[str, Any], now: datetime) -> list[ev.Event]:
        """Read the fact kinds the engine understands (docs/engine.md); return the events they cause."""
        from drctl.actions.runtime import FACT_RPO_EXPOSURE, FACT_SERVICE_RESTORED

        if kind == FACT_RPO_EXPOSURE and isinstance(data.get("seconds"), int | float):
            exposure = float(data["seconds"])
            self.rpo_exposure = exposure if self.rpo_exposure is None else max(self.rpo_exposure, exposure)
            # an upper bound over the RPO is not a measured breach; the verdict weighs it (engine/verdict.py)
            if exposure > self.rpo and data.get("upper_bound") is not True:
                return self._once(ev.RpoBreached(at=now, step=step_id, exposure_seconds=exposure, rpo_seconds=self.rpo))
        counts = not self._phased or step_id in self._rto_ids
        if kind == FACT_SERVICE_RESTORED and self.restored_at is None and counts:
            at = data.get("at")
            when = datetime.fromisoformat(at) if isinstance(at, str) else now
            self._served.setdefault(step_id, self.since_t0(when))
            # the same rule as ``replay.clients_served``: with traffic switches, the last of them serves clients
            if not self._switches:
                self.restored_at = self._served[step_id]
            elif self._switches <= self._served.keys():
                self.restored_at = max(self._served[k] for k in self._switches)
            latest = max(self._served.values())
            # clients reach the target only after the previous TTL: past the RTO, the breach is certain now
            if latest > self.rto:
                return self._once(ev.RtoBreached(at=now, elapsed_seconds=latest, rto_seconds=self.rto))
        return []

    def rto_achieved(self, end: datetime) -> float:
        stopped = self.stopped_at
        return stopped if stopped is not None else self.since_t0(end)

    def final(self, end: datetime) -> list[ev.Event]:
        """At the end of a run: an RTO breach not yet reported (the run ended past the RTO)."""
        achieved = self.rto_achieved(end)
        if achieved > self.rto:
            return self._once(ev.RtoBreached(at=end, elapsed_seconds=achieved, rto_seconds=self.rto))
        return []
