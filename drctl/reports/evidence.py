"""Typed evidence from the facts actions journaled: messages, DNS changes, RPO, SQL failovers, ARM calls, probes.

Facts are whatever an action recorded (docs/reports.md lists the kinds read here and their fields); readers here
are tolerant on purpose: a field an action left out, or wrote with another type, becomes None rather than
failing the report, since a report of a failed run is exactly when evidence is incomplete. Every fact is also in
the report's ``facts`` as journaled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from drctl.engine import events as ev
from drctl.reports.model import (
    ArmCall,
    BackToStandby,
    DnsChange,
    FenceRecord,
    MessageRecord,
    Probe,
    RpoGate,
    RpoMeasurement,
    SqlFailover,
    StandbyLeft,
    StandbyResource,
)

NOTIFY_SENT = "notify.sent"
NOTIFY_FAILED = "notify.failed"
NOTIFY_UNKNOWN = "notify.unknown"
DNS_CHANGED = "dns.changed"
DNS_VERIFIED = "dns.verified"
RPO_EXPOSURE = "rpo.exposure"
RPO_GATE = "rpo.gate"
SQL_FAILOVER = "sql.failover"
FENCE_ITEM = "fence.item"
ARM_CALLS = "arm.calls"
DRILL_PROBE = "drill.probe"
DRILL_HOLD = "drill.hold"
SERVICE_RESTORED = "service.restored"
STANDBY_PRIOR = "standby.prior"
STANDBY_RETURNED = "standby.returned"
STANDBY_NOTHING = "standby.return.nothing"


def text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def number(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def whole(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def flag(data: Mapping[str, Any], key: str) -> bool | None:
    value = data.get(key)
    return value if isinstance(value, bool) else None


def moment(data: Mapping[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def texts(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key)
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return ()


def of_kind(facts: Sequence[ev.Fact], *kinds: str) -> list[ev.Fact]:
    return [f for f in facts if f.kind in kinds]


def messages(facts: Sequence[ev.Fact]) -> tuple[MessageRecord, ...]:
    return tuple(
        MessageRecord(
            step=f.step,
            at=f.at,
            sent=f.kind == NOTIFY_SENT,
            in_doubt=f.kind == NOTIFY_UNKNOWN,
            channel=text(f.data, "channel"),
            kind=text(f.data, "kind"),
            audience=text(f.data, "audience"),
            title=text(f.data, "title"),
            message_id=text(f.data, "message_id"),
            error=text(f.data, "error"),
        )
        for f in of_kind(facts, NOTIFY_SENT, NOTIFY_FAILED, NOTIFY_UNKNOWN)
    )


def dns_changes(facts: Sequence[ev.Fact], t0: datetime) -> tuple[DnsChange, ...]:
    verified: dict[str | None, datetime] = {}
    for f in of_kind(facts, DNS_VERIFIED):
        verified.setdefault(text(f.data, "fqdn"), moment(f.data, "at") or moment(f.data, "verified_at") or f.at)
    out = []
    for f in of_kind(facts, DNS_CHANGED):
        fqdn = text(f.data, "fqdn")
        switch = moment(f.data, "clients_switch_by")
        out.append(
            DnsChange(
                step=f.step,
                at=f.at,
                fqdn=fqdn,
                type=text(f.data, "type"),
                previous_values=texts(f.data, "previous_values"),
                previous_ttl=whole(f.data, "previous_ttl"),
                values=texts(f.data, "values"),
                ttl=whole(f.data, "ttl"),
                changed_at=moment(f.data, "changed_at"),
                clients_switch_by=switch,
                clients_switch_offset_seconds=(switch - t0).total_seconds() if switch else None,
                verified_at=_verified_after(verified, fqdn, f.at),
            )
        )
    return tuple(out)


def _verified_after(verified: Mapping[str | None, datetime], fqdn: str | None, changed: datetime) -> datetime | None:
    at = verified.get(fqdn) or (verified.get(None) if len(verified) == 1 else None)
    return at if at is not None and at >= changed else None


def rpo_measurements(facts: Sequence[ev.Fact]) -> tuple[RpoMeasurement, ...]:
    return tuple(
        RpoMeasurement(
            step=f.step,
            at=f.at,
            seconds=number(f.data, "seconds"),
            source=text(f.data, "source"),
            basis=text(f.data, "basis"),
            upper_bound=flag(f.data, "upper_bound"),
        )
        for f in of_kind(facts, RPO_EXPOSURE)
    )


def rpo_gates(facts: Sequence[ev.Fact]) -> tuple[RpoGate, ...]:
    return tuple(
        RpoGate(
            step=f.step,
            at=f.at,
            gate_seconds=number(f.data, "gate_seconds"),
            exposure_seconds=number(f.data, "exposure_seconds"),
            passed=flag(f.data, "passed"),
            by=text(f.data, "by"),
            approver=_person(f.data.get("approver")),
            reason=text(f.data, "reason"),
        )
        for f in of_kind(facts, RPO_GATE)
    )


def _person(value: object) -> str | None:
    """An approver as a fact names them: a user name, or an identity object."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        who = value.get("principal") or value.get("os_user")
        host = value.get("host")
        return f"{who}@{host}" if who and host else (str(who) if who else None)
    return None


def sql_failovers(facts: Sequence[ev.Fact]) -> tuple[SqlFailover, ...]:
    return tuple(
        SqlFailover(
            step=f.step,
            at=f.at,
            failover_group=text(f.data, "failover_group"),
            mode=text(f.data, "mode"),
            primary=text(f.data, "primary"),
            secondary=text(f.data, "secondary"),
        )
        for f in of_kind(facts, SQL_FAILOVER)
    )


def fencing(facts: Sequence[ev.Fact]) -> tuple[FenceRecord, ...]:
    return tuple(
        FenceRecord(
            step=f.step,
            at=f.at,
            kind=text(f.data, "kind") or "",
            name=text(f.data, "name") or "",
            region=text(f.data, "region") or "",
            fenced=f.data.get("fenced") is True,
            detail=text(f.data, "detail") or "",
            via=text(f.data, "via"),
        )
        for f in of_kind(facts, FENCE_ITEM)
    )


def arm_calls(facts: Sequence[ev.Fact]) -> tuple[ArmCall, ...]:
    out = []
    for f in of_kind(facts, ARM_CALLS):
        calls = f.data.get("calls")
        for call in calls if isinstance(calls, list) else []:
            if not isinstance(call, Mapping):
                continue
            out.append(
                ArmCall(
                    step=f.step,
                    at=f.at,
                    operation=text(f.data, "operation"),
                    method=text(call, "method"),
                    path=text(call, "path"),
                    status=whole(call, "status"),
                    request_id=text(call, "request_id"),
                    correlation_id=text(call, "correlation_id"),
                )
            )
    return tuple(out)


def probes(facts: Sequence[ev.Fact], t0: datetime) -> tuple[Probe, ...]:
    return tuple(
        Probe(
            at=f.at,
            offset_seconds=(f.at - t0).total_seconds(),
            n=whole(f.data, "n"),
            url=text(f.data, "url"),
            status=whole(f.data, "status"),
            ok=flag(f.data, "ok") is True,
            seconds=number(f.data, "seconds"),
            error=text(f.data, "error"),
        )
        for f in of_kind(facts, DRILL_PROBE)
    )


def _mapping(data: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    value = data.get(key)
    return dict(value) if isinstance(value, Mapping) else None


def back_to_standby(facts: Sequence[ev.Fact]) -> BackToStandby:
    """Each resource a standby step changed, with its return when a step returned it: one row per resource, the
    latest return winning (a retried step journals a failed attempt and then the one that worked)."""
    rows: dict[tuple[Any, Any, Any], StandbyResource] = {}

    def row(f: ev.Fact, prior: dict[str, Any] | None, **returned: Any) -> StandbyResource:
        fields = {"found": None, "returned": None, "verified": None, "detail": None, "priors_run": None} | returned
        return StandbyResource(
            step=f.step,
            at=f.at,
            region=text(f.data, "region"),
            kind=text(f.data, "kind"),
            name=text(f.data, "name"),
            prior=prior,
            **fields,
        )

    for f in of_kind(facts, STANDBY_PRIOR, STANDBY_RETURNED):
        key = (f.data.get("kind"), f.data.get("name"), f.data.get("region"))
        if f.kind == STANDBY_PRIOR:
            rows.setdefault(key, row(f, _mapping(f.data, "state")))
            continue
        verified = flag(f.data, "verified")
        rows[key] = row(
            f,
            _mapping(f.data, "to"),
            found=_mapping(f.data, "from"),
            returned=_mapping(f.data, "to") if verified else None,
            verified=verified,
            detail=text(f.data, "detail") or text(f.data, "error"),
            priors_run=text(f.data, "priors_run"),
        )
    left = tuple(
        StandbyLeft(f.step, f.at, text(f.data, "region"), text(f.data, "message"))
        for f in of_kind(facts, STANDBY_NOTHING)
    )
    return BackToStandby(tuple(rows.values()), left)
