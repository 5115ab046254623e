"""The fence action family: ``fence.source`` takes the writers and the traffic away from the region a forced failover
left, through every family's ``Fencer`` (``actions/fencing.py``). ``spec`` (parameters, plan text), ``run`` (run
time, imported only when a run starts), ``facts`` (how its facts read). Importing the package imports no run-time
code."""

from drctl.actions.base import Family, RunModule
from drctl.actions.fence import facts, spec


def _run() -> RunModule:
    from drctl.actions.fence import run

    return run


FAMILY = Family("fence", (spec.SOURCE,), facts.FACTS, run=_run)
