"""fence.source at run time: decide whether this run must fence, then fence every item in parallel, one
``fence.item`` per outcome. An item the region cannot fence now (control plane down) is journaled unfenced and the
step still succeeds: the failover itself succeeded, and the open risk is shown until ``drctl fence RUN`` (or a
resume) closes it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drctl.actions.fence.facts import FENCE_AGAIN, FENCE_ITEM, FENCE_SUMMARY, label
from drctl.actions.fence.spec import FenceParams, items_with_fencers
from drctl.actions.fencing import FenceItem, FenceOutcome
from drctl.actions.runtime import Finding, Implementation, Outcome, StepContext
from drctl.text import plural

if TYPE_CHECKING:
    from drctl.actions.fencing import Fencer

#: the start of every fencer's journal keys: a fence is a different mutation than a standby action's start
KEY_PREFIX = "fence."


def data_loss_failovers(ctx: StepContext) -> list[str]:
    """The failovers of this run that could lose data (and so leave an old primary that could take writes): SQL
    forced, storage unplanned, as their steps journaled them."""
    found = [
        f"sql {f.get('failover_group')} forced" for f in ctx.run_journaled("sql.failover") if f.get("mode") == "forced"
    ]
    found += [
        f"storage {f.get('account')} unplanned"
        for f in ctx.run_journaled("storage.failover")
        if f.get("type") == "unplanned"
    ]
    return found


def _why(p: FenceParams, ctx: StepContext) -> tuple[bool, str]:
    forced = data_loss_failovers(ctx)
    if forced:
        return True, "data-loss failover: " + ", ".join(forced)
    if p.always:
        return True, "always: true"
    return False, "no data-loss failover in this run: the planned failover demoted the old primary in order"


def _fence_one(ctx: StepContext, item: FenceItem, fencer: Fencer | None, via: str) -> FenceOutcome:
    if fencer is None:
        outcome = FenceOutcome(item, False, "no registered family fences this kind of item in this playbook now")
    else:
        try:
            outcome = fencer.fence(ctx, item)
        except Exception as exc:  # a fencer's bug must not fail a failover that succeeded: it stays an open risk
            outcome = FenceOutcome(item, False, f"fencing failed: {type(exc).__name__}: {exc}")
    ctx.record(
        FENCE_ITEM,
        {
            "kind": item.kind,
            "name": item.name,
            "region": item.region,
            "fenced": outcome.fenced,
            "detail": outcome.detail,
            "via": via,
        },
    )
    return outcome


def fence_items(ctx: StepContext, pairs: list[tuple[FenceItem, Fencer | None]], via: str) -> list[FenceOutcome]:
    """Fence every item at once (each is its own resource in Azure, and a region that hangs should cost the slowest
    item's wait, not the sum), each outcome journaled as soon as it is known."""
    from drctl.actions.azure_bridge import in_parallel

    return list(in_parallel(pairs, lambda pair: _fence_one(ctx, pair[0], pair[1], via)))


def _key(item: FenceItem) -> tuple[str, str, str]:
    return (item.kind, item.name, item.region)


def _still_open(
    ctx: StepContext, wanted: list[tuple[FenceItem, Fencer | None]]
) -> list[tuple[FenceItem, Fencer | None]]:
    """What this step must (still) fence: the items without a fenced outcome journaled by this step. On the first
    pass that is every item; on a later one (``drctl fence RUN``, a resume, a retry) exactly those left open."""
    latest: dict[tuple[str, str, str], bool] = {}
    for fact in ctx.journaled(FENCE_ITEM):
        latest[(str(fact.get("kind")), str(fact.get("name")), str(fact.get("region")))] = fact.get("fenced") is True
    todo = [(item, fencer) for item, fencer in wanted if not latest.get(_key(item), False)]
    # an item the playbook no longer declares that stayed open is still tried: the journal says it may take writes
    offered = {_key(item) for item, _ in wanted}
    todo += [(FenceItem(*key), None) for key, fenced in latest.items() if not fenced and key not in offered]
    return todo


def _via(ctx: StepContext) -> str:
    """Who fences: the step itself on its first pass, else what the engine journaled when it took the step up again
    (``fence.again``: ``drctl fence`` or ``resume``)."""
    if not ctx.journaled(FENCE_ITEM):
        return "step"
    again = ctx.journaled(FENCE_AGAIN)
    return str(again[-1].get("via") or "retry") if again else "retry"


def _summarise(
    ctx: StepContext, region: str, needed: bool, because: str, outcomes: list[FenceOutcome], *, via: str
) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "region": region,
        "needed": needed,
        "because": because,
        "fenced": [label(_as_data(o.item)) for o in outcomes if o.fenced],
        "open": [label(_as_data(o.item)) for o in outcomes if not o.fenced],
        "via": via,
    }
    ctx.record(FENCE_SUMMARY, facts)
    return facts


def _as_data(item: FenceItem) -> dict[str, str]:
    return {"kind": item.kind, "name": item.name, "region": item.region}


def run_fence(p: FenceParams, ctx: StepContext) -> Outcome:
    region = ctx.scope.source_name
    needed, because = _why(p, ctx)
    if not needed:
        facts = _summarise(ctx, region, False, because, [], via="step")
        return Outcome(f"nothing to fence in {region}: {because}", facts=facts)
    wanted: list[tuple[FenceItem, Fencer | None]] = list(items_with_fencers(ctx.scope, region, p.kinds))
    via = _via(ctx)
    pairs = _still_open(ctx, wanted)
    if via != "step" and not pairs:
        return Outcome(f"{region}: every item already fenced", facts={"region": region, "open": []})
    ctx.progress(f"fencing {plural(len(pairs), 'item')} in {region} ({because})")
    outcomes = fence_items(ctx, pairs, via)
    facts = _summarise(ctx, region, True, because, outcomes, via=via)
    fenced, still = len(facts["fenced"]), facts["open"]
    summary = f"{region}: {fenced}/{len(outcomes)} fenced"
    if still:
        summary += f"; OPEN RISK, not fenced: {', '.join(still)} (`drctl fence {ctx.run_id}` once the region answers)"
    return Outcome(summary, changed=fenced > 0, facts=facts)


def done_fence(p: FenceParams, ctx: StepContext) -> bool:
    """Done when fencing was not needed, or when every item has an outcome journaled by this step and no fencing
    change is in flight: an item left unfenced is the open risk's to close (``drctl fence``, resume), not a reason to
    run the step again."""
    from drctl.actions.azure_bridge import open_rounds

    needed, _ = _why(p, ctx)
    if not needed:
        return True
    if open_rounds(ctx, KEY_PREFIX):
        return False
    journaled = {(f.get("kind"), f.get("name"), f.get("region")) for f in ctx.journaled(FENCE_ITEM)}
    wanted = items_with_fencers(ctx.scope, ctx.scope.source_name, p.kinds)
    return all((i.kind, i.name, i.region) in journaled for i, _ in wanted)


def preflight_fence(p: FenceParams, ctx: StepContext) -> list[Finding]:
    """What would be fenced, from the playbook: whether it will be depends on how the failover goes."""
    when = "fenced" if p.always else "fenced if the failover is forced"
    return [
        Finding(f"{item.kind} {item.name} ({item.region})", None, when, "info")
        for item, _ in items_with_fencers(ctx.scope, ctx.scope.source_name, p.kinds)
    ]


FENCE_IMPLEMENTATION = Implementation(run=run_fence, done=done_fence, preflight=preflight_fence)


def implementation(action: str) -> Implementation[Any] | None:
    """The run-time half of ``action`` (``RunModule``)."""
    from drctl.actions.fence.spec import SOURCE

    return FENCE_IMPLEMENTATION if action == SOURCE.name else None
