"""The wait action family: ``spec`` (parameters, plan text), ``run`` (run time, imported only when a run starts),
``facts`` (how its facts read). Importing the package imports no run-time code."""

from drctl.actions.base import Family, RunModule
from drctl.actions.wait import facts, spec


def _run() -> RunModule:
    from drctl.actions.wait import run

    return run


FAMILY = Family("wait", (spec.WAIT,), facts.FACTS, run=_run)
