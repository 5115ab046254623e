"""The DR region's state before a run changed it, so that a drill can return it to warm standby.

Every action that changes a region's capacity or running state (start web apps, scale sets, node pools,
Deployments, a cluster start) journals a ``standby.prior`` fact for each resource *before* its first change, once
per run: after a crash the resource may already be changed, so a resumed step must never record what it reads
then as the prior state. A drill's failback phase (or a failback run) returns the region it leaves to those facts
through each family's ``Returner`` (``Family.returner``), and verifies it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from drctl.actions.runtime import StepContext

FACT_PRIOR = "standby.prior"


@dataclass(frozen=True)
class PriorState:
    #: the family's word for the resource: ``web_app``, ``scale_set``, ``aks.cluster``, ``aks.node_pool``...
    kind: str
    #: what an operator reads: the app's name, ``cluster/pool``, ``namespace/deployment``
    name: str
    #: the region it belongs to (a playbook region key)
    region: str
    #: what the returner needs to put back, as JSON data: ``{"state": "Stopped"}``, ``{"capacity": 2}``...
    state: dict[str, Any] = field(default_factory=dict)

    def to_fact(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "region": self.region, "state": dict(self.state)}

    @classmethod
    def from_fact(cls, data: dict[str, Any]) -> PriorState:
        return cls(str(data["kind"]), str(data["name"]), str(data["region"]), dict(data.get("state") or {}))


def record_prior(ctx: StepContext, prior: PriorState) -> None:
    """Journal ``prior`` unless this step journaled one for the same resource already (before a crash too)."""
    for seen in ctx.journaled(FACT_PRIOR):
        if (seen.get("kind"), seen.get("name"), seen.get("region")) == (prior.kind, prior.name, prior.region):
            return
    ctx.record(FACT_PRIOR, prior.to_fact())


class Returner(Protocol):
    #: the ``PriorState.kind`` values this returner puts back
    kinds: tuple[str, ...]

    def restore(self, ctx: StepContext, prior: PriorState) -> str:
        """Put the resource back to ``prior.state`` and verify it reads back so; idempotent, mutations through
        ``azure_bridge.start_or_follow``. Returns what was done (``"scaled back to 2"``, ``"already stopped"``);
        raises ``ActionError``/``TransientError`` when it cannot."""
        ...


#: the run's service (``ctx.services``) that reads earlier runs' priors: the engine registers it, since only the
#: engine reads other runs' journals; an action asks it when this run journaled nothing for a region
EARLIER_PRIORS = "prior.earlier"


@dataclass(frozen=True)
class EarlierPriors:
    """The priors one earlier run of the same application journaled for a region, and which run that was."""

    run_id: str
    priors: tuple[PriorState, ...]


class PriorHistory(Protocol):
    def latest(self, region: str) -> EarlierPriors | None:
        """The most recent earlier run of this application that journaled priors for ``region``; None if none."""
        ...


def first_priors(facts: list[dict[str, Any]], region: str) -> list[PriorState]:
    """Each resource's prior state in ``region``, from ``standby.prior`` facts oldest first: the first one a run
    journaled for a resource is the state before the run's first change to it (a later step that changed it again
    found it changed already)."""
    seen: dict[tuple[str, str], PriorState] = {}
    for data in facts:
        if data.get("region") != region or not data.get("kind") or not data.get("name"):
            continue
        prior = PriorState.from_fact(data)
        seen.setdefault((prior.kind, prior.name), prior)
    return list(seen.values())
