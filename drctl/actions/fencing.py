"""Fencing the old primary: what each action family stops, scales to zero or disables in a region it left.

After a forced failover the old primary may come back and take writes that the new primary never sees (Azure
reconnects the old SQL primary as a secondary and those writes are lost). Fencing takes the old region's
writers and its traffic away: web apps stopped, workers at zero, Deployments at zero replicas, its Front Door
origin and Traffic Manager endpoint disabled. Each family that owns such a resource offers a ``Fencer``
(``Family.fencer``); the ``fence`` action asks every registered family, journals each item's outcome, and what
could not be fenced stays an open risk until a later ``drctl fence RUN`` (or a resume) fences it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from drctl.actions.base import Scope
    from drctl.actions.runtime import StepContext


@dataclass(frozen=True)
class FenceItem:
    """One thing to fence, named from the playbook (no call needed to know it exists)."""

    #: the family's word for it: ``web_app``, ``scale_set``, ``aks.deployment``, ``frontdoor.origin``...
    kind: str
    #: what an operator reads: the app's name, ``namespace/deployment``, the origin's name
    name: str
    #: the region it belongs to (a playbook region key)
    region: str


@dataclass(frozen=True)
class FenceOutcome:
    item: FenceItem
    #: True when the item is fenced now (whether this call fenced it or it already was)
    fenced: bool
    #: what was done, or why it could not be (region unreachable, 503, refused...)
    detail: str


class Fencer(Protocol):
    def items(self, scope: Scope, region: str) -> list[FenceItem]:
        """What this family would fence in ``region`` (a playbook region key), read from the playbook alone."""
        ...

    def fence(self, ctx: StepContext, item: FenceItem) -> FenceOutcome:
        """Fence one item, idempotently: an item already fenced is ``fenced=True`` with no write. A control plane
        that does not answer is ``fenced=False`` with why, never an exception; mutations go through
        ``azure_bridge.start_or_follow`` so a crash never sends one twice."""
        ...
