"""The Front Door provider: profiles' store, snapshot section, seeding, checks, and what the edge routes on."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from drctl.errors import SandboxError
from drctl.sandbox.ops import OpKind
from drctl.sandbox.providers.base import Problems, Provider, Seeding
from drctl.sandbox.providers.cdn.model import (
    CdnStore,
    Config,
    Endpoint,
    Origin,
    OriginGroup,
    Profile,
    endpoint_host,
)

if TYPE_CHECKING:
    from drctl.sandbox.arm.core import Ctx, Route
    from drctl.sandbox.estate import Estate
    from drctl.sandbox.state import World


def store(world: World) -> CdnStore:
    return world.store(PROVIDER.name, CdnStore)


class CdnProvider(Provider):
    name = "cdn"
    namespace = "Microsoft.Cdn"
    api_versions = ("2026-10-01", "2025-06-01", "2024-09-01", "2024-02-01", "2023-05-01")
    resource_types = (
        ("profiles", False, True),
        ("profiles/afdendpoints", False, False),
        ("profiles/origingroups", False, False),
        ("profiles/origingroups/origins", False, False),
        ("operationresults", False, False),
    )
    op_kinds = (OpKind.AFD_ORIGIN_UPDATE,)
    snapshot_keys = ("front_door",)

    def build(self, world: World, estate: Estate, now: float) -> CdnStore:
        profiles: dict[str, Profile] = {}
        for p in estate.front_door.profiles:
            profile = Profile(p.name, p.resource_group, p.sku, dict(p.tags))
            for g in p.origin_groups:
                group = OriginGroup(g.name, g.probe_path)
                for o in g.origins:
                    # in force since long before the sandbox started: no propagation pending
                    first = Config(now - 86400, o.enabled_state == "Enabled", o.priority, o.weight)
                    group.origins[o.name.lower()] = Origin(o.name, o.host_name.lower(), o.region, [first])
                profile.origin_groups[g.name.lower()] = group
            for e in p.endpoints:
                profile.endpoints[e.name.lower()] = Endpoint(
                    e.name, endpoint_host(p, e), e.origin_group, e.enabled_state == "Enabled"
                )
            profiles[p.name.lower()] = profile
        return CdnStore(profiles, estate.front_door.propagation_seconds)

    def routes(self) -> list[Route]:
        from drctl.sandbox.providers.cdn import routes

        return routes.routes()

    def snapshot(self, world: World, now: float) -> dict[str, Any]:
        cdn = store(world)
        edge_time = now - cdn.propagation_seconds
        return {
            "front_door": {
                "propagation_seconds": cdn.propagation_seconds,
                "profiles": {
                    p.name: {
                        "resource_group": p.resource_group,
                        "sku": p.sku,
                        "endpoints": {
                            e.name: {"host_name": e.host_name, "origin_group": e.origin_group, "enabled": e.enabled}
                            for e in p.endpoints.values()
                        },
                        "origin_groups": {
                            g.name: {
                                o.name: {
                                    "host_name": o.host_name,
                                    "region": o.region,
                                    "enabled": o.current.enabled,
                                    "priority": o.current.priority,
                                    "weight": o.current.weight,
                                    # what the edge routes on now (the configuration a propagation delay ago)
                                    "edge": {
                                        "enabled": o.at(edge_time).enabled,
                                        "priority": o.at(edge_time).priority,
                                    },
                                }
                                for o in g.origins.values()
                            }
                            for g in p.origin_groups.values()
                        },
                    }
                    for p in cdn.profiles.values()
                },
            }
        }

    def seed(self, seeding: Seeding, data: dict[str, Any]) -> None:
        """The playbook's profile with one origin per region that names one: the home region's enabled at
        priority 1, every other region's Disabled at priority 2. A warm standby's origin stays disabled (not
        merely at a lower priority) because Front Door's health probes would otherwise move clients to it on
        their own, before the target database is promoted: safety rule 1 leaves that move to ``frontdoor.switch``."""
        section: dict[str, Any] = data.setdefault("front_door", {})
        profiles: list[dict[str, Any]] = section.setdefault("profiles", [])
        playbook = seeding.playbook
        fd = playbook.front_door
        if fd is None:
            return
        origins = []
        probe = "/healthz"
        for key, region in playbook.regions.items():
            if region.front_door_origin is None:
                continue
            app = data.get("regions", {}).get(key, {}).get("app") or {}
            hosts = app.get("hosts") or [f"{region.front_door_origin.lower()}.{key}.origin.invalid"]
            if key == seeding.home and app.get("health_path"):
                probe = app["health_path"]
            home = key == seeding.home
            origins.append(
                {
                    "name": region.front_door_origin,
                    "host_name": hosts[0],
                    "region": key,
                    "priority": 1 if home else 2,
                    "enabled_state": "Enabled" if home else "Disabled",
                }
            )
        profiles.append(
            {
                "name": fd.profile,
                "resource_group": fd.resource_group,
                "endpoints": [{"name": fd.endpoint, "origin_group": fd.origin_group}],
                "origin_groups": [{"name": fd.origin_group, "probe_path": probe, "origins": origins}],
            }
        )

    def check(self, estate: Estate, problems: Problems) -> None:
        from drctl.sandbox.estate_checks import check_region, check_unique

        profiles = estate.front_door.profiles
        check_unique(problems, ("front_door", "profiles"), [p.name for p in profiles], "Front Door profile")
        for i, p in enumerate(profiles):
            loc = ("front_door", "profiles", i)
            groups = {g.name.lower() for g in p.origin_groups}
            check_unique(problems, (*loc, "endpoints"), [e.name for e in p.endpoints], "AFD endpoint")
            check_unique(problems, (*loc, "origin_groups"), [g.name for g in p.origin_groups], "origin group")
            for j, e in enumerate(p.endpoints):
                if e.origin_group.lower() not in groups:
                    problems.append(
                        ((*loc, "endpoints", j, "origin_group"), f"unknown origin group {e.origin_group!r}")
                    )
            for j, g in enumerate(p.origin_groups):
                check_unique(problems, (*loc, "origin_groups", j, "origins"), [o.name for o in g.origins], "origin")
                for k, o in enumerate(g.origins):
                    check_region(estate, problems, (*loc, "origin_groups", j, "origins", k, "region"), o.region)

    def placements(self, world: World) -> Iterable[tuple[str, str | None]]:
        return [(p.resource_group, None) for p in store(world).profiles.values()]

    def listed(self, ctx: Ctx) -> list[dict[str, Any]]:
        from drctl.sandbox.arm.core import summary_entry

        out = []
        for p in store(ctx.world).profiles.values():
            entry = summary_entry(ctx, p.resource_group, "Microsoft.Cdn/profiles", p.name, region=None, tags=p.tags)
            entry["sku"] = {"name": p.sku}
            entry["kind"] = "frontdoor"
            out.append(entry)
        return out


PROVIDER = CdnProvider()


def set_delay(world: World, seconds: float) -> None:
    with world.lock:
        store(world).propagation_seconds = seconds


def delay(world: World) -> float:
    return store(world).propagation_seconds


def endpoint_for(world: World, host: str) -> tuple[Profile, Endpoint] | None:
    """The AFD endpoint whose public host name is ``host`` (without a port), if any."""
    wanted = host.lower().rsplit(":", 1)[0] if host.count(":") == 1 else host.lower()
    for profile in store(world).profiles.values():
        for endpoint in profile.endpoints.values():
            if endpoint.host_name == wanted:
                return profile, endpoint
    return None


def candidates(world: World, profile: Profile, endpoint: Endpoint, now: float) -> tuple[str, list[Origin]]:
    """The probe path and the origins the edge may send a request to, best first: enabled in the configuration
    the edge has (the one in force a propagation delay ago), by priority, then weight (heavier first)."""
    group = profile.origin_groups.get(endpoint.origin_group.lower())
    if group is None:
        raise SandboxError(f"endpoint {endpoint.name}: unknown origin group {endpoint.origin_group!r}")
    seen = now - store(world).propagation_seconds
    enabled = [o for o in group.origins.values() if o.at(seen).enabled]
    return group.probe_path, sorted(enabled, key=lambda o: (o.at(seen).priority, -o.at(seen).weight, o.name))
