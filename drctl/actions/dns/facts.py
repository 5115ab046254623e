"""The facts dns.swap records: each record changed, its verification, and when clients were served again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drctl.actions.facts import FactKind
from drctl.durations import format_duration as fd


def _dns(d: Mapping[str, Any]) -> str:
    previous = ", ".join(d.get("previous_values") or []) or "nothing"
    return (
        f"DNS {d.get('fqdn')} {d.get('type')}: {previous} -> {', '.join(d.get('values') or [])}, TTL "
        f"{d.get('previous_ttl')} -> {d.get('ttl')}; clients switch by {str(d.get('clients_switch_by', ''))[11:19]}"
    )


def _restored(d: Mapping[str, Any]) -> str:
    clients = str(d.get("at", ""))[11:19]
    lag = d.get("previous_ttl_seconds")
    if not isinstance(lag, int | float) or "authoritative_at" not in d:
        return f"service restored at {clients} (the RTO clock stops there)"
    return (
        f"service restored for clients by {clients}: verified at the authoritative servers at "
        f"{str(d['authoritative_at'])[11:19]} + the previous TTL {fd(float(lag))} (the RTO clock stops there)"
    )


FACTS = (
    FactKind("dns.changed", _dns, "DNS"),
    FactKind("dns.conflict", lambda d: f"DNS {d.get('fqdn')} changed while we wrote it (412): re-read, re-decided"),
    FactKind("dns.verified", lambda d: f"DNS verified at {', '.join(d.get('servers') or [])}", "DNS"),
    # the phases table stops the RTO clock at it
    FactKind("service.restored", _restored, "Phases"),
)
