"""Facts as one short line for a person. The journal keeps every fact whole; views need only the gist."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from drctl.durations import format_duration as fd
from drctl.text import milliseconds


def _ms(value: object) -> str:
    """A latency the check measured, or what it means that none was: no sample answered."""
    return milliseconds(float(value) if isinstance(value, int | float) else None, missing="no response")


def _rpo(d: Mapping[str, Any]) -> str:
    if "failover" in d:  # a failover that took effect: its data-loss window for one resource
        head = f"{d.get('resource')}: {d.get('failover')} failover"
        if d.get("status") == "synchronised":
            return f"{head}, nothing lost (synchronised)"
        if d.get("seconds") is None:
            return f"{head}, data loss UNKNOWN ({d.get('basis', '')})"
        bound = "at most " if d.get("upper_bound") else ""
        return f"{head}, data loss {bound}{fd(float(d['seconds']))} ({d.get('status')}: {d.get('basis', '')})"
    bound = "at most " if d.get("upper_bound") else ""
    return f"RPO exposure {bound}{fd(float(d.get('seconds') or 0))} ({d.get('source', '?')}: {d.get('basis', '')})"


def _evidence(d: Mapping[str, Any]) -> str:
    parts = []
    for r in d.get("resources") or []:
        if r.get("seconds") is None:
            parts.append(f"{r.get('resource')} unknown")
        else:
            bound = "at most " if r.get("upper_bound") else ""
            parts.append(f"{r.get('resource')} {bound}{fd(float(r['seconds']))}")
    return f"RPO evidence ({d.get('purpose')}): {', '.join(parts) or 'none'}"


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


def _gate(d: Mapping[str, Any]) -> str:
    name = f" of {d['resource']}" if d.get("resource") else ""
    if d.get("by") == "source-alive":
        return f"not forcing {d.get('resource', '')}: the source still answers"
    if d.get("by") == "measurement":
        return (
            f"RPO gate{name} passed: exposure {'at most ' if d.get('exposure_status') == 'bounded' else ''}"
            f"{fd(float(d.get('exposure_seconds') or 0))} <= "
            f"{fd(float(d['gate_seconds']))}"
        )
    verdict = "ACCEPTED" if d.get("passed") else "refused"
    return f"RPO gate{name}: data loss {verdict} by {d.get('approver')}: {d.get('reason')}"


def _op_finished(d: Mapping[str, Any]) -> str | None:
    if d.get("how") == "followed":
        return f"followed the operation already in flight: {d.get('key')}: {d.get('state')}"
    if d.get("how") == "found":
        return f"found done before a crash could report it: {d.get('key')}"
    return None if d.get("state") == "Succeeded" else f"{d.get('key')}: {d.get('state')} {d.get('error') or ''}"


_LINES: dict[str, Callable[[Mapping[str, Any]], str | None]] = {
    "arm.calls": lambda d: None,  # one per Azure operation: the journal keeps them, a person need not read them
    "health.http": lambda d: f"unhealthy: {d.get('first_error')} (p95 {_ms(d.get('p95_ms'))})",
    "notify.sent": lambda d: f"message sent to {d.get('channel')} ({d.get('kind')}): {d.get('title')!r}",
    "notify.failed": lambda d: f"message to {d.get('channel')} NOT delivered: {d.get('error')}",
    "notify.sending": lambda d: None,  # the intent before each try: for resume, not for a person
    "notify.unknown": lambda d: (
        f"message to {d.get('channel')} may or may not have arrived; not resent: {d.get('error')}"
    ),
    "op.intent": lambda d: None,  # the journal's record of a change about to be sent: for resume
    "op.accepted": lambda d: None,
    "op.finished": _op_finished,
    "rpo.exposure": _rpo,
    "rpo.unmeasured": lambda d: f"RPO exposure could not be measured: {'; '.join(d.get('notes') or [])}",
    "rpo.evidence": _evidence,
    "source.assessment": lambda d: None,  # its progress line says it, evidence included
    "rpo.gate": _gate,
    "dns.changed": _dns,
    "dns.conflict": lambda d: f"DNS {d.get('fqdn')} changed while we wrote it (412): re-read, re-decided",
    "dns.verified": lambda d: f"DNS verified at {', '.join(d.get('servers') or [])}",
    "service.restored": _restored,
    "storage.failover": lambda d: f"storage account {d.get('account')}: {d.get('type')} failover done",
    "sql.failover": lambda d: f"{d.get('failover_group')}: {d.get('primary')} is primary ({d.get('mode')})",
    "sql.planned_failed": lambda d: f"planned failover failed: {d.get('error')}",
    "replication.suspended": lambda d: f"replication links not catching up ({d.get('because')})",
}


def describe_fact(kind: str, data: Mapping[str, Any]) -> str | None:
    line = _LINES.get(kind)
    if line is not None:
        return line(data)
    shown = ", ".join(f"{k}={v}" for k, v in list(data.items())[:4])
    return f"{kind}: {shown}"[:300]
