"""A drill as one run in three phases: the drill steps forward, a verification hold, the same steps reversed.

``build_drill_plan`` turns a playbook into one run plan whose step keys carry their phase, since every playbook
step runs twice (``failover:dns-swap``, then ``failback:dns-swap``), with the hold (``hold``) between them:

- **failover**: the steps ``when`` keeps for drills, source -> target. Its steps are the plan's ``nodes``: the RTO
  clock, the projection and the critical path are about this phase alone.
- **hold**: waits ``drill.hold`` on the target, probing its ``health_url`` every ``drill.probe_interval``
  (``hold.py``). It needs every last step of the failover phase. A failed hold still fails back (the source is
  known good, the target just failed its check) and the drill still fails (``must_pass``).
- **failback**: the same steps, target -> source, each after the hold; the failback's own target checks verify
  the source. Background steps (a periodic ``notify``) are not repeated here: the failover phase's cadence goes
  on until the run ends, and a second one would message everybody twice.

Every step of both phases runs with mode ``drill`` (notifications go only to drill audiences, marked [DRILL]).
A drill never forces: ``planning.drill_rules.forcing_steps`` names a drill step that could lose data, and the
drill refuses to start.
The change-window rule (``check_window``) is applied when a drill starts, on the run's clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from drctl.actions import stepgraph
from drctl.actions.base import Scope
from drctl.core.schedule import Node, build
from drctl.engine import events as ev
from drctl.engine.hold import HOLD_SPEC, HOLD_STEP, HoldParams, implementation
from drctl.engine.runplan import DrillShape, RunPlan, StepPlan, plan_step, refuse_unrunnable, resolve_secrets
from drctl.errors import PlaybookError, UsageError
from drctl.planning.drill_rules import describe_window, forcing_steps
from drctl.planning.load import LoadedPlaybook
from drctl.playbook import graph
from drctl.playbook.enums import Mode
from drctl.playbook.model import ChangeWindow, Playbook, RetryPolicy
from drctl.playbook.secrets import SecretStore
from drctl.playbook.windows import current, next_opening

HOLD_KEY = "hold"


def key(phase: ev.Phase, step_id: str) -> str:
    """A playbook step's key in a drill run."""
    return f"{phase.value}:{step_id}"


def build_drill_plan(loaded: LoadedPlaybook, environ: Mapping[str, str]) -> RunPlan:
    pb = loaded.playbook
    forcing = forcing_steps(loaded)
    if forcing:
        raise PlaybookError(
            f"{loaded.display}: a drill is a planned failover and never loses data, but these drill steps could "
            f"force: {'; '.join(forcing)}; nothing was run",
            ["hint: make them planned, or leave them out of drills with `when: [failover]`"],
        )
    included = graph.steps_for(pb, Mode.DRILL)
    needs = graph.needs_for(pb, Mode.DRILL)
    secrets = resolve_secrets(loaded, included, environ)
    forward = Scope(pb, *graph.direction_for(pb, reverse=False))
    reverse = Scope(pb, *graph.direction_for(pb, reverse=True))
    background = {s.id for s in included if stepgraph.is_background(s)}
    steps: dict[str, StepPlan] = {}
    cannot_run: list[str] = []

    def add(phase: ev.Phase, label: str, step_needs: dict[str, tuple[str, ...]], scope: Scope | None) -> None:
        for step in included:
            if step.id not in step_needs:
                continue
            planned = plan_step(loaded, step, label=label, needs=step_needs[step.id], secrets=secrets)
            if planned is None:
                cannot_run.append(f"{step.id} ({step.uses})")
                continue
            steps[key(phase, step.id)] = dataclasses.replace(planned, key=key(phase, step.id), phase=phase, scope=scope)

    failover_needs = {sid: tuple(key(ev.Phase.FAILOVER, d) for d in deps) for sid, deps in needs.items()}
    add(ev.Phase.FAILOVER, "forward", failover_needs, None)
    refuse_unrunnable(loaded, sorted(set(cannot_run)))
    failover_keys = list(steps)
    hold = _hold_step(pb, forward, secrets, _sinks(failover_keys, steps))
    steps[HOLD_KEY] = hold
    add(ev.Phase.FAILBACK, "reverse", _failback_needs(needs, background), reverse)
    nodes = tuple(Node(k, steps[k].needs, steps[k].budget, steps[k].every is not None) for k in failover_keys)
    phases = (
        ev.PhaseInfo(ev.Phase.FAILOVER, forward.source_name, forward.target_name),
        ev.PhaseInfo(ev.Phase.HOLD, forward.source_name, forward.target_name),
        ev.PhaseInfo(ev.Phase.FAILBACK, reverse.source_name, reverse.target_name),
    )
    assert isinstance(hold.params, HoldParams)
    return RunPlan(
        loaded=loaded,
        mode=Mode.DRILL,
        scope=forward,
        steps=steps,
        excluded=tuple(s.id for s in pb.steps if Mode.DRILL not in s.when),
        nodes=nodes,
        schedule=build(nodes),
        secrets=secrets,
        drill=DrillShape(
            hold_seconds=pb.drill.hold.total_seconds(),
            probe_interval_seconds=pb.drill.probe_interval.total_seconds(),
            probe_url=hold.params.url,
            phases=phases,
        ),
    )


def _sinks(keys: list[str], steps: Mapping[str, StepPlan]) -> tuple[str, ...]:
    """The failover phase's last steps (nobody in the phase needs them): what the hold waits for."""
    needed = {d for k in keys for d in steps[k].needs}
    return tuple(k for k in keys if k not in needed)


def _failback_needs(needs: Mapping[str, tuple[str, ...]], background: set[str]) -> dict[str, tuple[str, ...]]:
    """Failback steps' needs as keys: a step with no needs waits for the hold; a background step left out of
    the failback phase passes its own needs on, so leaving it out never lets a step jump ahead."""

    def through(dep: str) -> list[str]:
        if dep not in background:
            return [key(ev.Phase.FAILBACK, dep)]
        inherited = [k for d in needs.get(dep, ()) for k in through(d)]
        return inherited or [HOLD_KEY]

    out: dict[str, tuple[str, ...]] = {}
    for sid, deps in needs.items():
        if sid in background:
            continue
        found = [k for d in deps for k in through(d)]
        out[sid] = tuple(dict.fromkeys(found)) or (HOLD_KEY,)
    return out


def _hold_step(pb: Playbook, forward: Scope, secrets: SecretStore, needs: tuple[str, ...]) -> StepPlan:
    url = forward.target.health_url
    hold, interval = pb.drill.hold.total_seconds(), pb.drill.probe_interval.total_seconds()
    params = HoldParams(url=str(secrets.expand(url)) if url is not None else None, hold=hold, interval=interval)
    return StepPlan(
        step=HOLD_STEP,
        spec=HOLD_SPEC,
        implementation=implementation(),
        params=params,
        needs=needs,
        mutating=False,
        every=None,
        # room for the last probe and the journal after the hold itself; a hung probe cannot hold the drill
        timeout=hold + interval + 120.0,
        budget=hold,
        retry=RetryPolicy(),
        key=HOLD_KEY,
        phase=ev.Phase.HOLD,
        must_pass=True,
    )


def check_window(
    windows: list[ChangeWindow], now: datetime, *, outside_window: bool, reason: str | None, sandbox: bool = False
) -> ev.WindowCheck:
    """The change-window rule at a drill's start: inside a window, or outside with the operator's reason.

    Raises ``UsageError`` (exit 2) outside every window without ``--outside-window --reason``, naming the next
    window. Without declared windows a drill may run at any time. A drill against the sandbox changes nothing
    real, so the rule does not apply to it (the check is journaled all the same).
    """
    reason = (reason or "").strip() or None
    if outside_window and reason is None:
        raise UsageError('--outside-window needs --reason "...": it is journaled with the drill')
    if not windows:
        return ev.WindowCheck(
            declared=False, inside=False, override_reason=reason if outside_window else None, sandbox=sandbox
        )
    opening = current(windows, now)
    if opening is not None:
        ends = opening.end.astimezone(ZoneInfo(opening.window.timezone))
        described = f"{opening.describe()} until {ends:%H:%M}"
        return ev.WindowCheck(declared=True, inside=True, window=described, sandbox=sandbox)
    upcoming = next_opening(windows, now)
    following = upcoming.describe() if upcoming is not None else None
    if sandbox:
        return ev.WindowCheck(declared=True, inside=False, override_reason=reason, next_opening=following, sandbox=True)
    if not outside_window:
        raise UsageError(
            f"the drill is refused: now ({_local(now, windows[0])}) is outside the playbook's change windows "
            f"({'; '.join(describe_window(w) for w in windows)}); the next opens "
            f"{following or 'not within two weeks'}",
            hint='to drill outside a window anyway: --outside-window --reason "..." (journaled)',
        )
    return ev.WindowCheck(declared=True, inside=False, override_reason=reason, next_opening=following)


def _local(now: datetime, window: ChangeWindow) -> str:
    local = now.astimezone(ZoneInfo(window.timezone))
    return f"{local:%a %Y-%m-%d %H:%M} {local.tzname()}"
