"""frontdoor.switch at run time: the two origin updates (each exactly once), then the switch seen through the
endpoint's public host name, and the fencer that disables a region's origin.

The target's origin is enabled before the source's is disabled, so the origin group is never left with no
enabled origin. Front Door is a global service: its control plane answers while the source region is down, so
the source's origin can be disabled in a forced failover too. Nothing calls the switch done before requests
through the endpoint's host name are answered by the target: ``samples`` consecutive 2xx answers whose body
names the target region. The time from the change to that moment is Front Door's propagation, measured.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from drctl.actions.fencing import FenceItem, FenceOutcome
from drctl.actions.frontdoor.spec import FrontDoorSwitchParams, Where, source_state, where
from drctl.actions.runtime import (
    FACT_SERVICE_RESTORED,
    ActionError,
    Finding,
    Implementation,
    Outcome,
    StepContext,
    TransientError,
)

if TYPE_CHECKING:
    from drctl.actions.base import Scope
    from drctl.azure.clients import AzureClients
    from drctl.azure.frontdoor import OriginState

FACT_CHANGED = "frontdoor.changed"
FACT_VERIFIED = "frontdoor.verified"
FACT_FENCED = "frontdoor.fenced"
#: how long a resumed step watches for an origin update sent before a crash to show, before sending it again
SETTLE = 10.0


def _where(ctx: StepContext) -> Where:
    found = where(ctx.scope)
    if found is None:
        raise ActionError("the playbook has no front_door section, or a region names no front_door_origin")
    return found


def _subscription(ctx: StepContext, w: Where) -> str | None:
    return ctx.secrets.expand(w.subscription) if w.subscription else None


def _read(ctx: StepContext, w: Where, origin: str) -> OriginState:
    from drctl.actions.azure_bridge import arm
    from drctl.azure import frontdoor as azure_fd

    return arm(
        ctx,
        f"read Front Door origin {origin}",
        azure_fd.get_origin,
        w.resource_group,
        w.profile,
        w.origin_group,
        origin,
        subscription=_subscription(ctx, w),
    )


def _wanted(p: FrontDoorSwitchParams, w: Where) -> list[tuple[str, bool, int | None]]:
    """(origin, enabled, priority or None to keep it): the target's first."""
    enabled, priority = source_state(p)
    return [(w.target_origin, True, p.target_priority), (w.source_origin, enabled, priority)]


def _is(state: OriginState, enabled: bool, priority: int | None) -> bool:
    return state.enabled == enabled and (priority is None or state.priority == priority)


def _key(w: Where, origin: str, enabled: bool, priority: int | None) -> str:
    to = "Enabled" if enabled else "Disabled"
    return f"afd.origin {w.profile}/{w.origin_group}/{origin} -> {to}" + (f" p{priority}" if priority else "")


def _update(ctx: StepContext, w: Where, origin: str, *, enabled: bool, priority: int | None, why: str = "") -> str:
    """Bring one origin to (enabled, priority) exactly once; answers how ("already", or start_or_follow's)."""
    from drctl.actions.azure_bridge import Mutation, follow_in_flight, start_or_follow
    from drctl.azure import frontdoor as azure_fd

    key = _key(w, origin, enabled, priority)
    follow_in_flight(ctx, key, "resource")
    before = _read(ctx, w, origin)
    if _is(before, enabled, priority) and not any(f.get("key") == key for f in ctx.journaled("op.intent")):
        return "already"
    subscription = _subscription(ctx, w)

    def start(azure: AzureClients) -> Any:
        return azure_fd.begin_update_origin(
            azure,
            w.resource_group,
            w.profile,
            w.origin_group,
            origin,
            enabled=enabled,
            priority=priority,
            subscription=subscription,
        )

    what = f"set Front Door origin {origin} {'Enabled' if enabled else 'Disabled'}{why}"
    mutation = Mutation(
        key=key, what=what, start=start, client="resource", detail={"before": before.as_fact()}, settle=SETTLE
    )
    return start_or_follow(ctx, mutation, reached=lambda: _is(_read(ctx, w, origin), enabled, priority)).how


def _intent_before(ctx: StepContext, key: str) -> tuple[dict[str, Any] | None, str | None]:
    """What an origin was before this step's first intended update of it, and when that intent was journaled."""
    for fact in ctx.journaled("op.intent"):
        if fact.get("key") == key:
            return fact.get("before"), str(fact.get("at"))
    return None, None


def _switch(p: FrontDoorSwitchParams, ctx: StepContext) -> dict[str, Any]:
    """The origins moved (or found moved): the ``frontdoor.changed`` fact, journaled once per step."""
    w = _where(ctx)
    journaled = ctx.journaled(FACT_CHANGED)
    wanted = _wanted(p, w)
    before: dict[str, Any] = {}
    hows = {}
    for origin, enabled, priority in wanted:
        previous = _read(ctx, w, origin)
        before[origin] = previous.as_fact()
        hows[origin] = _update(ctx, w, origin, enabled=enabled, priority=priority)
    if journaled:
        return dict(journaled[-1])
    after = {o: _read(ctx, w, o).as_fact() for o, _, _ in wanted}
    # a resumed step tells the change from what its intents kept: the state found before, and when it was sent
    earliest: str | None = None
    for origin, enabled, priority in wanted:
        kept, at = _intent_before(ctx, _key(w, origin, enabled, priority))
        if kept is not None:
            before[origin] = kept
        if at is not None and (earliest is None or at < earliest):
            earliest = at
    moved = any(how != "already" for how in hows.values())
    fact = {
        "profile": w.profile,
        "origin_group": w.origin_group,
        "endpoint": w.endpoint,
        "before": before,
        "after": after,
        # the moment the last update was answered: the edge starts propagating from there
        "changed_at": ctx.now().isoformat(),
        "first_sent_at": earliest,
        "already": not moved and earliest is None,
    }
    ctx.record(FACT_CHANGED, fact)
    return fact


def _host(ctx: StepContext, w: Where) -> str:
    from drctl.actions.azure_bridge import arm
    from drctl.azure import frontdoor as azure_fd

    return arm(
        ctx,
        f"read Front Door endpoint {w.endpoint}",
        azure_fd.endpoint_host,
        w.resource_group,
        w.profile,
        w.endpoint,
        subscription=_subscription(ctx, w),
    )


def _path(p: FrontDoorSwitchParams, scope: Scope) -> str:
    if p.path is not None:
        return p.path
    from urllib.parse import urlsplit

    parts = urlsplit(str(scope.target.health_url or "/"))
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def served_by(body: str, field: str) -> str | None:
    """The region the answer's JSON body names in ``field``, if any."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    value = data.get(field) if isinstance(data, dict) else None
    return str(value) if isinstance(value, str) else None


def _verify(p: FrontDoorSwitchParams, ctx: StepContext, change: dict[str, Any]) -> dict[str, Any]:
    """Request the endpoint's host name until ``samples`` consecutive answers come from the target."""
    from drctl.net.http import Client, HttpError

    w = _where(ctx)
    host = _host(ctx, w)
    url = f"https://{host}{_path(p, ctx.scope)}"
    names = {ctx.scope.target_name.lower(), ctx.scope.target.location.lower()}
    deadline = ctx.now().timestamp() + p.verify_timeout.total_seconds()
    client = Client(timeout=10.0, network=ctx.services.get("network"))
    streak: list[datetime] = []
    requests = 0
    last = "no answer yet"
    try:
        while True:
            ctx.check_cancelled()
            requests += 1
            at = ctx.now()
            try:
                answer = client.request("GET", url, headers={"Cache-Control": "no-cache"})
                region = served_by(answer.body, p.region_field)
                ok = 200 <= answer.status < 300 and region is not None and region.lower() in names
                last = f"{answer.status} from {region or 'an unnamed region'}"
            except HttpError as exc:
                ok, last = False, str(exc)
            streak = [*streak, at] if ok else []
            if len(streak) >= p.samples:
                break
            if ctx.now().timestamp() >= deadline:
                raise TransientError(
                    f"requests to {host} do not reach {ctx.scope.target_name} yet after "
                    f"{int(p.verify_timeout.total_seconds())} s (last: {last}); the switch is not claimed"
                )
            if not ok:
                ctx.progress(f"{host}: {last}; waiting for Front Door to route to {ctx.scope.target_name}")
            ctx.sleep(p.interval.total_seconds())
    finally:
        client.close()
    verified = ctx.now()
    changed = datetime.fromisoformat(str(change.get("first_sent_at") or change["changed_at"]))
    return {
        "host": host,
        "url": url,
        "region": ctx.scope.target_name,
        "samples": p.samples,
        "requests": requests,
        "first_seen_at": streak[0].isoformat(),
        "verified_at": verified.isoformat(),
        "changed_at": change["changed_at"],
        "propagation_seconds": round(max(0.0, (verified - changed).total_seconds()), 3),
    }


def _verified(p: FrontDoorSwitchParams, ctx: StepContext, change: dict[str, Any]) -> Outcome:
    verification = _verify(p, ctx, change)
    ctx.record(FACT_VERIFIED, verification)
    ctx.record(
        FACT_SERVICE_RESTORED,
        {
            "at": verification["verified_at"],
            "changed_at": change["changed_at"],
            "propagation_seconds": verification["propagation_seconds"],
            "by": "frontdoor.switch",
        },
    )
    moved = not change.get("already")
    summary = (
        f"{'origins switched' if moved else 'origins already switched'}; {verification['samples']} consecutive "
        f"answers from {verification['region']} through {verification['host']}, "
        f"{verification['propagation_seconds']:.1f} s after the change"
    )
    return Outcome(summary, changed=moved, facts={"change": change, "verification": verification})


def run_switch(p: FrontDoorSwitchParams, ctx: StepContext) -> Outcome:
    change = _switch(p, ctx)
    return _verified(p, ctx, change)


def done_switch(p: FrontDoorSwitchParams, ctx: StepContext) -> bool | Outcome:
    """Origins at the intended state in ARM are not a finished switch: the verification a crash interrupted is
    done here (and the restore journaled), or the step runs again (it updates nothing twice)."""
    w = _where(ctx)
    if not all(_is(_read(ctx, w, o), e, pr) for o, e, pr in _wanted(p, w)):
        return False
    if ctx.journaled(FACT_SERVICE_RESTORED) and ctx.journaled(FACT_VERIFIED):
        return True
    try:
        return _verified(p, ctx, _switch(p, ctx))
    except TransientError:
        return False


def preflight_switch(p: FrontDoorSwitchParams, ctx: StepContext) -> list[Finding]:
    w = _where(ctx)
    findings = []
    for origin, enabled, priority in _wanted(p, w):
        state = _read(ctx, w, origin)
        current = f"{'Enabled' if state.enabled else 'Disabled'}, priority {state.priority}"
        intended = f"{'Enabled' if enabled else 'Disabled'}" + (f", priority {priority}" if priority else "")
        subject = f"Front Door origin {origin}"
        if origin == w.target_origin and state.enabled:
            message = (
                "the target's origin is already enabled: Front Door's health probes may send clients to it before "
                "its database is promoted (safety rule 1); keep a warm standby's origin disabled"
            )
            findings.append(Finding(subject, current, intended, "warning", message))
        else:
            findings.append(Finding(subject, current, intended, "ok"))
    host = _host(ctx, w)
    findings.append(Finding(f"Front Door endpoint {w.endpoint}", host, f"https://{host}{_path(p, ctx.scope)}", "ok"))
    return findings


SWITCH_IMPLEMENTATION = Implementation(run=run_switch, done=done_switch, preflight=preflight_switch)


class FrontDoorFencer:
    """Disables the Front Door origin of the region being fenced (``frontdoor.origin``)."""

    def items(self, scope: Scope, region: str) -> list[FenceItem]:
        origin = scope.playbook.regions[region].front_door_origin if region in scope.playbook.regions else None
        if scope.playbook.front_door is None or origin is None:
            return []
        return [FenceItem("frontdoor.origin", origin, region)]

    def fence(self, ctx: StepContext, item: FenceItem) -> FenceOutcome:
        from drctl.actions.azure_bridge import AzureBusy, AzureFailure

        fd = ctx.playbook.front_door
        if fd is None:
            return FenceOutcome(item, False, "the playbook has no front_door section")
        w = Where(fd.resource_group, fd.profile, fd.endpoint, fd.origin_group, fd.subscription, item.name, item.name)
        try:
            how = _update(ctx, w, item.name, enabled=False, priority=None, why=" (fence)")
            state = _read(ctx, w, item.name)
        except (AzureFailure, AzureBusy, TransientError, ActionError) as exc:
            return FenceOutcome(item, False, f"Front Door did not disable origin {item.name}: {exc}")
        if state.enabled:
            return FenceOutcome(item, False, f"origin {item.name} still reads Enabled after the update")
        detail = "already disabled" if how == "already" else "disabled"
        ctx.record(FACT_FENCED, {"origin": item.name, "region": item.region, "detail": detail})
        return FenceOutcome(item, True, detail)


FENCER = FrontDoorFencer()


def implementation(action: str) -> Implementation[Any] | None:
    """The run-time half of ``action``: how the registry reaches this module when a run starts (``RunModule``)."""
    from drctl.actions.frontdoor.spec import FRONTDOOR_SWITCH

    known: dict[str, Implementation[Any]] = {FRONTDOOR_SWITCH.name: SWITCH_IMPLEMENTATION}
    return known.get(action)
