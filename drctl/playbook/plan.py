"""The resolved plan of a playbook in one direction: waves, budgets against the RTO, intended changes. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drctl.actions import registry
from drctl.actions.base import Scope
from drctl.durations import format_duration
from drctl.engine import schedule
from drctl.playbook import graph
from drctl.playbook.enums import Mode
from drctl.playbook.load import LoadedPlaybook

PLAN_SCHEMA = "drctl.plan/v1"


@dataclass(frozen=True)
class PlannedStep:
    id: str
    name: str | None
    uses: str
    mutating: bool
    background: bool
    needs: tuple[str, ...]
    budget: float
    timeout: float
    attempts: int
    on_failure: str
    start: float
    finish: float
    critical: bool
    intents: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    playbook: str
    file: str
    sha256: str
    mode: Mode
    reverse: bool
    source: str
    source_location: str
    target: str
    target_location: str
    rto: float
    rpo: float
    mttr: float | None
    waves: tuple[tuple[PlannedStep, ...], ...]
    critical_path: tuple[str, ...]
    length: float
    warnings: tuple[str, ...]
    skipped: tuple[str, ...]

    @property
    def margin(self) -> float:
        return self.rto - self.length

    @property
    def steps(self) -> list[PlannedStep]:
        return [s for wave in self.waves for s in wave]

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": PLAN_SCHEMA,
            "playbook": self.playbook,
            "file": self.file,
            "sha256": self.sha256,
            "mode": self.mode.value,
            "direction": "reverse" if self.reverse else "forward",
            "source": {"region": self.source, "location": self.source_location},
            "target": {"region": self.target, "location": self.target_location},
            "objectives": {"rto_seconds": self.rto, "rpo_seconds": self.rpo, "mttr_seconds": self.mttr},
            "critical_path": {
                "steps": list(self.critical_path),
                "seconds": self.length,
                "margin_seconds": self.margin,
            },
            "waves": [
                [
                    {
                        "id": s.id,
                        "name": s.name,
                        "uses": s.uses,
                        "mutating": s.mutating,
                        "background": s.background,
                        "needs": list(s.needs),
                        "budget_seconds": s.budget,
                        "timeout_seconds": s.timeout,
                        "attempts": s.attempts,
                        "on_failure": s.on_failure,
                        "start_seconds": s.start,
                        "finish_seconds": s.finish,
                        "critical": s.critical,
                        "intents": list(s.intents),
                    }
                    for s in wave
                ]
                for wave in self.waves
            ],
            "skipped": list(self.skipped),
            "warnings": list(self.warnings),
        }


def build_plan(loaded: LoadedPlaybook, *, mode: Mode = Mode.FAILOVER, reverse: bool | None = None) -> Plan:
    """Plan ``mode``; failback runs reversed unless ``reverse`` says otherwise."""
    pb = loaded.playbook
    if reverse is None:
        reverse = mode is Mode.FAILBACK
    source, target = graph.direction_for(pb, reverse=reverse)
    scope = Scope(pb, source, target)
    label = "reverse" if reverse else "forward"
    nodes = graph.nodes_for(pb, mode)
    sched = schedule.build(nodes)
    critical = set(sched.critical_path)
    by_id = {s.id: s for s in pb.steps}
    waves = []
    for wave in sched.waves:
        planned = []
        for step_id in wave:
            step = by_id[step_id]
            spec = registry.ACTIONS[step.uses]
            params = loaded.params.get((step_id, label))
            intents = (
                tuple(spec.describe(params, scope))
                if params is not None
                else ("(parameters were validated for the other direction only)",)
            )
            timing = sched.timing[step_id]
            planned.append(
                PlannedStep(
                    id=step_id,
                    name=step.name,
                    uses=step.uses,
                    mutating=spec.mutating,
                    background=graph.is_background(step),
                    needs=next(n.needs for n in nodes if n.id == step_id),
                    budget=graph.budget_of(step).total_seconds(),
                    timeout=graph.timeout_of(step).total_seconds(),
                    attempts=step.retry.attempts if step.retry else 1,
                    on_failure=step.on_failure.value,
                    start=timing.earliest_start,
                    finish=timing.earliest_finish,
                    critical=step_id in critical,
                    intents=intents,
                )
            )
        waves.append(tuple(planned))
    rto = pb.objectives.rto.total_seconds()
    warnings = [str(w) for w in loaded.warnings]
    if sched.length > rto:
        warnings.append(f"critical path {format_duration(sched.length)} exceeds the RTO {format_duration(rto)}")
    return Plan(
        playbook=pb.name,
        file=loaded.display,
        sha256=loaded.sha256,
        mode=mode,
        reverse=reverse,
        source=source,
        source_location=scope.source.location,
        target=target,
        target_location=scope.target.location,
        rto=rto,
        rpo=pb.objectives.rpo.total_seconds(),
        mttr=pb.objectives.mttr.total_seconds() if pb.objectives.mttr else None,
        waves=tuple(waves),
        critical_path=sched.critical_path,
        length=sched.length,
        warnings=tuple(warnings),
        skipped=tuple(s.id for s in pb.steps if mode not in s.when),
    )
