"""standby.* at run time: start web apps, scale scale sets, PATCH any resource, and verify."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from drctl.actions.base import at_least
from drctl.actions.runtime import ActionError, Finding, Implementation, Outcome, StepContext, TransientError
from drctl.actions.standby.spec import PatchParams, ScaleParams, StartWebAppsParams, _apps, scale_plan
from drctl.text import plural

if TYPE_CHECKING:
    from drctl.azure.clients import AzureClients

#: how often to re-read a resource while waiting for it to reach its desired state
SETTLE_POLL = 1.0
#: how long a resumed step watches for the effect of a synchronous write sent before a crash (see Mutation.settle)
SETTLE = 20.0
#: the start of the journal key of a scale set update
SCALE_KEY = "vmss.scale "


def run_start(p: StartWebAppsParams, ctx: StepContext) -> Outcome:
    from drctl.actions.azure_bridge import Mutation, arm, in_parallel, start_or_follow
    from drctl.azure import standby

    group = p.resource_group or ctx.scope.target.resource_group
    apps = _apps(p, ctx.scope)

    def start(app: str) -> bool:
        def running() -> bool:
            return bool(arm(ctx, f"read web app {app}", standby.web_app_state, group, app) == "Running")

        if running():
            return False
        ctx.progress(f"starting web app {app}")

        def send(azure: AzureClients) -> None:
            standby.start_web_app(azure, group, app)

        what = f"start web app {app}"
        mutation = Mutation(key=f"web.start {group}/{app}", what=what, start=send, client="web", settle=SETTLE)
        return start_or_follow(ctx, mutation, reached=running).how != "found"

    # in parallel: each start takes its own time in Azure, and the RTO should pay for the slowest only
    started = [app for app, did in zip(apps, in_parallel(apps, start), strict=True) if did]
    pending = list(apps)
    while pending:
        pending = [a for a in pending if arm(ctx, f"read web app {a}", standby.web_app_state, group, a) != "Running"]
        if pending:
            ctx.sleep(SETTLE_POLL)
    summary = f"{plural(len(apps), 'web app')} Running" + (f" ({len(started)} started)" if started else " (already)")
    return Outcome(summary, changed=bool(started), facts={"started": started, "running": apps})


def done_start(p: StartWebAppsParams, ctx: StepContext) -> bool:
    from drctl.actions.azure_bridge import arm
    from drctl.azure import standby

    group = p.resource_group or ctx.scope.target.resource_group
    return all(
        arm(ctx, f"read web app {app}", standby.web_app_state, group, app) == "Running" for app in _apps(p, ctx.scope)
    )


def preflight_start(p: StartWebAppsParams, ctx: StepContext) -> list[Finding]:
    from drctl.actions.azure_bridge import arm
    from drctl.azure import standby

    group = p.resource_group or ctx.scope.target.resource_group
    findings = []
    for app in _apps(p, ctx.scope):
        state = arm(ctx, f"read web app {app}", standby.web_app_state, group, app)
        findings.append(Finding(f"web app {app}", state, "Running", "ok" if state == "Running" else "info"))
    return findings


def _floors(p: ScaleParams, ctx: StepContext) -> list[tuple[str, int, dict[str, Any]]]:
    """Each target scale set's floor, sized from the source's live capacity when the source answers."""
    from drctl.actions.azure_bridge import AzureFailure, arm
    from drctl.azure import standby

    scope = ctx.scope
    floors = []
    for index, (name, declared, planned) in enumerate(scale_plan(p, scope)):
        explicit = p.scale_sets is not None and p.scale_sets[index].capacity is not None
        basis: dict[str, Any] = {"declared_source_capacity": declared}
        floor = planned
        if not explicit and index < len(scope.source.scale_sets):
            source_name = scope.source.scale_sets[index].name
            try:
                live = arm(
                    ctx,
                    f"read source scale set {source_name}",
                    standby.scale_set_capacity,
                    scope.source.resource_group,
                    source_name,
                )
            except (AzureFailure, TransientError) as exc:
                basis |= {"source_read": "playbook", "source_error": str(exc)}
            else:
                basis |= {"source_read": "live", "live_source_capacity": live}
                floor = at_least(p.min_ratio, live)
        floors.append((name, floor, basis))
    return floors


def _scale(ctx: StepContext, group: str, name: str, floor: int, capacity: Callable[[str], int]) -> None:
    """The scale set update, once: an update still running from an earlier attempt or process is followed."""
    from drctl.actions.azure_bridge import Mutation, start_or_follow
    from drctl.azure import standby

    mutation = Mutation(
        key=f"{SCALE_KEY}{group}/{name} -> {floor}",
        what=f"scale {name} to {floor}",
        start=lambda azure: standby.begin_scale(azure, group, name, floor),
        client="compute",
    )
    start_or_follow(ctx, mutation, reached=lambda: capacity(name) >= floor)


def run_scale(p: ScaleParams, ctx: StepContext) -> Outcome:
    from drctl.actions.azure_bridge import arm, follow_in_flight
    from drctl.azure import standby

    group = p.resource_group or ctx.scope.target.resource_group

    def capacity(name: str) -> int:
        return int(arm(ctx, f"read scale set {name}", standby.scale_set_capacity, group, name))

    # an update accepted before a crash shows its new capacity at once: see it through before reading it
    follow_in_flight(ctx, SCALE_KEY, "compute")
    results: dict[str, Any] = {}
    changed = False
    for name, floor, basis in _floors(p, ctx):
        before = capacity(name)
        after = before
        if before < floor:
            ctx.progress(f"scaling {name} from {before} to {floor}")
            _scale(ctx, group, name, floor, capacity)
            after = capacity(name)
            changed = True
        if after < floor:
            after = arm(ctx, f"read scale set {name}", standby.scale_set_capacity, group, name)
        if after < floor:
            raise ActionError(f"scale set {name} reads {after} after scaling, below the floor {floor}")
        results[name] = {"before": before, "after": after, "floor": floor, **basis}
    summary = ", ".join(f"{n} {r['before']}->{r['after']} (floor {r['floor']})" for n, r in results.items())
    return Outcome(summary, changed=changed, facts={"scale_sets": results})


def done_scale(p: ScaleParams, ctx: StepContext) -> bool:
    from drctl.actions.azure_bridge import arm, open_rounds
    from drctl.azure import standby

    if open_rounds(ctx, SCALE_KEY):
        return False  # an update this run started may still be running: the step follows it to its end

    group = p.resource_group or ctx.scope.target.resource_group
    return all(
        arm(ctx, f"read scale set {name}", standby.scale_set_capacity, group, name) >= floor
        for name, floor, _ in _floors(p, ctx)
    )


def preflight_scale(p: ScaleParams, ctx: StepContext) -> list[Finding]:
    from drctl.actions.azure_bridge import arm
    from drctl.azure import standby

    group = p.resource_group or ctx.scope.target.resource_group
    findings = []
    for name, floor, basis in _floors(p, ctx):
        now = arm(ctx, f"read scale set {name}", standby.scale_set_capacity, group, name)
        note = f"source {basis.get('live_source_capacity', basis.get('declared_source_capacity'))}"
        findings.append(
            Finding(f"scale set {name}", str(now), f">= {floor} ({note})", "ok" if now >= floor else "info")
        )
    return findings


def _subset(wanted: Any, actual: Any) -> bool:
    if isinstance(wanted, dict):
        return isinstance(actual, dict) and all(k in actual and _subset(v, actual[k]) for k, v in wanted.items())
    return bool(wanted == actual)


def run_patch(p: PatchParams, ctx: StepContext) -> Outcome:
    from drctl.actions.azure_bridge import Mutation, arm, start_or_follow
    from drctl.azure import standby

    wanted = p.verify or p.body
    current = arm(ctx, f"read {p.resource_id}", standby.get_resource, p.resource_id, p.api_version)
    if _subset(wanted, current):
        return Outcome(f"{p.resource_id}: already in the desired state")

    def reached() -> bool:
        return _subset(wanted, arm(ctx, f"read {p.resource_id}", standby.get_resource, p.resource_id, p.api_version))

    start_or_follow(
        ctx,
        Mutation(
            key=f"arm.patch {p.resource_id}",
            what=f"PATCH {p.resource_id}",
            start=lambda azure: standby.begin_patch(azure, p.resource_id, p.api_version, p.body),
            settle=SETTLE,
        ),
        reached=reached,
    )
    after = arm(ctx, f"read {p.resource_id}", standby.get_resource, p.resource_id, p.api_version)
    if not _subset(wanted, after):
        raise TransientError(f"{p.resource_id}: the desired state does not read back yet")
    return Outcome(f"{p.resource_id}: patched and verified", changed=True)


def done_patch(p: PatchParams, ctx: StepContext) -> bool:
    from drctl.actions.azure_bridge import arm
    from drctl.azure import standby

    return _subset(
        p.verify or p.body, arm(ctx, f"read {p.resource_id}", standby.get_resource, p.resource_id, p.api_version)
    )


def _part(wanted: Any, actual: Any) -> Any:
    """What ``actual`` holds at the paths ``wanted`` names: the resource's current values, side by side."""
    if isinstance(wanted, dict) and isinstance(actual, dict):
        return {k: _part(v, actual.get(k)) for k, v in wanted.items()}
    return actual


def preflight_patch(p: PatchParams, ctx: StepContext) -> list[Finding]:
    import json

    from drctl.actions.azure_bridge import arm
    from drctl.azure import standby

    wanted = p.verify or p.body
    current = arm(ctx, f"read {p.resource_id}", standby.get_resource, p.resource_id, p.api_version)
    reached = _subset(wanted, current)
    return [
        Finding(
            p.resource_id,
            json.dumps(_part(wanted, current), sort_keys=True),
            json.dumps(wanted, sort_keys=True),
            "ok" if reached else "info",
        )
    ]


START_IMPLEMENTATION = Implementation(run=run_start, done=done_start, preflight=preflight_start)
SCALE_IMPLEMENTATION = Implementation(run=run_scale, done=done_scale, preflight=preflight_scale)
PATCH_IMPLEMENTATION = Implementation(run=run_patch, done=done_patch, preflight=preflight_patch)


def implementation(action: str) -> Implementation[Any] | None:
    """The run-time half of ``action``: how the registry reaches this module when a run starts (``RunModule``)."""
    from drctl.actions.standby.spec import PATCH, SCALE, START_WEB_APPS

    known: dict[str, Implementation[Any]] = {
        START_WEB_APPS.name: START_IMPLEMENTATION,
        SCALE.name: SCALE_IMPLEMENTATION,
        PATCH.name: PATCH_IMPLEMENTATION,
    }
    return known.get(action)
