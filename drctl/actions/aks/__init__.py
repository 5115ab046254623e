"""The aks action family: start the warm standby's cluster, scale its node pools and its Deployments; fence the old
primary's Deployments; return the region to warm standby. ``spec`` and ``facts`` are imported by validate and
plan; ``run`` (Azure SDK, kubernetes client) only when a run starts."""

from drctl.actions.aks import facts, spec
from drctl.actions.base import Family, RunModule
from drctl.actions.fencing import Fencer
from drctl.actions.prior import Returner


def _run() -> RunModule:
    from drctl.actions.aks import run

    return run


def _fencer() -> Fencer:
    from drctl.actions.aks import run

    return run.FENCER


def _returner() -> Returner:
    from drctl.actions.aks import run

    return run.RETURNER


FAMILY = Family(
    "aks",
    (spec.START_CLUSTER, spec.SCALE_NODE_POOLS, spec.SCALE_DEPLOYMENTS),
    facts.FACTS,
    run=_run,
    fencer=_fencer,
    returner=_returner,
)
