"""What a run will execute: each step of the mode with its action, implementation, parameters (secrets
expanded), dependencies, timeout, budget and retry policy. Built before anything runs, so every problem a run
could meet late (an action without an implementation, a missing ``${ENV}``) stops it at the start instead."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from drctl.actions import registry
from drctl.actions.base import ActionSpec, Params, Scope
from drctl.actions.runtime import Implementation, load_implementation
from drctl.engine import events as ev
from drctl.engine.redact import SecretStore
from drctl.engine.schedule import Node, Schedule, build
from drctl.errors import PlaybookError
from drctl.playbook import graph
from drctl.playbook.enums import Mode
from drctl.playbook.load import LoadedPlaybook
from drctl.playbook.model import RetryPolicy, Step
from drctl.playbook.refs import ENV

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

    @property
    def id(self) -> str:
        return self.step.id

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

    @property
    def name(self) -> str:
        return self.loaded.playbook.name


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


def build_run_plan(loaded: LoadedPlaybook, mode: Mode, environ: Mapping[str, str]) -> RunPlan:
    pb = loaded.playbook
    reverse = REVERSED[mode]
    source, target = graph.direction_for(pb, reverse=reverse)
    scope = Scope(pb, source, target)
    needs = graph.needs_for(pb, mode)
    included = graph.steps_for(pb, mode)
    # every ${ENV} this run may read: the playbook's own settings (channels, subscription) and its steps
    document = pb.model_dump(mode="json", by_alias=True, exclude={"steps"})
    sources = list(_env_strings(document, ""))
    for step in included:
        sources += _env_strings(step.with_, f"steps.{step.id}.with")
    secrets = SecretStore.resolve(sources, environ)
    label = "reverse" if reverse else "forward"
    steps: dict[str, StepPlan] = {}
    cannot_run: list[str] = []
    for step in included:
        spec = registry.get(step.uses)
        params = loaded.params.get((step.id, label))
        if spec is None or params is None:  # validation guarantees both; a mismatch is a bug
            raise PlaybookError(f"step {step.id!r}: no validated parameters for {label} runs")
        implementation = load_implementation(spec)
        if implementation is None:
            cannot_run.append(f"{step.id} ({step.uses})")
            continue
        steps[step.id] = StepPlan(
            step=step,
            spec=spec,
            implementation=implementation,
            params=_expanded(spec, params, secrets),
            needs=needs[step.id],
            mutating=spec.is_mutating(params),
            every=_every(params) if spec.background(step.with_) else None,
            timeout=graph.timeout_of(step).total_seconds(),
            budget=graph.budget_of(step).total_seconds(),
            retry=step.retry or RetryPolicy(),
        )
    if cannot_run:
        raise PlaybookError(
            f"{loaded.display}: this drctl cannot run these steps yet, their actions have no run-time "
            f"implementation: {', '.join(cannot_run)}; nothing was run"
        )
    nodes = tuple(graph.nodes_for(pb, mode))
    excluded = tuple(s.id for s in pb.steps if s.id not in steps)
    return RunPlan(
        loaded=loaded,
        mode=mode,
        scope=scope,
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
