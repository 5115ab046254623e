"""The standby action family: ``spec`` (parameters, plan text), ``run`` (run time, imported only when a run starts),
``facts`` (how its facts read). Importing the package imports no run-time code."""

from drctl.actions.base import Family, RunModule
from drctl.actions.fencing import Fencer
from drctl.actions.prior import Returner
from drctl.actions.standby import facts, spec


def _run() -> RunModule:
    from drctl.actions.standby import run

    return run


def _fencer() -> Fencer:
    from drctl.actions.standby.fencing import FENCER

    return FENCER


def _returner() -> Returner:
    from drctl.actions.standby import returning

    return returning.returner()


FAMILY = Family(
    "standby",
    (spec.START_WEB_APPS, spec.SCALE, spec.PATCH, spec.RETURN),
    facts.FACTS,
    run=_run,
    fencer=_fencer,
    returner=_returner,
)
