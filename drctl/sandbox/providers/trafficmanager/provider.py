"""The Traffic Manager provider: profiles' store, snapshot section, seeding, checks, endpoint monitoring and the
DNS answers for ``<relativeName>.trafficmanager.net``.

Routing (Priority): the enabled endpoint of best (lowest) priority whose monitor status is Online. When every
enabled endpoint is Degraded, Traffic Manager treats them all as healthy and answers as if they were (Microsoft's
"all endpoints degraded" behaviour), so the best-priority enabled endpoint. No enabled endpoint, or a disabled
profile: NXDOMAIN.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from drctl.errors import SandboxError
from drctl.sandbox.ops import OpKind
from drctl.sandbox.providers.base import DnsAnswer, Problems, Provider, Seeding
from drctl.sandbox.providers.trafficmanager.model import (
    DNS_SUFFIX,
    EndpointState,
    ProfileState,
    TrafficManagerStore,
)

if TYPE_CHECKING:
    from drctl.playbook.model import RegionEstate
    from drctl.sandbox.arm.core import Ctx, Route
    from drctl.sandbox.estate import Estate
    from drctl.sandbox.state import World

#: the seeded profile's DNS TTL: Traffic Manager's portal default
SEEDED_TTL = 60
PROFILE_TYPE = "Microsoft.Network/trafficManagerProfiles"


def store(world: World) -> TrafficManagerStore:
    return world.store(PROVIDER.name, TrafficManagerStore)


class TrafficManagerProvider(Provider):
    name = "trafficmanager"
    namespace = "Microsoft.Network"
    api_versions = ("2026-09-01", "2022-04-01", "2018-08-01", "2018-04-01")
    resource_types = (
        ("trafficmanagerprofiles", False, True),
        ("trafficmanagerprofiles/azureEndpoints", False, False),
        ("trafficmanagerprofiles/externalEndpoints", False, False),
    )
    op_kinds = (OpKind.TM_ENDPOINT_UPDATE, OpKind.TM_PROFILE_UPDATE)
    snapshot_keys = ("traffic_manager",)

    def build(self, world: World, estate: Estate, now: float) -> TrafficManagerStore:
        profiles: dict[str, ProfileState] = {}
        for p in estate.traffic_manager.profiles:
            profile = ProfileState(
                p.name,
                p.resource_group,
                dict(p.tags),
                p.routing_method,
                p.relative_name or p.name,
                p.ttl,
                p.status,
                {
                    "protocol": p.monitor.protocol,
                    "port": p.monitor.port,
                    "path": p.monitor.path,
                    "intervalInSeconds": p.monitor.interval_seconds,
                    "timeoutInSeconds": p.monitor.timeout_seconds,
                    "toleratedNumberOfFailures": p.monitor.tolerated_failures,
                },
            )
            for e in p.endpoints:
                profile.endpoints[e.name.lower()] = EndpointState(
                    e.name, e.type, e.target, e.target_resource_id, e.region, e.status, e.priority, e.weight
                )
            profiles[p.name.lower()] = profile
        return TrafficManagerStore(profiles)

    def routes(self) -> list[Route]:
        from drctl.sandbox.providers.trafficmanager import routes

        return routes.routes()

    def snapshot(self, world: World, now: float) -> dict[str, Any]:
        return {
            "traffic_manager": {
                p.name: {
                    "resource_group": p.resource_group,
                    "fqdn": p.fqdn,
                    "ttl": p.ttl,
                    "status": p.status,
                    "routing_method": p.routing_method,
                    "monitor_status": profile_monitor_status(world, p),
                    "serving": list(serving(world, p)),
                    "endpoints": {
                        e.name: {
                            "type": e.type,
                            "target": e.target,
                            "region": e.region,
                            "status": e.status,
                            "priority": e.priority,
                            "monitor_status": endpoint_monitor_status(world, p, e),
                        }
                        for e in p.endpoints.values()
                    },
                }
                for p in store(world).profiles.values()
            }
        }

    def seed(self, seeding: Seeding, data: dict[str, Any]) -> None:
        """The playbook's profile: one external endpoint per region that names one, priorities in the order of the
        playbook's direction (source 1, target 2, others after), only the home region's endpoint Enabled.

        The standby's endpoint is Disabled, not merely of lower priority: Traffic Manager would otherwise move
        clients to the warm standby by itself on a failed probe, before its database is promoted and its health
        checked (safety rule 1); ``trafficmanager.switch`` enables it when the run has done both.
        """
        out: list[dict[str, Any]] = data.setdefault("traffic_manager", {}).setdefault("profiles", [])
        playbook = seeding.playbook
        tm = playbook.traffic_manager
        if tm is None:
            return
        order = [playbook.direction.source, playbook.direction.target]
        order += [k for k in playbook.regions if k not in order]
        endpoints: list[dict[str, Any]] = []
        for key in order:
            region = playbook.regions[key]
            if region.traffic_manager_endpoint is None:
                continue
            endpoints.append(
                {
                    "name": region.traffic_manager_endpoint,
                    "type": "ExternalEndpoints",
                    "target": endpoint_target(key, region),
                    "region": key,
                    "status": "Enabled" if key == seeding.home else "Disabled",
                    "priority": len(endpoints) + 1,
                }
            )
        out.append({"name": tm.profile, "resource_group": tm.resource_group, "ttl": SEEDED_TTL, "endpoints": endpoints})

    def check(self, estate: Estate, problems: Problems) -> None:
        from drctl.sandbox.estate_checks import check_region, check_unique

        section = ("traffic_manager", "profiles")
        profiles = estate.traffic_manager.profiles
        check_unique(problems, section, [p.name for p in profiles], "Traffic Manager profile")
        names: dict[str, int] = {}
        for i, profile in enumerate(profiles):
            fqdn = (profile.relative_name or profile.name).lower()
            if fqdn in names:
                problems.append(((*section, i, "relative_name"), f"{fqdn}.{DNS_SUFFIX} is taken by another profile"))
            names[fqdn] = i
            where = (*section, i, "endpoints")
            check_unique(problems, where, [e.name for e in profile.endpoints], "endpoint")
            priorities: set[int] = set()
            for j, endpoint in enumerate(profile.endpoints):
                check_region(estate, problems, (*where, j, "region"), endpoint.region)
                if profile.routing_method == "Priority" and endpoint.priority in priorities:
                    problems.append(((*where, j, "priority"), f"priority {endpoint.priority} is used twice"))
                priorities.add(endpoint.priority)
                if endpoint.type == "AzureEndpoints" and not endpoint.target_resource_id:
                    problems.append(((*where, j, "target_resource_id"), "an AzureEndpoints endpoint needs one"))

    def placements(self, world: World) -> Iterable[tuple[str, str | None]]:
        return [(p.resource_group, None) for p in store(world).profiles.values()]

    def listed(self, ctx: Ctx) -> list[dict[str, Any]]:
        from drctl.sandbox.arm.core import summary_entry

        return [
            summary_entry(ctx, p.resource_group, PROFILE_TYPE, p.name, region=None, tags=p.tags)
            for p in store(ctx.world).profiles.values()
        ]

    def dns_answer(self, world: World, name: str) -> DnsAnswer | None:
        if name != DNS_SUFFIX and not name.endswith("." + DNS_SUFFIX):
            return None
        with world.lock:
            profile = next((p for p in store(world).profiles.values() if p.fqdn == name), None)
            if profile is None:
                return DnsAnswer(ttl=0)
            chosen = serving(world, profile)
            if not chosen:
                return DnsAnswer(ttl=profile.ttl)
            target = chosen[0].target
            if is_address(target):
                return DnsAnswer(ttl=profile.ttl, addresses=(target,))
            return DnsAnswer(ttl=profile.ttl, cname=target)


PROVIDER = TrafficManagerProvider()


def endpoint_target(key: str, region: RegionEstate) -> str:
    """The host clients reach a region at: its ``health_url``'s host, else its first DNS value."""
    if region.health_url:
        host = urlparse(region.health_url).hostname
        if host:
            return host
    for value in region.dns.values():
        return value
    raise SandboxError(
        f"playbook regions.{key} names a traffic_manager_endpoint but has neither health_url nor dns values to "
        "point it at"
    )


def is_address(target: str) -> bool:
    try:
        ipaddress.IPv4Address(target)
    except ValueError:
        return False
    return True


def endpoint_monitor_status(world: World, profile: ProfileState, endpoint: EndpointState) -> str:
    """What the probes say: Disabled (endpoint or profile disabled), Degraded (its region is down) or Online."""
    if profile.status != "Enabled" or endpoint.status != "Enabled":
        return "Disabled"
    if endpoint.region is None:
        return "Online"
    region = world.regions.get(endpoint.region)
    return "Online" if region is not None and region.up else "Degraded"


def profile_monitor_status(world: World, profile: ProfileState) -> str:
    if profile.status != "Enabled":
        return "Disabled"
    statuses = [endpoint_monitor_status(world, profile, e) for e in profile.endpoints.values()]
    enabled = [s for s in statuses if s != "Disabled"]
    if not enabled:
        return "Inactive"
    return "Online" if "Online" in enabled else "Degraded"


def serving(world: World, profile: ProfileState) -> list[EndpointState]:
    """The endpoint the profile's name answers with (Priority routing), or none; call with the lock held."""
    if profile.status != "Enabled":
        return []
    enabled = sorted((e for e in profile.endpoints.values() if e.status == "Enabled"), key=lambda e: e.priority)
    online = [e for e in enabled if endpoint_monitor_status(world, profile, e) == "Online"]
    # every enabled endpoint degraded: Traffic Manager answers as if all were healthy
    chosen = online or enabled
    return chosen[:1]
