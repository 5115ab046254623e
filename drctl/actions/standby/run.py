"""standby.* at run time: start web apps, scale scale sets, PATCH any resource, and verify."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from drctl.actions.base import at_least
from drctl.actions.prior import (
    EARLIER_PRIORS,
    FACT_PRIOR,
    PriorHistory,
    PriorState,
    Returner,
    first_priors,
    record_prior,
)
from drctl.actions.runtime import ActionError, Finding, Implementation, Outcome, StepContext, TransientError
from drctl.actions.standby.facts import FACT_NOTHING, FACT_RETURNED
from drctl.actions.standby.spec import (
    PatchParams,
    ReturnParams,
    ScaleParams,
    StartWebAppsParams,
    _apps,
    return_region,
    scale_plan,
)
from drctl.playbook.enums import Mode
from drctl.text import plural

if TYPE_CHECKING:
    from drctl.azure.clients import AzureClients

#: how often to re-read a resource while waiting for it to reach its desired state
SETTLE_POLL = 1.0
#: how long a resumed step watches for the effect of a synchronous write sent before a crash (see Mutation.settle)
SETTLE = 20.0
#: the start of the journal key of a scale set update
SCALE_KEY = "vmss.scale "


def _scale_prefix(group: str, name: str) -> str:
    """The start of the journal key of every update of one scale set (the floor, which ends it, may differ between
    attempts: it is sized from the source's live capacity)."""
    return f"{SCALE_KEY}{group}/{name} -> "


def _rg(group: str) -> dict[str, str]:
    return {"resource_group": group}


def _record_prior(ctx: StepContext, key: str, prior: PriorState) -> None:
    """Journal ``prior`` before the first intent to change the resource (``key``: its mutation's journal key, or
    the start of it). Once an intent is journaled the change may have happened before a crash, and what a resumed
    step reads is no longer the state before the run: it records nothing then. Between the read and this record
    nothing was sent, so a crash there loses nothing a second read would not find again; between this record and
    the intent, ``record_prior`` keeps the first record."""
    from drctl.actions.azure_bridge import intended

    if intended(ctx, key):
        return
    record_prior(ctx, prior)


def run_start(p: StartWebAppsParams, ctx: StepContext) -> Outcome:
    from drctl.actions.azure_bridge import Mutation, arm, in_parallel, start_or_follow
    from drctl.azure import standby

    group = p.resource_group or ctx.scope.target.resource_group
    apps = _apps(p, ctx.scope)

    def start(app: str) -> bool:
        def running() -> bool:
            return bool(arm(ctx, f"read web app {app}", standby.web_app_state, group, app) == "Running")

        key = f"web.start {group}/{app}"
        found = arm(ctx, f"read web app {app}", standby.web_app_state, group, app)
        if found == "Running":
            return False
        _record_prior(ctx, key, PriorState("web_app", app, ctx.scope.target_name, {"state": found, **_rg(group)}))
        ctx.progress(f"starting web app {app}")

        def send(azure: AzureClients) -> None:
            standby.start_web_app(azure, group, app)

        what = f"start web app {app}"
        mutation = Mutation(key=key, what=what, start=send, client="web", settle=SETTLE)
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
        key=f"{_scale_prefix(group, name)}{floor}",
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
            prior = PriorState("scale_set", name, ctx.scope.target_name, {"capacity": before, **_rg(group)})
            _record_prior(ctx, _scale_prefix(group, name), prior)
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
    from drctl.actions.standby.returning import prior_values
    from drctl.azure import standby

    wanted = p.verify or p.body
    current = arm(ctx, f"read {p.resource_id}", standby.get_resource, p.resource_id, p.api_version)
    if _subset(wanted, current):
        return Outcome(f"{p.resource_id}: already in the desired state")

    def reached() -> bool:
        return _subset(wanted, arm(ctx, f"read {p.resource_id}", standby.get_resource, p.resource_id, p.api_version))

    key = f"arm.patch {p.resource_id}"
    # the values the body is about to overwrite, at the body's own paths: what returning the resource PATCHes back
    before = {"api_version": p.api_version, "body": prior_values(p.body, current)}
    _record_prior(ctx, key, PriorState("arm.patch", p.resource_id, ctx.scope.target_name, before))
    start_or_follow(
        ctx,
        Mutation(
            key=key,
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


# ---- standby.return --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Priors:
    region: str
    #: each resource's state before the run changed it, in the order the run changed them
    priors: list[PriorState]
    #: the run that journaled them: this one, or (a failback that changed nothing there) an earlier one
    run_id: str | None
    #: where they were looked for, for the fact that says nothing was found
    looked: str


def _priors(p: ReturnParams, ctx: StepContext) -> _Priors:
    """The priors to return ``p``'s region to: this run's, else (a failback run only) the latest earlier run's.

    Only a failback reads earlier runs: after a real failover the failback is a run of its own, and the priors are
    in the failover run's journal. A drill's failback phase finds its own failover phase's; a drill's failover phase
    and a failover run leave a region no standby step of theirs changed, and an earlier run's priors for it (a
    failback that started the primary's apps) must never stop the region that serves."""
    region = return_region(p, ctx.scope)
    own = first_priors(ctx.run_journaled(FACT_PRIOR), region)
    if own or ctx.mode is not Mode.FAILBACK:
        return _Priors(region, own, ctx.run_id if own else None, "this run")
    try:
        history: PriorHistory = ctx.services.get(EARLIER_PRIORS)
    except KeyError:
        return _Priors(region, [], None, "this run (earlier runs cannot be read here)")
    earlier = history.latest(region)
    if earlier is None or not earlier.priors:
        return _Priors(region, [], None, "this run and every earlier run of this application")
    return _Priors(region, list(earlier.priors), earlier.run_id, f"run {earlier.run_id}")


def _returners() -> dict[str, Returner]:
    """Each prior kind's returner, from every registered family that offers one (loaded now, at run time)."""
    from drctl.actions import registry

    found: dict[str, Returner] = {}
    for family in registry.FAMILIES:
        if family.returner is None:
            continue
        returner = family.returner()
        for kind in returner.kinds:
            found.setdefault(kind, returner)
    return found


def _read(returner: Returner | None, ctx: StepContext, prior: PriorState) -> dict[str, Any] | None:
    """What the resource reads now, when its returner can say (an optional ``current``); None otherwise."""
    current = getattr(returner, "current", None)
    if not callable(current):
        return None
    try:
        found = current(ctx, prior)
    except (ActionError, TransientError) as exc:
        return {"error": str(exc)}
    return dict(found) if isinstance(found, dict) else None


def _same(a: PriorState, data: dict[str, Any]) -> bool:
    return (a.kind, a.name, a.region) == (data.get("kind"), data.get("name"), data.get("region"))


def run_return(p: ReturnParams, ctx: StepContext) -> Outcome:
    found = _priors(p, ctx)
    region = found.region
    if not found.priors:
        message = f"nothing journaled: DR region left as it is ({region}; looked in {found.looked})"
        if ctx.mode is not Mode.FAILBACK:
            message = f"nothing journaled: {region} left as it is (no standby step of this run changed it)"
        ctx.record(FACT_NOTHING, {"region": region, "looked": found.looked, "message": message})
        return Outcome(message, facts={"region": region, "returned": []})
    if found.run_id != ctx.run_id:
        ctx.progress(f"this run changed nothing in {region}: returning it to the state run {found.run_id} found")
    returners = _returners()
    done_before = ctx.journaled(FACT_RETURNED)
    returned: list[str] = []
    failed: list[str] = []
    changed = False
    # the last change first: a resource changed twice goes back through the states it went through
    for prior in reversed(found.priors):
        label = f"{prior.kind} {prior.name}"
        if any(_same(prior, d) and d.get("verified") for d in done_before):
            returned.append(label)  # returned and journaled by an attempt before this one
            continue
        fact: dict[str, Any] = {**prior.to_fact(), "to": dict(prior.state), "priors_run": found.run_id}
        fact.pop("state")
        returner = returners.get(prior.kind)
        if returner is None:
            error = f"no action family returns {prior.kind!r} resources"
            ctx.record(FACT_RETURNED, {**fact, "from": None, "verified": False, "error": error})
            failed.append(f"{label}: {error}")
            continue
        before = _read(returner, ctx, prior)
        try:
            detail = returner.restore(ctx, prior)
        except TransientError:
            raise  # the step's retry policy decides; what was returned so far is journaled and not redone
        except ActionError as exc:
            ctx.record(FACT_RETURNED, {**fact, "from": before, "verified": False, "error": str(exc)})
            failed.append(f"{label}: {exc}")
            continue
        changed = changed or not detail.lower().startswith("already")
        ctx.record(FACT_RETURNED, {**fact, "from": before, "verified": True, "detail": detail})
        returned.append(label)
    if failed:
        raise ActionError(f"{region} is not back to warm standby: {'; '.join(failed)}")
    origin = "" if found.run_id == ctx.run_id else f" (the state run {found.run_id} found)"
    summary = f"{region} back to warm standby{origin}: {plural(len(returned), 'resource')} returned and verified"
    return Outcome(summary, changed=changed, facts={"region": region, "returned": returned, "priors_run": found.run_id})


def done_return(p: ReturnParams, ctx: StepContext) -> bool:
    from drctl.actions.azure_bridge import open_rounds

    if open_rounds(ctx, "return."):
        return False  # a return this step started may still be running: the step follows it to its end
    found = _priors(p, ctx)
    if not found.priors:
        return False  # running it again costs nothing and journals that nothing was there to return
    returners = _returners()
    for prior in found.priors:
        reached = getattr(returners.get(prior.kind), "reached", None)
        if not callable(reached) or not reached(ctx, prior):
            return False  # a returner that cannot say is asked to restore again, which is idempotent
    return True


def preflight_return(p: ReturnParams, ctx: StepContext) -> list[Finding]:
    from drctl.actions.standby.facts import state_text

    found = _priors(p, ctx)
    if not found.priors:
        return [Finding(found.region, f"nothing journaled in {found.looked}", None, "info", "left as it is")]
    returners = _returners()
    findings = []
    for prior in found.priors:
        returner = returners.get(prior.kind)
        now = _read(returner, ctx, prior)
        if returner is None:
            findings.append(Finding(f"{prior.kind} {prior.name}", None, state_text(prior.state), "error"))
            continue
        reached = getattr(returner, "reached", None)
        there = callable(reached) and now is not None and "error" not in now and bool(reached(ctx, prior))
        severity: Literal["ok", "info"] = "ok" if there else "info"
        findings.append(
            Finding(f"{prior.kind} {prior.name}", state_text(now) if now else None, state_text(prior.state), severity)
        )
    return findings


START_IMPLEMENTATION = Implementation(run=run_start, done=done_start, preflight=preflight_start)
SCALE_IMPLEMENTATION = Implementation(run=run_scale, done=done_scale, preflight=preflight_scale)
PATCH_IMPLEMENTATION = Implementation(run=run_patch, done=done_patch, preflight=preflight_patch)
RETURN_IMPLEMENTATION = Implementation(run=run_return, done=done_return, preflight=preflight_return)


def implementation(action: str) -> Implementation[Any] | None:
    """The run-time half of ``action``: how the registry reaches this module when a run starts (``RunModule``)."""
    from drctl.actions.standby.spec import PATCH, RETURN, SCALE, START_WEB_APPS

    known: dict[str, Implementation[Any]] = {
        START_WEB_APPS.name: START_IMPLEMENTATION,
        SCALE.name: SCALE_IMPLEMENTATION,
        PATCH.name: PATCH_IMPLEMENTATION,
        RETURN.name: RETURN_IMPLEMENTATION,
    }
    return known.get(action)
