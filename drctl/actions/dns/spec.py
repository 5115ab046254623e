"""dns.swap: point the playbook's records at the target under If-Match, then verify where clients ask."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import Field

from drctl.actions.base import ActionSpec, Params, Problem, SafetyRole, Scope
from drctl.playbook.model import Duration


class DnsSwapParams(Params):
    #: record names from ``dns.records``; all of them when omitted
    records: list[str] | None = None
    #: the TTL written with the new value; ``dns.ttl`` (300 s by default) when omitted
    ttl: int | None = Field(default=None, ge=1, le=86400)
    #: query the zone's authoritative name servers until every record answers the target value
    verify: bool = True
    verify_timeout: Duration = timedelta(minutes=2)


@dataclass(frozen=True)
class Move:
    name: str
    fqdn: str
    type: str
    source_value: str | None
    value: str
    ttl: int


def swap_records(p: DnsSwapParams, scope: Scope) -> list[Move]:
    """Each record the step moves, with the value it leaves and the value it takes."""
    dns = scope.playbook.dns
    if dns is None:
        return []
    wanted = set(p.records) if p.records is not None else None
    moves = []
    for record in dns.records:
        if wanted is not None and record.name not in wanted:
            continue
        fqdn = dns.zone if record.name == "@" else f"{record.name}.{dns.zone}"
        moves.append(
            Move(
                record.name,
                fqdn,
                record.type.value,
                scope.source.dns.get(record.name),
                scope.target.dns.get(record.name, "?"),
                p.ttl or record.ttl or dns.ttl,
            )
        )
    return moves


def _describe(p: DnsSwapParams, scope: Scope) -> list[str]:
    lines = [
        f"DNS {m.fqdn} {m.type} -> {m.value}, TTL {m.ttl} (If-Match on the current ETag)"
        for m in swap_records(p, scope)
    ]
    if p.verify and lines:
        lines.append("verify at the zone's authoritative name servers; report when clients switch (change + old TTL)")
    return lines


def _check(p: DnsSwapParams, scope: Scope) -> list[Problem]:
    dns = scope.playbook.dns
    if dns is None:
        return [Problem("dns.swap needs the playbook's 'dns' section (zone and records)")]
    known = {r.name for r in dns.records}
    return [
        Problem(f"record {name!r} is not in dns.records ({', '.join(sorted(known))})", ("records", i))
        for i, name in enumerate(p.records or [])
        if name not in known
    ]


def _safety(_p: DnsSwapParams, _raw: Mapping[str, Any]) -> set[SafetyRole]:
    return {SafetyRole.MOVES_TRAFFIC}


DNS_SWAP = ActionSpec(
    name="dns.swap",
    summary="Point DNS records at the target with TTL 300 under If-Match, and verify at authoritative servers",
    params=DnsSwapParams,
    mutating=True,
    default_timeout=timedelta(minutes=5),
    default_budget=timedelta(minutes=1),
    describe=_describe,
    check=_check,
    safety=_safety,
    moves_traffic=True,
    needs_azure=True,
)
