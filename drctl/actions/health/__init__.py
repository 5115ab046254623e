"""The health action family: ``spec`` (parameters, plan text), ``run`` (run time, imported only when a run starts),
``facts`` (how its facts read). Importing the package imports no run-time code."""

from drctl.actions.base import Family, RunModule
from drctl.actions.health import facts, spec


def _run() -> RunModule:
    from drctl.actions.health import run

    return run


FAMILY = Family("health", (spec.HEALTH_HTTP, spec.HEALTH_AZURE), facts.FACTS, run=_run)
