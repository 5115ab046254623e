"""The trafficmanager action family: ``spec`` (parameters, plan text), ``run`` (run time, imported only when a
run starts), ``facts`` (how its facts read) and the fencer of a region's endpoint. Importing the package imports no
run-time code."""

from drctl.actions.base import Family, RunModule
from drctl.actions.fencing import Fencer
from drctl.actions.trafficmanager import facts, spec


def _run() -> RunModule:
    from drctl.actions.trafficmanager import run

    return run


def _fencer() -> Fencer:
    from drctl.actions.trafficmanager import run

    return run.FENCER


FAMILY = Family("trafficmanager", (spec.TM_SWITCH,), facts.FACTS, run=_run, fencer=_fencer)
