"""storage.* at run time: geo-replication evidence (per account) and account failover, planned or unplanned."""

from __future__ import annotations

from typing import Any

from drctl.actions.hidden import last_intended_kind, record_hidden_failover
from drctl.actions.rpo import Exposure, FailoverKind
from drctl.actions.runtime import (
    FACT_RPO_EXPOSURE,
    ActionError,
    Finding,
    Implementation,
    Outcome,
    StepContext,
    TransientError,
)
from drctl.actions.source_loss import FACT_SOURCE_ASSESSMENT, Assessment, Says, Signal
from drctl.actions.storage.spec import StorageCheckParams, StorageFailoverParams, _accounts, declared_accounts
from drctl.azure.storage import GeoReplication
from drctl.durations import format_duration
from drctl.playbook.enums import Mode


def _read(ctx: StepContext, name: str, group: str) -> GeoReplication:
    from drctl.actions.azure_bridge import arm
    from drctl.azure import storage

    return arm(ctx, f"read storage account {name}", storage.geo_replication, group, name)


def run_check(p: StorageCheckParams, ctx: StepContext) -> Outcome:
    from drctl.actions.evidence import Evidence, record_evidence
    from drctl.actions.rpo import from_storage, passes

    declared = declared_accounts(ctx.scope)
    evidence = Evidence()
    for name in _accounts(p, ctx.scope):
        geo = _read(ctx, name, declared[name])
        if geo.last_sync_time is None:
            raise TransientError(f"storage {name}: no last sync time yet (geo-replication {geo.status})")
        evidence.found.append(from_storage(name, geo.last_sync_time, now=ctx.now()))
    record_evidence(ctx, "check", evidence, [])
    limit = (p.max_exposure or ctx.scope.playbook.objectives.rpo).total_seconds()
    over = [e for e in evidence.found if not passes(e, limit)]
    if over and p.enforce_rpo:
        raise ActionError("; ".join(f"{e.text()} is over {format_duration(limit)}" for e in over))
    texts = [f"{e.text()}, {'OVER' if e in over else 'within'} {format_duration(limit)}" for e in evidence.found]
    return Outcome("; ".join(texts))


FAILOVER_KEY = "storage.failover."


def _start_storage_failover(ctx: StepContext, group: str, name: str, *, planned: bool) -> None:
    """Every storage account failover request goes through here, once per intent: one an earlier attempt or a
    crashed process left running is followed to its end, never started again."""
    from drctl.actions.azure_bridge import Mutation, start_or_follow
    from drctl.azure import storage

    kind = "planned" if planned else "unplanned"
    mutation = Mutation(
        key=f"{FAILOVER_KEY}{kind} {group}/{name}",
        what=f"{kind} failover of storage account {name}",
        start=lambda azure: storage.begin_fail_over(azure, group, name, planned=planned),
        client="storage",
    )
    start_or_follow(ctx, mutation, reached=lambda: _is_target(ctx, _read(ctx, name, group)))


def _journaled_kind(ctx: StepContext, group: str, name: str) -> str | None:
    return last_intended_kind(ctx, FAILOVER_KEY, about=f"{group}/{name}")


def _record_taken(ctx: StepContext, name: str, took: str) -> dict[str, Any]:
    from drctl.actions.rpo import account_resource

    kind: FailoverKind = "unplanned" if took == "unplanned" else "planned"
    return record_hidden_failover(
        ctx,
        fact="storage.failover",
        facts={"account": name, "type": kind, "primary_location": ctx.scope.target.location},
        resource=account_resource(name),
        kind=kind,
        gate_is_about=lambda g: g.get("resource") == name,
    )


def _assess(ctx: StepContext, name: str, geo: GeoReplication) -> Assessment:
    """Is the account's primary lost? Azure's own view of the account: geo-replication status and the primary's
    status. Journaled and shown before anything is decided on it."""
    what = f"geo-replication of {name} (ARM)"
    by_status: dict[str, Says] = {"live": "alive", "unavailable": "lost"}
    by_primary: dict[str, Says] = {"available": "alive", "unavailable": "lost"}
    replication = by_status.get((geo.status or "").lower(), "unclear")
    primary = by_primary.get((geo.status_of_primary or "").lower(), "unclear")
    signals = (
        Signal("arm", what, f"status {geo.status or 'not reported'}", replication, replication=True),
        Signal("arm", f"primary of {name} (ARM)", f"statusOfPrimary {geo.status_of_primary}", primary),
    )
    found = Assessment(name, signals)
    ctx.record(FACT_SOURCE_ASSESSMENT, found.as_fact())
    ctx.progress(f"storage account {name}: {found.text()}")
    return found


def _gate(
    p: StorageFailoverParams, ctx: StepContext, name: str, geo: GeoReplication
) -> tuple[dict[str, Any], Exposure]:
    """The account's own gate: its lastSyncTime, never another resource's evidence."""
    from drctl.actions.evidence import Evidence, gate_decision, pass_or_ask, record_evidence
    from drctl.actions.rpo import account_resource, from_storage, unknown

    assessment = _assess(ctx, name, geo)
    limit = (p.rpo_gate or ctx.scope.playbook.objectives.rpo).total_seconds()
    if geo.last_sync_time is not None:
        exposure = from_storage(name, geo.last_sync_time, now=ctx.now())
    else:
        exposure = unknown(account_resource(name), f"no lastSyncTime (geo-replication {geo.status})")
    record_evidence(ctx, "gate", Evidence([exposure]), [])
    decided = pass_or_ask(
        ctx,
        gate_decision(exposure, limit, assessment),
        exposure,
        assessment,
        doubt=assessment.text(),
        question=lambda why: (
            f"An unplanned failover of storage account {name} loses the writes after its last sync: {why}. "
            "Accept the data loss and fail over?"
        ),
        # one step gates each account on its own: an approval given for one account never stands for another
        refused=f"unplanned failover of storage account {name} refused: the data loss was not accepted",
    )
    return decided, exposure


def _is_target(ctx: StepContext, geo: GeoReplication) -> bool:
    return (geo.primary_location or "").lower() == ctx.scope.target.location.lower()


def _fail_over_one(p: StorageFailoverParams, ctx: StepContext, name: str, group: str) -> dict[str, Any] | None:
    from drctl.actions.rpo import account_resource, loss_fact

    geo = _read(ctx, name, group)
    if _is_target(ctx, geo):
        took = _journaled_kind(ctx, group, name)
        recorded = any(f.get("account") == name for f in ctx.journaled("storage.failover"))
        return _record_taken(ctx, name, took) if took is not None and not recorded else None
    mode = p.mode
    if ctx.mode is Mode.DRILL and mode != "planned":
        ctx.progress(f"drill: planned failover of {name} only (the playbook says {mode})")
        mode = "planned"
    both = bool(geo.can_planned_failover) and (geo.status_of_primary or "").lower() == "available"
    gate: dict[str, Any] | None = None
    exposure: Exposure | None = None
    if (both and mode != "unplanned") or mode == "planned":
        if not both:
            raise TransientError(
                f"storage account {name}: a planned failover needs both regions (primary {geo.status_of_primary}, "
                f"planned failover {'possible' if geo.can_planned_failover else 'not possible'})"
            )
        ctx.progress(f"planned failover of storage account {name} to {ctx.scope.target.location} (no data loss)")
        _start_storage_failover(ctx, group, name, planned=True)
        kind: FailoverKind = "planned"
    else:
        gate, exposure = _gate(p, ctx, name, geo)
        ctx.progress(f"unplanned failover of storage account {name} to {ctx.scope.target.location} (data loss allowed)")
        _start_storage_failover(ctx, group, name, planned=False)
        kind = "unplanned"
    if not _is_target(ctx, _read(ctx, name, group)):
        raise ActionError(
            f"storage account {name}: primary is not {ctx.scope.target.location} after the {kind} failover"
        )
    facts = {"account": name, "type": kind, "primary_location": ctx.scope.target.location, "gate": gate}
    ctx.record("storage.failover", facts)
    ctx.record(FACT_RPO_EXPOSURE, loss_fact(account_resource(name), kind, exposure))
    return facts


def run_failover(p: StorageFailoverParams, ctx: StepContext) -> Outcome:
    from drctl.actions.azure_bridge import follow_in_flight

    follow_in_flight(ctx, FAILOVER_KEY, "storage")
    declared = declared_accounts(ctx.scope)
    moved = [
        found for name in _accounts(p, ctx.scope) if (found := _fail_over_one(p, ctx, name, declared[name])) is not None
    ]
    kinds = ", ".join(f"{m['account']} {m['type']}" for m in moved) or "none needed"
    return Outcome(
        f"{len(moved)} storage accounts failed over ({kinds})",
        changed=bool(moved),
        facts={"failed_over": [m["account"] for m in moved], "types": {m["account"]: m["type"] for m in moved}},
    )


def done_failover(p: StorageFailoverParams, ctx: StepContext) -> bool:
    from drctl.actions.azure_bridge import open_rounds

    if open_rounds(ctx, FAILOVER_KEY):
        return False  # a failover this run started may still be running: the step follows it to its end
    declared = declared_accounts(ctx.scope)
    names = _accounts(p, ctx.scope)
    if not all(_is_target(ctx, _read(ctx, name, declared[name])) for name in names):
        return False
    recorded = {f.get("account") for f in ctx.journaled("storage.failover")}
    for name in names:
        took = _journaled_kind(ctx, declared[name], name)
        if took is not None and name not in recorded:
            _record_taken(ctx, name, took)  # the failover a crash hid keeps its type and its data loss
    return True


def preflight_failover(p: StorageFailoverParams, ctx: StepContext) -> list[Finding]:
    """Which failover each account would get now: planned needs both regions, in a drill too."""
    declared = declared_accounts(ctx.scope)
    found: list[Finding] = []
    for name in _accounts(p, ctx.scope):
        geo = _read(ctx, name, declared[name])
        current = (
            f"primary {geo.primary_location} ({geo.status_of_primary}), secondary {geo.secondary_location}, "
            f"planned failover {'possible' if geo.can_planned_failover else 'NOT possible'}"
        )
        if _is_target(ctx, geo):
            found.append(Finding(f"storage account {name}", current, None, "warning", "the target is already primary"))
        elif geo.can_planned_failover:
            found.append(Finding(f"storage account {name}", current, f"primary {ctx.scope.target.location}", "info"))
        else:
            why = "only an unplanned failover (data loss, behind the account's RPO gate) could run now"
            target = f"primary {ctx.scope.target.location}"
            if p.mode == "planned":
                found.append(
                    Finding(f"storage account {name}", current, target, "error", "a planned failover cannot run")
                )
            else:
                found.append(Finding(f"storage account {name}", current, target, "warning", why))
    return found


CHECK_IMPLEMENTATION = Implementation(run=run_check)
FAILOVER_IMPLEMENTATION = Implementation(run=run_failover, done=done_failover, preflight=preflight_failover)


def implementation(action: str) -> Implementation[Any] | None:
    """The run-time half of ``action``: how the registry reaches this module when a run starts (``RunModule``)."""
    from drctl.actions.storage.spec import STORAGE_CHECK, STORAGE_FAILOVER

    known: dict[str, Implementation[Any]] = {
        STORAGE_CHECK.name: CHECK_IMPLEMENTATION,
        STORAGE_FAILOVER.name: FAILOVER_IMPLEMENTATION,
    }
    return known.get(action)
