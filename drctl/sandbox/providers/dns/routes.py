"""Microsoft.Network DNS zones and record sets (A, AAAA, CNAME, TXT writable; apex SOA and NS readable).

Every write gets a new ETag (body ``etag`` and ``ETag`` header). ``If-Match`` (an ETag or ``*``) and
``If-None-Match: *`` are honoured; a mismatch is 412 ``PreconditionFailed`` (the SDK does not retry it).
Writes reach the DNS server after the propagation delay in force when they were made.
"""

from __future__ import annotations

from typing import Any

from drctl.sandbox.arm.core import ArmError, Ctx, Route, paged
from drctl.sandbox.http import Response, json_response
from drctl.sandbox.ops import OpKind
from drctl.sandbox.providers.dns.data import (
    NAME_SERVERS,
    NS_TTL,
    SOA_EMAIL,
    SOA_TIMERS,
    SOA_TTL,
    WRITABLE_TYPES,
    RecordSet,
    Zone,
    record_properties,
    record_values_problem,
    values_from_properties,
)
from drctl.sandbox.providers.dns.provider import delay, store

_ZONE = "subscriptions/{sub}/resourcegroups/{rg}/providers/microsoft.network/dnszones/{zone}"
_TYPES = (*WRITABLE_TYPES, "NS", "SOA")


def routes() -> list[Route]:
    read, write = OpKind.ARM_READ, OpKind.DNS_WRITE
    return [
        Route.of("GET", "subscriptions/{sub}/providers/microsoft.network/dnszones", read, _zones_all),
        Route.of(
            "GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/microsoft.network/dnszones", read, _zones_rg
        ),
        Route.of("GET", _ZONE, read, _zone),
        Route.of("GET", f"{_ZONE}/recordsets", read, _list_all),
        Route.of("GET", f"{_ZONE}/all", read, _list_all),
        Route.of("GET", f"{_ZONE}/{{type}}", read, _list_type),
        Route.of("GET", f"{_ZONE}/{{type}}/{{name}}", read, _get),
        Route.of("PUT", f"{_ZONE}/{{type}}/{{name}}", write, _put),
        Route.of("PATCH", f"{_ZONE}/{{type}}/{{name}}", write, _patch),
        Route.of("DELETE", f"{_ZONE}/{{type}}/{{name}}", write, _delete),
    ]


def zone_json(ctx: Ctx, zone: Zone) -> dict[str, Any]:
    return {
        "id": f"{ctx.rg_id(zone.resource_group)}/providers/Microsoft.Network/dnszones/{zone.name}",
        "name": zone.name,
        "type": "Microsoft.Network/dnszones",
        "etag": zone.etag,
        "location": "global",
        "tags": zone.tags,
        "properties": {
            "maxNumberOfRecordSets": 10000,
            "maxNumberOfRecordsPerRecordSet": 20,
            "numberOfRecordSets": zone.arm_count(),
            "nameServers": [ns.rstrip(".") for ns in NAME_SERVERS],
            "zoneType": "Public",
        },
    }


def _zone_of(ctx: Ctx) -> Zone:
    return ctx.resource(store(ctx.world).zones, "Microsoft.Network/dnszones", "zone")


def _zones_all(ctx: Ctx) -> Response:
    return paged(ctx, [zone_json(ctx, z) for z in store(ctx.world).zones.values()])


def _zones_rg(ctx: Ctx) -> Response:
    return paged(
        ctx, [zone_json(ctx, z) for z in store(ctx.world).zones.values() if z.resource_group.lower() == ctx.rg.lower()]
    )


def _zone(ctx: Ctx) -> Response:
    return json_response(200, zone_json(ctx, _zone_of(ctx)))


def _set_json(ctx: Ctx, zone: Zone, name: str, rtype: str, *, etag: str, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"{ctx.rg_id(zone.resource_group)}/providers/Microsoft.Network/dnszones/{zone.name}/{rtype}/{name}",
        "name": name,
        "type": f"Microsoft.Network/dnszones/{rtype}",
        "etag": etag,
        "properties": {"fqdn": zone.fqdn(name), "provisioningState": "Succeeded", "targetResource": {}, **props},
    }


def record_json(ctx: Ctx, zone: Zone, record: RecordSet) -> dict[str, Any]:
    props = {"metadata": record.metadata, "TTL": record.ttl, **record_properties(record.type, record.values)}
    return _set_json(ctx, zone, record.name, record.type, etag=record.etag, props=props)


def _apex(ctx: Ctx, zone: Zone) -> list[dict[str, Any]]:
    ns = {"metadata": {}, "TTL": NS_TTL, "NSRecords": [{"nsdname": n} for n in NAME_SERVERS]}
    soa = {
        "metadata": {},
        "TTL": SOA_TTL,
        "SOARecord": {"host": NAME_SERVERS[0], "email": SOA_EMAIL, "serialNumber": zone.serial, **SOA_TIMERS},
    }
    return [
        _set_json(ctx, zone, "@", "NS", etag=zone.etag, props=ns),
        _set_json(ctx, zone, "@", "SOA", etag=zone.etag, props=soa),
    ]


def _all_sets(ctx: Ctx, zone: Zone) -> list[dict[str, Any]]:
    records = sorted(zone.sets.values(), key=lambda r: (r.name.lower(), r.type))
    return _apex(ctx, zone) + [record_json(ctx, zone, r) for r in records]


def _list_all(ctx: Ctx) -> Response:
    zone = _zone_of(ctx)
    items = _all_sets(ctx, zone)
    suffix = ctx.req.param("$recordsetnamesuffix")
    if suffix:
        items = [i for i in items if str(i["name"]).lower().endswith(suffix.lower())]
    return paged(ctx, items)


def _rtype(ctx: Ctx) -> str:
    rtype = ctx.params["type"].upper()
    if rtype not in _TYPES and rtype not in ("CAA", "MX", "PTR", "SRV"):
        raise ArmError(400, "BadRequest", f"The record type '{ctx.params['type']}' is not valid.")
    return rtype


def _list_type(ctx: Ctx) -> Response:
    zone = _zone_of(ctx)
    rtype = _rtype(ctx)
    return paged(ctx, [s for s in _all_sets(ctx, zone) if str(s["type"]).endswith(f"/{rtype}")])


def _missing(ctx: Ctx) -> ArmError:
    return ArmError(
        404,
        "NotFound",
        f"The resource record '{ctx.params['name']}' does not exist in resource group '{ctx.rg}' of "
        f"subscription '{ctx.sub}'.",
    )


def _get(ctx: Ctx) -> Response:
    zone = _zone_of(ctx)
    rtype = _rtype(ctx)
    if ctx.params["name"] == "@" and rtype in ("NS", "SOA"):
        body = next(s for s in _apex(ctx, zone) if str(s["type"]).endswith(f"/{rtype}"))
        return json_response(200, body, {"ETag": zone.etag})
    record = zone.get(ctx.params["name"], rtype)
    if record is None:
        raise _missing(ctx)
    return json_response(200, record_json(ctx, zone, record), {"ETag": record.etag})


def _etag(value: str) -> str:
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')


def _preconditions(ctx: Ctx, record: RecordSet | None) -> None:
    if_match = ctx.req.headers.get("if-match")
    if if_match is not None:
        wanted = {_etag(v) for v in if_match.split(",")}
        if record is None or ("*" not in wanted and record.etag not in wanted):
            current = f" The current etag is '{record.etag}'." if record else " The record set does not exist."
            raise ArmError(
                412,
                "PreconditionFailed",
                f"The Record set {ctx.params['name']} has been modified (etag mismatch).{current}",
            )
    if_none_match = ctx.req.headers.get("if-none-match")
    if if_none_match is not None and _etag(if_none_match) == "*" and record is not None:
        raise ArmError(
            412,
            "PreconditionFailed",
            f"The Record set {ctx.params['name']} exists already and hence cannot be created again.",
        )


def _writable(ctx: Ctx) -> tuple[Zone, str, RecordSet | None]:
    zone = _zone_of(ctx)
    rtype = _rtype(ctx)
    if rtype not in WRITABLE_TYPES:
        raise ArmError(
            400,
            "BadRequest",
            f"The sandbox does not emulate writes of {rtype} record sets (writable: {', '.join(WRITABLE_TYPES)}).",
        )
    return zone, rtype, zone.get(ctx.params["name"], rtype)


def _props(ctx: Ctx) -> dict[str, Any]:
    props = ctx.body().get("properties") or {}
    if not isinstance(props, dict):
        raise ArmError(400, "BadRequest", "properties must be an object.")
    return props


def _write(ctx: Ctx, zone: Zone, rtype: str, *, ttl: Any, values: tuple[str, ...], metadata: Any) -> RecordSet:
    if not isinstance(ttl, int) or isinstance(ttl, bool) or not 0 <= ttl <= 2147483647:
        raise ArmError(400, "BadRequest", f"The TTL '{ttl}' is not valid: an integer from 0 to 2147483647.")
    problem = record_values_problem(rtype, list(values)) if values else f"a {rtype} record set needs records"
    if problem:
        raise ArmError(400, "BadRequest", f"The record set is not valid: {problem}.")
    clash = zone.conflicting_cname(ctx.params["name"], rtype)
    if clash:
        raise ArmError(
            409,
            "Conflict",
            f"The record set '{ctx.params['name']}' cannot be {rtype}: a {clash} record "
            "set with the same name exists and CNAME records cannot share a name.",
        )
    if metadata is not None and not isinstance(metadata, dict):
        raise ArmError(400, "BadRequest", "metadata must be an object of strings.")
    return zone.put(
        ctx.params["name"],
        rtype,
        ttl=ttl,
        values=values,
        metadata={str(k): str(v) for k, v in metadata.items()} if metadata is not None else None,
        now=ctx.now,
        delay=delay(ctx.world),
    )


def _values(rtype: str, props: dict[str, Any]) -> tuple[str, ...] | None:
    try:
        return values_from_properties(rtype, props)
    except ValueError as exc:
        raise ArmError(400, "BadRequest", str(exc)) from None


def _put(ctx: Ctx) -> Response:
    zone, rtype, record = _writable(ctx)
    _preconditions(ctx, record)
    props = _props(ctx)
    values = _values(rtype, props) or ()
    created = record is None
    written = _write(ctx, zone, rtype, ttl=props.get("TTL", 3600), values=values, metadata=props.get("metadata"))
    return json_response(201 if created else 200, record_json(ctx, zone, written), {"ETag": written.etag})


def _patch(ctx: Ctx) -> Response:
    zone, rtype, record = _writable(ctx)
    if record is None:
        raise _missing(ctx)
    _preconditions(ctx, record)
    props = _props(ctx)
    values = _values(rtype, props) or record.values
    metadata = props.get("metadata", record.metadata)
    written = _write(ctx, zone, rtype, ttl=props.get("TTL", record.ttl), values=values, metadata=metadata)
    return json_response(200, record_json(ctx, zone, written), {"ETag": written.etag})


def _delete(ctx: Ctx) -> Response:
    zone, rtype, record = _writable(ctx)
    if record is None and ctx.req.headers.get("if-match") is None:
        return Response(204)
    _preconditions(ctx, record)
    zone.delete(ctx.params["name"], rtype, now=ctx.now, delay=delay(ctx.world))
    return Response(200)
