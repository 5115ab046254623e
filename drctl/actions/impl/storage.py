"""storage.* at run time: geo-replication evidence and account failover."""

from __future__ import annotations

from drctl.actions.runtime import FACT_RPO_EXPOSURE, ActionError, Implementation, Outcome, StepContext, TransientError
from drctl.actions.storage import StorageCheckParams, StorageParams, _accounts, declared_accounts
from drctl.durations import format_duration


def run_check(p: StorageCheckParams, ctx: StepContext) -> Outcome:
    from drctl.actions.azure_bridge import arm
    from drctl.actions.rpo import from_storage, worst
    from drctl.azure import storage

    declared = declared_accounts(ctx.scope)
    found = []
    for name in _accounts(p, ctx.scope):
        geo = arm(ctx, f"read geo-replication of {name}", storage.geo_replication, declared[name], name)
        if geo.last_sync_time is None:
            raise TransientError(f"storage {name}: no last sync time yet (geo-replication {geo.status})")
        found.append(from_storage(name, geo.last_sync_time, now=ctx.now()))
    leading = worst(found)
    assert leading is not None  # at least one account, checked by validation
    ctx.record(FACT_RPO_EXPOSURE, {**leading.as_fact(), "measurements": [e.as_fact() for e in found]})
    limit = (p.max_exposure or ctx.scope.playbook.objectives.rpo).total_seconds()
    if leading.seconds > limit and p.enforce_rpo:
        raise ActionError(f"storage RPO exposure {format_duration(leading.seconds)} is over {format_duration(limit)}")
    return Outcome(f"storage RPO exposure at most {format_duration(leading.seconds)} ({leading.basis})")


def _primary_is_target(ctx: StepContext, name: str, group: str) -> bool:
    from drctl.actions.azure_bridge import arm
    from drctl.azure import storage

    geo = arm(ctx, f"read storage account {name}", storage.geo_replication, group, name)
    return (geo.primary_location or "").lower() == ctx.scope.target.location.lower()


def fail_over_account(ctx: StepContext, group: str, name: str, **options: str) -> None:
    """The account failover, once per intent: one an earlier attempt or a crashed process left running is followed
    (``options`` go to the SDK, e.g. ``failover_type``)."""
    from drctl.actions.azure_bridge import Mutation, start_or_follow
    from drctl.azure import storage

    kind = options.get("failover_type", "default")
    mutation = Mutation(
        key=f"storage.failover.{kind} {group}/{name}",
        what=f"fail over storage account {name}",
        start=lambda azure: storage.begin_fail_over(azure, group, name, **options),
        client="storage",
    )
    start_or_follow(ctx, mutation, reached=lambda: _primary_is_target(ctx, name, group))


def run_failover(p: StorageParams, ctx: StepContext) -> Outcome:
    from drctl.actions.azure_bridge import follow_in_flight

    follow_in_flight(ctx, "storage.failover.", "storage")
    declared = declared_accounts(ctx.scope)
    moved = []
    for name in _accounts(p, ctx.scope):
        if _primary_is_target(ctx, name, declared[name]):
            continue
        ctx.progress(f"failing storage account {name} over to {ctx.scope.target.location}")
        fail_over_account(ctx, declared[name], name)
        if not _primary_is_target(ctx, name, declared[name]):
            raise ActionError(f"storage account {name}: primary is not {ctx.scope.target.location} after failover")
        moved.append(name)
    return Outcome(f"{len(moved)} storage accounts failed over", changed=bool(moved), facts={"failed_over": moved})


def done_failover(p: StorageParams, ctx: StepContext) -> bool:
    from drctl.actions.azure_bridge import open_rounds

    if open_rounds(ctx, "storage.failover."):
        return False  # a failover this run started may still be running: the step follows it to its end
    declared = declared_accounts(ctx.scope)
    return all(_primary_is_target(ctx, name, declared[name]) for name in _accounts(p, ctx.scope))


CHECK_IMPLEMENTATION = Implementation(run=run_check)
FAILOVER_IMPLEMENTATION = Implementation(run=run_failover, done=done_failover)
