"""The sql action family: ``spec`` (parameters, plan text), ``run`` (run time, imported only when a run starts),
``facts`` (how its facts read). Importing the package imports no run-time code."""

from drctl.actions.base import Family, RunModule
from drctl.actions.sql import facts, spec


def _run() -> RunModule:
    from drctl.actions.sql import run

    return run


FAMILY = Family("sql", (spec.REPLICA_CHECK, spec.FAILOVER), facts.FACTS, run=_run)
