"""The DNS provider: zones' store, snapshot section, seeding, checks and out-of-band record changes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from drctl.errors import SandboxError
from drctl.sandbox.ops import OpKind
from drctl.sandbox.providers.base import Problems, Provider, Seeding
from drctl.sandbox.providers.dns.data import WRITABLE_TYPES, Zone, record_values_problem
from drctl.sandbox.providers.dns.model import DnsStore

if TYPE_CHECKING:
    from drctl.sandbox.arm.core import Ctx, Route
    from drctl.sandbox.estate import Estate
    from drctl.sandbox.state import World

#: the steady-state TTL of seeded records (the operations appendix): a longer one makes clients switch later
#: than the RTO allows, which ``plan --preflight`` flags
PRE_INCIDENT_TTL = 300


def store(world: World) -> DnsStore:
    return world.store(PROVIDER.name, DnsStore)


class DnsProvider(Provider):
    name = "dns"
    namespace = "Microsoft.Network"
    api_versions = ("2018-05-01", "2017-10-01")
    resource_types = tuple(
        (t, False, t == "dnszones")
        for t in (
            "dnszones",
            "dnszones/A",
            "dnszones/AAAA",
            "dnszones/CNAME",
            "dnszones/TXT",
            "dnszones/NS",
            "dnszones/SOA",
            "dnszones/all",
            "dnszones/recordsets",
        )
    )
    op_kinds = (OpKind.DNS_WRITE,)
    snapshot_keys = ("dns",)

    def build(self, world: World, estate: Estate, now: float) -> DnsStore:
        zones: dict[str, Zone] = {}
        for z in estate.dns.zones:
            zone = Zone(z.name.lower().rstrip("."), z.resource_group, dict(z.tags))
            for record in z.records:
                zone.put(
                    record.name,
                    record.type,
                    ttl=record.ttl,
                    values=tuple(record.values),
                    metadata=None,
                    now=now - 1,
                    delay=0,
                )
            zone.serial = 1
            zones[zone.name] = zone
        return DnsStore(zones)

    def routes(self) -> list[Route]:
        from drctl.sandbox.providers.dns import routes

        return routes.routes()

    def snapshot(self, world: World, now: float) -> dict[str, Any]:
        dns = store(world)
        return {
            "dns": {
                z.name: {
                    "resource_group": z.resource_group,
                    "serial": z.serial,
                    "propagation_delay_seconds": dns.delay,
                    "records": [
                        {"name": r.name, "type": r.type, "ttl": r.ttl, "values": list(r.values), "etag": r.etag}
                        for r in z.sets.values()
                    ],
                    "served": [
                        {"name": n, "type": t, "ttl": v.ttl, "values": list(v.values or ())}
                        for (n, t), v in z.served(now).items()
                    ],
                }
                for z in dns.zones.values()
            }
        }

    def seed(self, seeding: Seeding, data: dict[str, Any]) -> None:
        """The playbook's zone with its records at the home region's values and the steady-state TTL."""
        zones: list[dict[str, Any]] = data.setdefault("dns", {}).setdefault("zones", [])
        playbook = seeding.playbook
        dns = playbook.dns
        if dns is None:
            return
        values = playbook.regions[seeding.home].dns
        records = []
        for record in dns.records:
            value = values.get(record.name)
            if value is None:
                raise SandboxError(f"playbook regions.{seeding.home}.dns has no value for record {record.name!r}")
            records.append({"name": record.name, "type": str(record.type), "ttl": PRE_INCIDENT_TTL, "values": [value]})
        zones.append({"name": dns.zone, "resource_group": dns.resource_group, "records": records})

    def check(self, estate: Estate, problems: Problems) -> None:
        from drctl.sandbox.estate_checks import check_unique

        check_unique(problems, ("dns", "zones"), [z.name for z in estate.dns.zones], "DNS zone")
        for i, zone in enumerate(estate.dns.zones):
            seen: dict[str, set[str]] = {}
            for j, record in enumerate(zone.records):
                loc = ("dns", "zones", i, "records", j)
                types = seen.setdefault(record.name.lower(), set())
                if record.type in types:
                    problems.append(((*loc, "name"), f"duplicate {record.type} record set {record.name!r}"))
                elif types and "CNAME" in (types | {record.type}):
                    problems.append(
                        ((*loc, "name"), f"a CNAME record set cannot share the name {record.name!r} with another type")
                    )
                types.add(record.type)
                problem = record_values_problem(record.type, record.values)
                if problem:
                    problems.append(((*loc, "values"), problem))

    def placements(self, world: World) -> Iterable[tuple[str, str | None]]:
        return [(z.resource_group, None) for z in store(world).zones.values()]

    def listed(self, ctx: Ctx) -> list[dict[str, Any]]:
        from drctl.sandbox.arm.core import summary_entry

        return [
            summary_entry(ctx, z.resource_group, "Microsoft.Network/dnszones", z.name, region=None, tags=z.tags)
            for z in store(ctx.world).zones.values()
        ]


PROVIDER = DnsProvider()


def delay(world: World) -> float:
    return store(world).delay


def set_delay(world: World, seconds: float) -> None:
    with world.lock:
        store(world).delay = seconds


def zones(world: World) -> list[Zone]:
    """Every zone (the DNS server's view); call with the world lock held."""
    return list(store(world).zones.values())


def set_record(world: World, zone_name: str, rtype: str, name: str, *, ttl: int, values: list[str]) -> dict[str, Any]:
    """Change a record set as another actor would (a new ETag; visible after the propagation delay)."""
    rtype = rtype.upper()
    problem = record_values_problem(rtype, values) if values else "values must not be empty"
    if rtype not in WRITABLE_TYPES:
        problem = f"type {rtype} is not writable ({', '.join(WRITABLE_TYPES)})"
    if problem:
        raise SandboxError(f"invalid record set: {problem}")
    with world.lock:
        zone = _zone(world, zone_name)
        now = world.advance()
        record = zone.put(name, rtype, ttl=ttl, values=tuple(values), metadata=None, now=now, delay=delay(world))
        return {
            "zone": zone.name,
            "name": record.name,
            "type": record.type,
            "ttl": record.ttl,
            "values": list(record.values),
            "etag": record.etag,
        }


def delete_record(world: World, zone_name: str, rtype: str, name: str) -> bool:
    with world.lock:
        zone = _zone(world, zone_name)
        now = world.advance()
        return zone.delete(name, rtype, now=now, delay=delay(world))


def _zone(world: World, name: str) -> Zone:
    zone = store(world).zones.get(name.lower().rstrip("."))
    if zone is None:
        raise SandboxError(f"unknown DNS zone {name!r}")
    return zone
