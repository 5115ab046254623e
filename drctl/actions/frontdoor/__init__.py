"""The frontdoor action family: ``spec`` (parameters, plan text), ``run`` (run time, imported only when a run
starts), ``facts`` (how its facts read), ``fence`` (disabling a region's origin after a forced failover).
Importing the package imports no run-time code."""

from drctl.actions.base import Family, RunModule
from drctl.actions.fencing import Fencer
from drctl.actions.frontdoor import facts, spec


def _run() -> RunModule:
    from drctl.actions.frontdoor import run

    return run


def _fencer() -> Fencer:
    from drctl.actions.frontdoor import run

    return run.FENCER


FAMILY = Family("frontdoor", (spec.FRONTDOOR_SWITCH,), facts.FACTS, run=_run, fencer=_fencer)
