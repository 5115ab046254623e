"""trafficmanager.switch at run time: endpoint writes made exactly once (make before break: the target is enabled
before the source leaves), then the profile's name verified at the DNS servers before anything claims the switch.
Also the fencer of a region's endpoint after a forced failover."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from drctl.actions import stepgraph
from drctl.actions.fencing import FenceItem, FenceOutcome
from drctl.actions.runtime import (
    FACT_SERVICE_RESTORED,
    ActionError,
    Finding,
    Implementation,
    Outcome,
    StepContext,
    TransientError,
)
from drctl.actions.trafficmanager.spec import Switch, TmSwitchParams, switch_of

if TYPE_CHECKING:
    from drctl.actions.base import Scope
    from drctl.azure.clients import AzureClients
    from drctl.azure.trafficmanager import Endpoint, Profile

#: how long a resumed step watches for an endpoint write sent before a crash to show, before writing it again
SETTLE = 10.0
#: where Traffic Manager's names are delegated; their name servers are asked, not a caching resolver
TM_ZONE = "trafficmanager.net"
FENCE_KIND = "trafficmanager.endpoint"


def _switch(ctx: StepContext) -> Switch:
    switch = switch_of(ctx.scope)
    if switch is None:
        raise ActionError("the playbook names no traffic_manager profile or no endpoint for the source or target")
    return switch


def _subscription(ctx: StepContext, switch: Switch) -> str | None:
    return ctx.secrets.expand(switch.subscription) if switch.subscription else None


def _read(ctx: StepContext, switch: Switch) -> Profile:
    from drctl.actions.azure_bridge import arm
    from drctl.azure import trafficmanager as tm

    return arm(
        ctx,
        f"read Traffic Manager profile {switch.profile}",
        tm.get_profile,
        switch.resource_group,
        switch.profile,
        subscription=_subscription(ctx, switch),
    )


def _endpoint(profile: Profile, name: str) -> Endpoint:
    found = profile.endpoint(name)
    if found is None:
        known = ", ".join(e.name for e in profile.endpoints) or "none"
        raise ActionError(f"Traffic Manager profile {profile.name} has no endpoint {name!r} (it has: {known})")
    return found


@dataclass(frozen=True)
class Change:
    """One endpoint's wanted state: a status, or a priority after a bound (``after``: greater than it)."""

    endpoint: str
    region: str
    status: str | None = None
    after: int | None = None

    def holds(self, profile: Profile) -> bool:
        found = _endpoint(profile, self.endpoint)
        if self.status is not None and found.status != self.status:
            return False
        return self.after is None or (found.priority or 0) > self.after


def _changes(p: TmSwitchParams, switch: Switch, profile: Profile) -> list[Change]:
    """Target first: disabling the source before the target is enabled would leave the name with no answer."""
    target = _endpoint(profile, switch.target_endpoint)
    wanted = [Change(switch.target_endpoint, switch.target_region, status="Enabled")]
    if p.source_endpoint == "disable":
        wanted.append(Change(switch.source_endpoint, switch.source_region, status="Disabled"))
    else:
        wanted.append(Change(switch.source_endpoint, switch.source_region, after=target.priority or 0))
    return wanted


def _key(switch: Switch, change: Change) -> str:
    to = change.status if change.status is not None else f"priority after {change.after}"
    return f"tm.endpoint {switch.profile}/{change.endpoint} -> {to}"


def _apply(ctx: StepContext, switch: Switch, change: Change, profile: Profile) -> dict[str, Any] | None:
    """Make one change exactly once; the fact it records, or None when the endpoint already was so."""
    from drctl.actions.azure_bridge import Mutation, start_or_follow
    from drctl.azure import trafficmanager as tm

    current = _endpoint(profile, change.endpoint)
    if change.holds(profile):
        return None
    priority = None
    if change.after is not None:
        # after every other endpoint: a priority of a Priority profile must be unique
        priority = max((e.priority or 0) for e in profile.endpoints) + 1
    subscription = _subscription(ctx, switch)

    def write(azure: AzureClients) -> None:
        tm.update_endpoint(
            azure,
            switch.resource_group,
            switch.profile,
            current,
            status=change.status,
            priority=priority,
            subscription=subscription,
        )

    before = {"previous_status": current.status, "previous_priority": current.priority}
    mutation = Mutation(key=_key(switch, change), what=_key(switch, change), start=write, detail=before, settle=SETTLE)
    start_or_follow(ctx, mutation, reached=lambda: change.holds(_read(ctx, switch)))
    after = _endpoint(_read(ctx, switch), change.endpoint)
    fact = {
        "profile": switch.profile,
        "endpoint": change.endpoint,
        "region": change.region,
        **before,
        "status": after.status,
        "priority": after.priority,
        "changed_at": ctx.now().isoformat(),
    }
    ctx.record("trafficmanager.changed", fact)
    return fact


def _servers(ctx: StepContext) -> list[tuple[str, int]]:
    from drctl.net import dnsquery

    chosen = dnsquery.override(ctx.services.get("network"))
    if chosen:
        return chosen
    found = dnsquery.server_addresses(dnsquery.delegated_name_servers(TM_ZONE))
    if not found:
        raise TransientError(f"cannot resolve the name servers of {TM_ZONE}")
    return found


def _kind(target: str) -> str:
    """Traffic Manager answers a host name target with a CNAME and an IPv4 target with an A record."""
    import ipaddress

    try:
        ipaddress.IPv4Address(target)
    except ValueError:
        return "CNAME"
    return "A"


def _verify(ctx: StepContext, p: TmSwitchParams, switch: Switch, profile: Profile) -> dict[str, Any]:
    """Ask the DNS servers until the profile's name answers the target endpoint's target at every one; at the
    deadline the step fails (a later attempt verifies again and writes nothing twice)."""
    from drctl.net import dnsquery

    target = _endpoint(profile, switch.target_endpoint).target or ""
    kind = _kind(target)
    servers = _servers(ctx)
    deadline = ctx.now() + p.verify_timeout
    while True:
        answers = [(f"{s[0]}:{s[1]}", dnsquery.query(profile.fqdn, kind, s)) for s in servers]
        wrong = [(where, a) for where, a in answers if a.values != (target.rstrip("."),)]
        if not wrong:
            return {
                "fqdn": profile.fqdn,
                "type": kind,
                "values": [target],
                "ttl": answers[0][1].ttl,
                "servers": [where for where, _ in answers],
                "verified_at": ctx.now().isoformat(),
            }
        if ctx.now() >= deadline:
            where, answer = wrong[0]
            seen = answer.error or ", ".join(answer.values) or "nothing"
            raise TransientError(
                f"{profile.fqdn} does not answer {target} yet at {where} (it answers {seen}) after "
                f"{p.verify_timeout}: the endpoints are switched, the name is not; resume to verify again"
            )
        ctx.sleep(0.5)


def _restored(ctx: StepContext, profile: Profile) -> dict[str, Any]:
    """Resolvers may keep the old answer for the profile's TTL after the name verified: clients are all served by
    the target at that time, and the RTO clock stops there."""
    verified = ctx.now()
    return {
        "at": (verified + timedelta(seconds=profile.ttl)).isoformat(),
        "authoritative_at": verified.isoformat(),
        "previous_ttl_seconds": profile.ttl,
        "previous_ttl_known": True,
        "by": "trafficmanager.switch",
        "fqdn": profile.fqdn,
    }


def _verified(p: TmSwitchParams, ctx: StepContext, switch: Switch, changes: list[dict[str, Any]]) -> Outcome:
    """Verify the name and record the restore: the end of a switch, whether the endpoints were written just now
    or before a crash."""
    profile = _read(ctx, switch)
    verification = _verify(ctx, p, switch, profile)
    ctx.record("trafficmanager.verified", verification)
    restored = _restored(ctx, profile)
    ctx.record(FACT_SERVICE_RESTORED, restored)
    summary = (
        f"{len(changes)} endpoint change(s) on {switch.profile}; {profile.fqdn} answers "
        f"{', '.join(verification['values'])}; clients switch by {restored['at'][11:19]} (TTL {profile.ttl} s)"
    )
    return Outcome(summary, changed=bool(changes), facts={"changes": changes, "verification": verification})


def run_switch(p: TmSwitchParams, ctx: StepContext) -> Outcome:
    switch = _switch(ctx)
    profile = _read(ctx, switch)
    changes = []
    for change in _changes(p, switch, profile):
        made = _apply(ctx, switch, change, profile)
        if made is not None:
            changes.append(made)
        profile = _read(ctx, switch)
    return _verified(p, ctx, switch, changes)


def done_switch(p: TmSwitchParams, ctx: StepContext) -> bool | Outcome:
    """Endpoints in their wanted state are not a finished switch: the verification and the restore time a crash
    interrupted are done here, or the step runs again (it writes nothing twice)."""
    switch = _switch(ctx)
    profile = _read(ctx, switch)
    if not all(c.holds(profile) for c in _changes(p, switch, profile)):
        return False
    if ctx.journaled(FACT_SERVICE_RESTORED) and ctx.journaled("trafficmanager.verified"):
        return True
    try:
        return _verified(p, ctx, switch, ctx.journaled("trafficmanager.changed"))
    except TransientError:
        return False


def _state(endpoint: Endpoint) -> str:
    return f"{endpoint.status}, priority {endpoint.priority}, monitor {endpoint.monitor_status or 'unknown'}"


def preflight_switch(p: TmSwitchParams, ctx: StepContext) -> list[Finding]:
    from drctl.durations import format_duration as fd

    switch = _switch(ctx)
    profile = _read(ctx, switch)
    findings = []
    for change in _changes(p, switch, profile):
        endpoint = _endpoint(profile, change.endpoint)
        subject = f"Traffic Manager {switch.profile}/{change.endpoint} ({change.region})"
        intended = change.status or f"priority after {change.after}"
        findings.append(Finding(subject, _state(endpoint), intended, "ok"))
    subject = f"Traffic Manager {profile.fqdn} TTL"
    rto = ctx.playbook.objectives.rto.total_seconds()
    switched = stepgraph.planned_finish(ctx.playbook, ctx.mode, ctx.step_id)
    current = f"TTL {profile.ttl} s, {profile.routing_method}, profile {profile.status}"
    intended = f"clients switch by the verification + {fd(profile.ttl)}"
    if profile.routing_method != "Priority":
        message = f"routing method {profile.routing_method}: the switch assumes Priority routing"
        findings.append(Finding(subject, current, intended, "warning", message))
    elif switched + profile.ttl > rto:
        message = (
            f"clients switch by T+{fd(switched)} + TTL {fd(profile.ttl)} = T+{fd(switched + profile.ttl)}, past the "
            f"RTO {fd(rto)}: lower the profile's TTL"
        )
        findings.append(Finding(subject, current, intended, "error", message))
    else:
        findings.append(Finding(subject, current, intended, "ok"))
    return findings


SWITCH_IMPLEMENTATION = Implementation(run=run_switch, done=done_switch, preflight=preflight_switch)


def implementation(action: str) -> Implementation[Any] | None:
    """The run-time half of ``action``: how the registry reaches this module when a run starts (``RunModule``)."""
    from drctl.actions.trafficmanager.spec import TM_SWITCH

    known: dict[str, Implementation[Any]] = {TM_SWITCH.name: SWITCH_IMPLEMENTATION}
    return known.get(action)


class EndpointFencer:
    """Fences a region's Traffic Manager endpoint: disabled, and read back disabled, or why it could not be."""

    def items(self, scope: Scope, region: str) -> list[FenceItem]:
        tm = scope.playbook.traffic_manager
        name = scope.playbook.regions[region].traffic_manager_endpoint if region in scope.playbook.regions else None
        if tm is None or name is None:
            return []
        return [FenceItem(FENCE_KIND, name, region)]

    def fence(self, ctx: StepContext, item: FenceItem) -> FenceOutcome:
        from drctl.actions.azure_bridge import Mutation, start_or_follow
        from drctl.azure import trafficmanager as tm

        tm_settings = ctx.playbook.traffic_manager
        if tm_settings is None:
            return FenceOutcome(item, False, "the playbook has no traffic_manager section")
        switch = Switch(
            tm_settings.profile,
            tm_settings.resource_group,
            tm_settings.subscription,
            item.region,
            item.name,
            item.region,
            item.name,
        )
        try:
            endpoint = _endpoint(_read(ctx, switch), item.name)
            if endpoint.status == "Disabled":
                return FenceOutcome(item, True, "already disabled")
            subscription = _subscription(ctx, switch)

            def write(azure: AzureClients) -> None:
                tm.update_endpoint(
                    azure, switch.resource_group, switch.profile, endpoint, status="Disabled", subscription=subscription
                )

            key = f"fence {FENCE_KIND} {switch.profile}/{item.name} -> Disabled"

            def reached() -> bool:
                return _endpoint(_read(ctx, switch), item.name).status == "Disabled"

            start_or_follow(ctx, Mutation(key=key, what=key, start=write, settle=SETTLE), reached=reached)
            if not reached():
                return FenceOutcome(item, False, "disabled, but the profile still shows the endpoint enabled")
        except (ActionError, TransientError) as exc:
            return FenceOutcome(item, False, f"not disabled: {exc}")
        detail = f"endpoint disabled in profile {switch.profile} (was {endpoint.status})"
        ctx.record("trafficmanager.fenced", {"profile": switch.profile, "endpoint": item.name, "detail": detail})
        return FenceOutcome(item, True, detail)


FENCER = EndpointFencer()
