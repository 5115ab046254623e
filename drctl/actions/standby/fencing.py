"""What standby fences in a region a forced failover left: its web apps stopped, its scale sets at capacity 0.

Read the playbook to know the items; at fence time each item is read first (already fenced: no write), changed
once through ``start_or_follow`` under a ``fence.`` key of its own (a stop is not the standby step's start, and must
never be mistaken for it on resume), then verified. A region whose control plane does not answer leaves the item
unfenced with why; nothing is raised. This module imports no Azure SDK at its top level: ``plan`` lists the items.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from drctl.actions.fencing import FenceItem, FenceOutcome

if TYPE_CHECKING:
    from drctl.actions.base import Scope
    from drctl.actions.runtime import StepContext
    from drctl.azure.clients import AzureClients

WEB_APP = "web_app"
SCALE_SET = "scale_set"
#: journal keys: distinct from ``web.start`` and ``vmss.scale`` of the standby actions
STOP_KEY = "fence.web.stop "
ZERO_KEY = "fence.vmss.zero "
#: how long a stop or a scale-in may take to read back before the item is left open
VERIFY_SECONDS = 120.0
POLL = 1.0
#: how long a later attempt watches for the effect of a stop sent before a crash before sending it again
SETTLE = 20.0


class StandbyFencer:
    def items(self, scope: Scope, region: str) -> list[FenceItem]:
        estate = scope.playbook.regions[region]
        return [FenceItem(WEB_APP, app, region) for app in estate.web_apps] + [
            FenceItem(SCALE_SET, s.name, region) for s in estate.scale_sets
        ]

    def fence(self, ctx: StepContext, item: FenceItem) -> FenceOutcome:
        from drctl.actions.azure_bridge import AzureFailure
        from drctl.actions.runtime import TransientError

        group = ctx.playbook.regions[item.region].resource_group
        try:
            if item.kind == WEB_APP:
                return _stop(ctx, item, group)
            if item.kind == SCALE_SET:
                return _zero(ctx, item, group)
        except (AzureFailure, TransientError) as exc:
            # the source region's control plane is down or refuses: an open risk, never a failed failover
            return FenceOutcome(item, False, f"region {item.region} did not let it be fenced: {exc}")
        return FenceOutcome(item, False, f"standby does not fence items of kind {item.kind!r}")


def _until(ctx: StepContext, reached: Callable[[], bool]) -> bool:
    """Poll ``reached`` until it holds or VERIFY_SECONDS pass (on the run's clock)."""
    waited = 0.0
    while not reached():
        if waited >= VERIFY_SECONDS:
            return False
        ctx.sleep(POLL)
        waited += POLL
    return True


def _stop(ctx: StepContext, item: FenceItem, group: str) -> FenceOutcome:
    from drctl.actions.azure_bridge import Mutation, arm, start_or_follow
    from drctl.azure import standby

    def state() -> str:
        return str(arm(ctx, f"read web app {item.name}", standby.web_app_state, group, item.name))

    if state() == "Stopped":
        return FenceOutcome(item, True, "already Stopped (no write)")

    def send(azure: AzureClients) -> None:
        standby.stop_web_app(azure, group, item.name)

    mutation = Mutation(
        key=f"{STOP_KEY}{group}/{item.name}",
        what=f"stop web app {item.name} (fence)",
        start=send,
        client="web",
        settle=SETTLE,
    )
    done = start_or_follow(ctx, mutation, reached=lambda: state() == "Stopped")
    if not _until(ctx, lambda: state() == "Stopped"):
        return FenceOutcome(item, False, f"stop sent, but the app does not read Stopped (reads {state()})")
    return FenceOutcome(item, True, f"stopped, verified Stopped ({done.how})")


def _zero(ctx: StepContext, item: FenceItem, group: str) -> FenceOutcome:
    from drctl.actions.azure_bridge import Mutation, arm, start_or_follow
    from drctl.azure import standby

    def capacity() -> int:
        return int(arm(ctx, f"read scale set {item.name}", standby.scale_set_capacity, group, item.name))

    before = capacity()
    if before == 0:
        return FenceOutcome(item, True, "already at capacity 0 (no write)")
    mutation = Mutation(
        key=f"{ZERO_KEY}{group}/{item.name}",
        what=f"scale {item.name} to 0 (fence)",
        start=lambda azure: standby.begin_scale(azure, group, item.name, 0),
        client="compute",
    )
    done = start_or_follow(ctx, mutation, reached=lambda: capacity() == 0)
    if not _until(ctx, lambda: capacity() == 0):
        return FenceOutcome(item, False, f"scale-in sent, but capacity reads {capacity()}")
    return FenceOutcome(item, True, f"capacity {before} -> 0, verified ({done.how})")


FENCER = StandbyFencer()
