"""Gathering evidence at run time: RPO exposure per resource, and whether the source is lost.

Journaled facts (shapes in docs/playbook.md, "RPO evidence and forcing"):

- ``rpo.evidence``: ``{"purpose", "resources": [Exposure.as_fact()...], "notes": [...]}``, every figure naming
  its resource; not read by the engine (it is what a forced failover *would* lose, not what was lost).
- ``source.assessment``: ``Assessment.as_fact()``: the signals and the verdict before anything is forced.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from drctl.actions.base import Role
from drctl.actions.rpo import Exposure, ReplicaReport
from drctl.actions.runtime import AbortRun, StepContext, TransientError
from drctl.actions.source_loss import FACT_SOURCE_ASSESSMENT, Assessment, Signal, probe_signal, replication_signal
from drctl.durations import format_duration

FACT_RPO_EVIDENCE = "rpo.evidence"
#: a probe slower than this is "unhealthy", never a sign of loss
PROBE_TIMEOUT = 5.0


@dataclass
class Evidence:
    found: list[Exposure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def app_exposure(ctx: StepContext, group: str, tied: str | None, into: Evidence) -> None:
    """The replication endpoints' figure for ``group``, if the playbook ties them to it and they say so too."""
    from drctl.actions.rpo import EvidenceError, from_app, parse_report
    from drctl.net.http import Client, HttpError

    scope = ctx.scope
    if not (scope.source.replication_url and scope.target.replication_url):
        into.notes.append("no replication_url in both regions")
        return
    if tied != group:
        into.notes.append(
            f"the replication endpoints are not tied to {group} (replication_url_group: {tied or 'not set'})"
        )
        return
    client = Client(timeout=PROBE_TIMEOUT, network=ctx.services.get("network"))

    def report(role: Role) -> ReplicaReport | None:
        url = scope.region(role).replication_url or ""
        name = scope.region_name(role)
        try:
            response = client.request("GET", url)
            if response.status != 200:
                into.notes.append(f"{name} replication endpoint answered {response.status}")
                return None
            found = parse_report(json.loads(response.body), name)
        except (HttpError, ValueError, EvidenceError) as exc:
            into.notes.append(f"{name} replication endpoint: {exc}")
            return None
        if found.failover_group is not None and found.failover_group.lower() != group.lower():
            into.notes.append(f"{name} replication endpoint reports on {found.failover_group}, not on {group}")
            return None
        return found

    try:
        target = report("target")
        if target is not None:
            into.found.append(from_app(report("source"), target, t0=ctx.t0, group=group))
    finally:
        client.close()


def storage_exposure(ctx: StepContext, accounts: dict[str, str], into: Evidence) -> None:
    """Each storage account's own bound, from its geo-replication last sync time."""
    from drctl.actions.azure_bridge import AzureFailure, arm
    from drctl.actions.rpo import from_storage
    from drctl.azure import storage

    for account, group in accounts.items():
        try:
            geo = arm(ctx, f"read geo-replication of {account}", storage.geo_replication, group, account)
        except (AzureFailure, TransientError) as exc:
            into.notes.append(str(exc))
            continue
        if geo.last_sync_time is None:
            into.notes.append(f"storage {account}: no lastSyncTime (geo-replication {geo.status})")
            continue
        into.found.append(from_storage(account, geo.last_sync_time, now=ctx.now()))


def record_evidence(ctx: StepContext, purpose: str, evidence: Evidence, covers: Sequence[Exposure]) -> None:
    """Journal every figure, unknown ones included, so a report can say what was and was not measured."""
    listed = {(e.resource, e.seconds, e.status) for e in evidence.found}
    extra = [e for e in covers if (e.resource, e.seconds, e.status) not in listed]
    ctx.record(
        FACT_RPO_EVIDENCE,
        {
            "purpose": purpose,
            "resources": [e.as_fact() for e in [*evidence.found, *extra]],
            "notes": list(evidence.notes),
        },
    )


def assess_sql_source(ctx: StepContext, group: str) -> Assessment:
    """Is the source of ``group`` lost? ARM's replication state from the target's side, the source's own ARM,
    and drctl's probes of the source's endpoints. Journaled and shown before any decision is taken on it."""
    from drctl.actions.azure_bridge import AzureFailure, arm
    from drctl.azure import sql as azure_sql

    scope = ctx.scope
    src, tgt = scope.source.sql, scope.target.sql
    assert src is not None  # checked by validation
    assert tgt is not None
    signals: list[Signal] = []
    try:
        seen = arm(
            ctx,
            f"read failover group {group} on {tgt.server}",
            azure_sql.failover_group,
            scope.target.resource_group,
            tgt.server,
            group,
        )
        partner = next((r for name, r in seen.partners if name.lower() == src.server.lower()), None)
        signals.append(
            replication_signal(f"replication of {group} seen from {tgt.server} (ARM)", seen.replication_state, partner)
        )
    except (AzureFailure, TransientError) as exc:
        signals.append(Signal("arm", f"replication of {group} seen from {tgt.server} (ARM)", str(exc), "unclear", True))
    signals.append(_source_arm(ctx, group))
    signals.extend(probe_source(ctx))
    found = Assessment(group, tuple(signals))
    ctx.record(FACT_SOURCE_ASSESSMENT, found.as_fact())
    ctx.progress(f"{group}: {found.text()}")
    return found


def _source_arm(ctx: StepContext, group: str) -> Signal:
    from drctl.actions.azure_bridge import AzureFailure, arm
    from drctl.azure import sql as azure_sql

    src = ctx.scope.source.sql
    assert src is not None
    what = f"{src.server} in {ctx.scope.source.location} (ARM)"
    try:
        seen = arm(
            ctx,
            f"read failover group {group} on {src.server}",
            azure_sql.failover_group,
            ctx.scope.source.resource_group,
            src.server,
            group,
        )
    except TransientError as exc:
        text = str(exc)
        if "ServiceUnavailable" in text or "503" in text:
            return Signal("arm", what, "region unavailable (503)", "lost")
        return Signal("arm", what, text, "unclear")
    except AzureFailure as exc:
        return Signal("arm", what, str(exc), "unclear")
    if seen.replication_state == "CATCH_UP":
        return Signal("arm", what, f"{seen.role}, replicationState CATCH_UP", "alive")
    # Azure answers reads of a lost region from the last known state: an answer alone proves nothing
    return Signal("arm", what, f"answers a read: {seen.role}, replicationState {seen.replication_state}", "neutral")


def probe_source(ctx: StepContext) -> list[Signal]:
    """drctl's own requests to the source's endpoints: a timeout is unhealthy, only a refusal is a sign of loss."""
    from drctl.net.http import Client, HttpError

    source = ctx.scope.source
    name = ctx.scope.region_name("source")
    urls = [
        (f"{name} {label} endpoint", u)
        for label, u in (("health", source.health_url), ("replication", source.replication_url))
        if u
    ]
    client = Client(timeout=PROBE_TIMEOUT, network=ctx.services.get("network"))
    signals: list[Signal] = []
    try:
        for what, url in urls:
            try:
                signals.append(probe_signal(what, status=client.request("GET", url).status))
            except HttpError as exc:
                signals.append(probe_signal(what, error=str(exc)))
    finally:
        client.close()
    return signals


def gate_decision(exposure: Exposure, limit: float, assessment: Assessment) -> dict[str, Any]:
    """The ``rpo.gate`` record of the resource ``exposure`` is about, before it is decided."""
    return {
        "resource": exposure.resource.name,
        "resource_kind": exposure.resource.kind,
        "gate_seconds": limit,
        "exposure_seconds": exposure.seconds,
        "exposure_status": exposure.status,
        "source": assessment.verdict,
    }


def pass_or_ask(
    ctx: StepContext,
    decision: dict[str, Any],
    exposure: Exposure,
    assessment: Assessment,
    *,
    doubt: str,
    question: Callable[[str], str],
    refused: str,
    reuse_prior: bool = False,
) -> dict[str, Any]:
    """Safety rule 2 for one resource, the same for every failover that can lose data: it passes on its own only when
    the source is lost *and* the figure about this resource is within the gate (unknown is never within); anything
    else is put to a person (data-loss topic, never ``--yes``) with ``doubt`` and the figure's problem as the why.
    The decision is journaled before any request that could lose data; a refusal aborts the run."""
    from drctl.actions.rpo import passes

    limit = float(decision["gate_seconds"])
    if assessment.verdict == "lost" and passes(exposure, limit):
        decision.update(passed=True, by="measurement")
        ctx.record("rpo.gate", decision)
        return decision
    why = [doubt] if assessment.verdict != "lost" else []
    if not passes(exposure, limit):
        shown = "not measured" if exposure.status == "unknown" else "over the gate"
        why.append(f"{exposure.text()}: {shown} (RPO gate {format_duration(limit)})")
    prompt = question("; ".join(why))
    prior = ctx.prior_approval() if reuse_prior else None
    approval = prior or ctx.request_approval(prompt, require_reason=True, topic="data-loss")
    decision.update(
        passed=approval.approved,
        by="approval",
        approver=approval.approver.os_user,
        principal=approval.approver.principal,
        reason=approval.reason,
    )
    ctx.record("rpo.gate", decision)
    if not approval.approved:
        raise AbortRun(refused)
    return decision
