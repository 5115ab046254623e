"""What a run will execute: each step of the mode with its action, implementation, parameters (secrets
expanded), dependencies, timeout, budget and retry policy. Built before anything runs, so every problem a run
could meet late (an action without an implementation, a missing ``${ENV}``) stops it at the start instead."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from drctl.actions import registry, stepgraph
from drctl.actions.base import ActionSpec, Params, Scope
from drctl.actions.runtime import Implementation, load_implementation
from drctl.core.schedule import Node, Schedule, build
from drctl.engine import events as ev
from drctl.errors import PlaybookError
from drctl.planning.load import LoadedPlaybook
from drctl.playbook import graph
from drctl.playbook.enums import Mode
from drctl.playbook.model import RetryPolicy, Step
from drctl.playbook.refs import ENV
from drctl.playbook.secrets import SecretStore

#: failback runs the playbook's direction reversed; failover and drill run it forward
REVERSED = {Mode.FAILOVER: False, Mode.DRILL: False, Mode.FAILBACK: True}


@dataclass(frozen=True, kw_only=True)
class StepPlan:
    step: Step
    spec: ActionSpec[Any]
    implementation: Implementation[Any]
    #: validated, estate references resolved, ``${ENV}`` expanded: never journaled as such
    params: Params
    needs: tuple[str, ...]
    mutating: bool
    every: float | None
    timeout: float
    budget: float
    retry: RetryPolicy
    #: the step's key in the run: the playbook step id, or ``<phase>:<id>`` in a drill (see ``drill.py``)
    key: str = ""
    #: a drill's phase, None otherwise
    phase: ev.Phase | None = None
    #: the direction this step runs in when it differs from the run's (a drill's failback phase)
    scope: Scope | None = None
    #: a failure lets the dependents run (``on_failure: continue``) but still fails the run at its end (a
    #: drill's hold: the drill fails back, and the verdict says the hold failed)
    must_pass: bool = False

    @property
    def id(self) -> str:
        return self.key or self.step.id

    def info(self) -> ev.StepInfo:
        return ev.StepInfo(
            id=self.id,
            name=self.step.name,
            uses=self.step.uses,
            needs=self.needs,
            budget_seconds=self.budget,
            timeout_seconds=self.timeout,
            mutating=self.mutating,
            on_failure=self.step.on_failure.value,
            attempts=self.retry.attempts,
            background_every_seconds=self.every,
            phase=self.phase,
        )


@dataclass(frozen=True, kw_only=True)
class RunPlan:
    loaded: LoadedPlaybook
    mode: Mode
    scope: Scope
    #: in file order
    steps: dict[str, StepPlan]
    excluded: tuple[str, ...]
    nodes: tuple[Node, ...]
    schedule: Schedule
    secrets: SecretStore
    #: a drill's shape (phases, hold); None for failover and failback runs
    drill: DrillShape | None = None

    @property
    def name(self) -> str:
        return self.loaded.playbook.name

    @property
    def rto_steps(self) -> frozenset[str]:
        """The steps the RTO is measured over: all of them, or a drill's failover phase (``nodes``)."""
        return frozenset(n.id for n in self.nodes)


@dataclass(frozen=True)
class DrillShape:
    """A drill plan's phases and hold, known before it starts (the change-window check comes at the start)."""

    hold_seconds: float
    probe_interval_seconds: float
    probe_url: str | None
    phases: tuple[ev.PhaseInfo, ...]


def _env_strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if ENV.search(value):
            yield where, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _env_strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _env_strings(item, f"{where}[{index}]")


def plan_for_mode(loaded: LoadedPlaybook, mode: Mode, environ: Mapping[str, str]) -> RunPlan:
    """The run plan ``drctl failover``, ``failback``, ``drill`` and ``resume`` run: a drill has phases."""
    if mode is Mode.DRILL:
        from drctl.engine.drill import build_drill_plan

        return build_drill_plan(loaded, environ)
    return build_run_plan(loaded, mode, environ)


def resolve_secrets(loaded: LoadedPlaybook, included: list[Step], environ: Mapping[str, str]) -> SecretStore:
    """Every ``${ENV}`` a run may read: the playbook's own settings (channels, subscription) and its steps'."""
    document = loaded.playbook.model_dump(mode="json", by_alias=True, exclude={"steps"})
    sources = list(_env_strings(document, ""))
    for step in included:
        sources += _env_strings(step.with_, f"steps.{step.id}.with")
    return SecretStore.resolve(sources, environ)


def plan_step(
    loaded: LoadedPlaybook, step: Step, *, label: str, needs: tuple[str, ...], secrets: SecretStore
) -> StepPlan | None:
    """One step for a run in one direction (``label``: forward or reverse); None when its action cannot run."""
    spec = registry.get(step.uses)
    params = loaded.params.get((step.id, label))
    if spec is None or params is None:  # validation guarantees both; a mismatch is a bug
        raise PlaybookError(f"step {step.id!r}: no validated parameters for {label} runs")
    implementation = load_implementation(spec)
    if implementation is None:
        return None
    return StepPlan(
        step=step,
        spec=spec,
        implementation=implementation,
        params=_expanded(spec, params, secrets),
        needs=needs,
        mutating=spec.is_mutating(params),
        every=_every(params) if spec.background(step.with_) else None,
        timeout=stepgraph.timeout_of(step).total_seconds(),
        budget=stepgraph.budget_of(step).total_seconds(),
        retry=step.retry or RetryPolicy(),
    )


def refuse_unrunnable(loaded: LoadedPlaybook, cannot_run: list[str]) -> None:
    if cannot_run:
        raise PlaybookError(
            f"{loaded.display}: this drctl cannot run these steps yet, their actions have no run-time "
            f"implementation: {', '.join(cannot_run)}; nothing was run"
        )


def build_run_plan(loaded: LoadedPlaybook, mode: Mode, environ: Mapping[str, str]) -> RunPlan:
    """The plan of one direction: failover (forward), failback (reverse); a drill's halves are built from it."""
    pb = loaded.playbook
    reverse = REVERSED[mode]
    source, target = graph.direction_for(pb, reverse=reverse)
    needs = graph.needs_for(pb, mode)
    included = graph.steps_for(pb, mode)
    secrets = resolve_secrets(loaded, included, environ)
    label = "reverse" if reverse else "forward"
    steps: dict[str, StepPlan] = {}
    cannot_run: list[str] = []
    for step in included:
        planned = plan_step(loaded, step, label=label, needs=needs[step.id], secrets=secrets)
        if planned is None:
            cannot_run.append(f"{step.id} ({step.uses})")
        else:
            steps[step.id] = planned
    refuse_unrunnable(loaded, cannot_run)
    nodes = tuple(stepgraph.nodes_for(pb, mode))
    excluded = tuple(s.id for s in pb.steps if s.id not in steps)
    return RunPlan(
        loaded=loaded,
        mode=mode,
        scope=Scope(pb, source, target),
        steps=steps,
        excluded=excluded,
        nodes=nodes,
        schedule=build(nodes),
        secrets=secrets,
    )


def _expanded(spec: ActionSpec[Any], params: Params, secrets: SecretStore) -> Params:
    data = params.model_dump(mode="json", by_alias=True)
    if not any(True for _ in _env_strings(data, "")):
        return params
    expanded: Params = spec.params.model_validate(secrets.expand(data))
    return expanded


def _every(params: Params) -> float | None:
    """A background action's period: its ``every`` parameter (the convention ``ActionSpec.background`` names)."""
    every = getattr(params, "every", None)
    return every.total_seconds() if every is not None else None
