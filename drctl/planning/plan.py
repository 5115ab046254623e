"""The resolved plan of a playbook in one direction: waves, budgets against the RTO, intended changes. Pure."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from drctl.actions import registry, stepgraph
from drctl.actions.base import Scope
from drctl.core import schedule
from drctl.durations import format_duration
from drctl.planning.load import LoadedPlaybook
from drctl.playbook import graph
from drctl.playbook.enums import Audience, Mode

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
    #: a drill's hold and failback half (``mode`` drill, forward); None otherwise
    drill: DrillPlan | None = None

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
        } | ({"drill": self.drill.as_dict()} if self.drill is not None else {})

    @property
    def t0_meaning(self) -> str:
        """What T0 is for this plan's run."""
        if self.mode is Mode.DRILL:
            return "the failback's start, after the hold" if self.reverse else "the drill's start"
        if self.mode is Mode.FAILBACK:
            return "the failback's start"
        return "the declared disaster time, or the run's start"


@dataclass(frozen=True)
class DrillPlan:
    """The rest of a drill after its failover half: the hold on the target, then the same steps reversed."""

    hold_seconds: float
    probe_interval_seconds: float
    probe_url: str | None
    #: the playbook's change windows, described; empty: drills may run at any time
    windows: tuple[str, ...]
    #: steps that could force a failover: ``drctl drill`` refuses to start while there are any
    refusals: tuple[str, ...]
    #: background steps that run once per drill (their cadence goes on through the hold and the failback)
    once_per_drill: tuple[str, ...]
    #: ``sql.failover`` steps whose playbook mode may force: in a drill they run planned only
    planned_only: tuple[str, ...]
    #: channels the drill's messages go to (their audiences include drill), and those they never reach
    drill_channels: tuple[str, ...]
    production_only_channels: tuple[str, ...]
    failback: Plan

    def total(self, failover: Plan) -> float:
        """The whole drill by budgets: the failover half's critical path, the hold, the failback's."""
        return failover.length + self.hold_seconds + self.failback.length

    def as_dict(self) -> dict[str, Any]:
        return {
            "hold_seconds": self.hold_seconds,
            "probe_interval_seconds": self.probe_interval_seconds,
            "probe_url": self.probe_url,
            "change_windows": list(self.windows),
            "refusals": list(self.refusals),
            "once_per_drill": list(self.once_per_drill),
            "planned_only": list(self.planned_only),
            "drill_channels": list(self.drill_channels),
            "production_only_channels": list(self.production_only_channels),
            "failback": self.failback.as_dict(),
        }


def build_plan(loaded: LoadedPlaybook, *, mode: Mode = Mode.FAILOVER, reverse: bool | None = None) -> Plan:
    """Plan ``mode``; failback runs reversed unless ``reverse`` says otherwise."""
    pb = loaded.playbook
    if reverse is None:
        reverse = mode is Mode.FAILBACK
    source, target = graph.direction_for(pb, reverse=reverse)
    scope = Scope(pb, source, target)
    label = "reverse" if reverse else "forward"
    nodes = stepgraph.nodes_for(pb, mode)
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
                    background=stepgraph.is_background(step),
                    needs=next(n.needs for n in nodes if n.id == step_id),
                    budget=stepgraph.budget_of(step).total_seconds(),
                    timeout=stepgraph.timeout_of(step).total_seconds(),
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
    drill = _drill(loaded, scope) if mode is Mode.DRILL and not reverse else None
    if drill is not None and drill.refusals:
        warnings.append(f"drctl drill refuses to start: these steps could force: {'; '.join(drill.refusals)}")
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
        drill=drill,
    )


def _drill(loaded: LoadedPlaybook, forward: Scope) -> DrillPlan:
    from drctl.planning.drill_rules import describe_window, forcing_steps

    pb = loaded.playbook
    steps = graph.steps_for(pb, Mode.DRILL)
    channels = pb.notifications.channels if pb.notifications else {}
    used = dict.fromkeys(c for s in steps if s.uses == "notify" for c in s.with_.get("channels", []) if c in channels)
    drill_channels = tuple(c for c in used if Audience.DRILL in channels[c].audiences)
    background = {s.id for s in steps if stepgraph.is_background(s)}
    return DrillPlan(
        hold_seconds=pb.drill.hold.total_seconds(),
        probe_interval_seconds=pb.drill.probe_interval.total_seconds(),
        probe_url=forward.target.health_url,
        windows=tuple(describe_window(w) for w in pb.change_windows),
        refusals=tuple(forcing_steps(loaded)),
        once_per_drill=tuple(sorted(background)),
        planned_only=tuple(
            s.id for s in steps if s.uses == "sql.failover" and s.with_.get("mode", "planned") != "planned"
        ),
        drill_channels=drill_channels,
        production_only_channels=tuple(c for c in used if c not in drill_channels),
        failback=_without(build_plan(loaded, mode=Mode.DRILL, reverse=True), background),
    )


def _without(plan: Plan, left_out: set[str]) -> Plan:
    """A drill's failback half as the drill runs it: without the periodic steps, whose cadence goes on."""
    waves = tuple(w for w in (tuple(s for s in wave if s.id not in left_out) for wave in plan.waves) if w)
    return replace(plan, waves=waves)
