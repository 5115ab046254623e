"""Azure DNS record sets through the SDK, with ETags, so a concurrent change is never overwritten blindly."""

from __future__ import annotations

from dataclasses import dataclass

from drctl.azure.clients import AzureClients
from drctl.azure.sql import prop


@dataclass(frozen=True)
class RecordState:
    name: str
    type: str
    values: tuple[str, ...]
    ttl: int | None
    etag: str | None


def _values(record: object, kind: str) -> tuple[str, ...]:
    if kind == "A":
        return tuple(str(a.ipv4_address) for a in (prop(record, "a_records") or []))
    if kind == "AAAA":
        return tuple(str(a.ipv6_address) for a in (prop(record, "aaaa_records") or []))
    if kind == "CNAME":
        cname = prop(record, "cname_record")
        return (str(cname.cname),) if cname is not None and cname.cname else ()
    raise ValueError(f"record type {kind} is not handled")


def get_record(
    clients: AzureClients, resource_group: str, zone: str, name: str, kind: str, *, subscription: str | None = None
) -> RecordState:
    record = clients.dns(subscription).record_sets.get(resource_group, zone, name, kind)
    return RecordState(name, kind, _values(record, kind), prop(record, "ttl"), getattr(record, "etag", None))


def set_record(
    clients: AzureClients,
    resource_group: str,
    zone: str,
    name: str,
    kind: str,
    *,
    values: tuple[str, ...],
    ttl: int,
    if_match: str | None,
    subscription: str | None = None,
) -> RecordState:
    """Write the record set; with ``if_match`` a concurrent change raises a 412 instead of being overwritten."""
    from azure.mgmt.dns.models import AaaaRecord, ARecord, CnameRecord, RecordSet

    if kind == "A":
        record = RecordSet(ttl=ttl, a_records=[ARecord(ipv4_address=v) for v in values])
    elif kind == "AAAA":
        record = RecordSet(ttl=ttl, aaaa_records=[AaaaRecord(ipv6_address=v) for v in values])
    elif kind == "CNAME":
        record = RecordSet(ttl=ttl, cname_record=CnameRecord(cname=values[0]))
    else:
        raise ValueError(f"record type {kind} is not handled")
    written = clients.dns(subscription).record_sets.create_or_update(
        resource_group, zone, name, kind, record, if_match=if_match
    )
    return RecordState(name, kind, _values(written, kind), prop(written, "ttl"), getattr(written, "etag", None))


def name_servers(clients: AzureClients, resource_group: str, zone: str, subscription: str | None = None) -> list[str]:
    found = clients.dns(subscription).zones.get(resource_group, zone)
    return [str(ns) for ns in (prop(found, "name_servers") or [])]
