"""The gate action family: ``spec`` (parameters, plan text), ``run`` (run time, imported only when a run starts),
``facts`` (how its facts read). Importing the package imports no run-time code."""

from drctl.actions.base import Family
from drctl.actions.gate import facts, spec

FAMILY = Family("gate", (spec.APPROVAL,), facts.FACTS)
