"""The standby action family: ``spec`` (parameters, plan text), ``run`` (run time, imported only when a run starts),
``facts`` (how its facts read). Importing the package imports no run-time code."""

from drctl.actions.base import Family
from drctl.actions.standby import facts, spec

FAMILY = Family("standby", (spec.START_WEB_APPS, spec.SCALE, spec.PATCH), facts.FACTS)
