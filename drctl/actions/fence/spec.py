"""fence.source: fence the region a run leaves, after a forced (data-loss) failover.

What would be fenced is read from the playbook alone, through each family's ``Fencer.items``: a fencer module
imports no Azure SDK at its top level (its ``fence`` imports lazily), so ``validate`` and ``plan`` can list the items
without one (tests/actions/test_fence.py checks every registered fencer).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from drctl.actions.base import ActionSpec, Params, Problem, Scope

if TYPE_CHECKING:
    from drctl.actions.fencing import FenceItem, Fencer

#: the actions whose forced (data-loss) failover a fence step follows: a planned one leaves nothing to fence
DATA_LOSS_FAILOVERS = ("sql.failover", "storage.failover")


class FenceParams(Params):
    #: fence even when this run made no data-loss failover (a planned failover demoted the old primary in order)
    always: bool = False
    #: only items of these kinds (``web_app``, ``scale_set``, ...); every kind the families offer when omitted
    kinds: list[str] | None = None


def fencers() -> list[tuple[str, Fencer]]:
    """Every registered family's fencer, loaded now (each loader is lazy: nothing imports them at start)."""
    from drctl.actions import registry

    return [(family.name, family.fencer()) for family in registry.FAMILIES if family.fencer is not None]


def items_with_fencers(scope: Scope, region: str, kinds: list[str] | None = None) -> list[tuple[FenceItem, Fencer]]:
    """What would be fenced in ``region``, each with the fencer that fences it, from the playbook alone."""
    found = []
    for _family, fencer in fencers():
        for item in fencer.items(scope, region):
            if kinds is None or item.kind in kinds:
                found.append((item, fencer))
    return found


def _describe(p: FenceParams, scope: Scope) -> list[str]:
    found = items_with_fencers(scope, scope.source_name, p.kinds)
    when = "always" if p.always else "only if this run forced a data-loss failover (sql or storage)"
    if not found:
        return [f"fence {scope.source_name} ({when}): nothing declared to fence"]
    return [
        f"fence {item.kind} {item.name} in {item.region} ({when}); if the region does not answer: an open risk"
        for item, _ in found
    ]


def _check(p: FenceParams, scope: Scope) -> list[Problem]:
    offered = {item.kind for item, _ in items_with_fencers(scope, scope.source_name)}
    problems = [
        Problem(
            f"no family fences items of kind {kind!r} in {scope.source_name!r} (known: {sorted(offered)})", ("kinds",)
        )
        for kind in p.kinds or []
        if kind not in offered
    ]
    if not problems and not items_with_fencers(scope, scope.source_name, p.kinds):
        problems.append(Problem(f"nothing to fence: region {scope.source_name!r} declares nothing", severity="warning"))
    return problems


SOURCE = ActionSpec(
    name="fence.source",
    summary="Fence the region the run leaves after a forced failover: stop its apps, scale its workers to zero",
    params=FenceParams,
    mutating=True,
    default_timeout=timedelta(minutes=10),
    default_budget=timedelta(minutes=2),
    describe=_describe,
    check=_check,
    needs_azure=True,
)
