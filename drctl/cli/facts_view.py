"""Facts as one short line for a person. The journal keeps every fact whole; views need only the gist."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from drctl.durations import format_duration as fd


def _rpo(d: Mapping[str, Any]) -> str:
    bound = "at most " if d.get("upper_bound") else ""
    return f"RPO exposure {bound}{fd(float(d.get('seconds', 0)))} ({d.get('source', '?')}: {d.get('basis', '')})"


def _dns(d: Mapping[str, Any]) -> str:
    previous = ", ".join(d.get("previous_values") or []) or "nothing"
    return (
        f"DNS {d.get('fqdn')} {d.get('type')}: {previous} -> {', '.join(d.get('values') or [])}, TTL "
        f"{d.get('previous_ttl')} -> {d.get('ttl')}; clients switch by {str(d.get('clients_switch_by', ''))[11:19]}"
    )


def _gate(d: Mapping[str, Any]) -> str:
    if d.get("by") == "measurement":
        return (
            f"RPO gate passed: exposure {fd(float(d.get('exposure_seconds') or 0))} <= {fd(float(d['gate_seconds']))}"
        )
    verdict = "ACCEPTED" if d.get("passed") else "refused"
    return f"RPO gate: data loss {verdict} by {d.get('approver')}: {d.get('reason')}"


def _op_finished(d: Mapping[str, Any]) -> str | None:
    if d.get("how") == "followed":
        return f"followed the operation already in flight: {d.get('key')}: {d.get('state')}"
    if d.get("how") == "found":
        return f"found done before a crash could report it: {d.get('key')}"
    return None if d.get("state") == "Succeeded" else f"{d.get('key')}: {d.get('state')} {d.get('error') or ''}"


_LINES: dict[str, Callable[[Mapping[str, Any]], str | None]] = {
    "arm.calls": lambda d: None,  # one per Azure operation: the journal keeps them, a person need not read them
    "health.http": lambda d: f"unhealthy: {d.get('first_error')} (p95 {d.get('p95_ms')} ms)",
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
    "rpo.gate": _gate,
    "dns.changed": _dns,
    "dns.conflict": lambda d: f"DNS {d.get('fqdn')} changed while we wrote it (412): re-read, re-decided",
    "dns.verified": lambda d: f"DNS verified at {', '.join(d.get('servers') or [])}",
    "service.restored": lambda d: "service restored (the RTO clock stops here)",
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
