"""The facts standby records beyond the shared ones (``actions/facts.py``): the state it found before changing it,
and each resource returned to that state (``standby.return``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drctl.actions.facts import FactKind

#: the report section that shows a region going back to warm standby (``reports/document.py``)
SECTION = "Back to warm standby"
#: one resource ``standby.return`` returned (or could not): kind, name, region, from, to, verified, detail...
FACT_RETURNED = "standby.returned"
#: ``standby.return`` found no prior state for the region, in this run or (a failback) an earlier one
FACT_NOTHING = "standby.return.nothing"


_LOCATORS = frozenset({"resource_group", "api_version", "cluster", "pool", "namespace", "deployment"})


def state_text(state: Any) -> str:
    """A journaled state as a person reads it: ``state Stopped``, ``capacity 1``; what only locates the resource
    (its group, cluster, pool, namespace: the line names the resource already) left out."""
    if not isinstance(state, Mapping):
        return "unknown"
    shown = {k: v for k, v in state.items() if k not in _LOCATORS}
    if set(shown) == {"body"}:
        import json

        return json.dumps(shown["body"], sort_keys=True)
    return ", ".join(f"{k} {v}" for k, v in sorted(shown.items())) or "nothing recorded"


def _prior(d: Mapping[str, Any]) -> str:
    return f"before the change: {d.get('kind')} {d.get('name')} in {d.get('region')} was {state_text(d.get('state'))}"


def _returned(d: Mapping[str, Any]) -> str:
    head = f"{d.get('kind')} {d.get('name')} in {d.get('region')}"
    if not d.get("verified"):
        return f"NOT returned: {head} ({d.get('error') or d.get('detail')})"
    return f"back to warm standby: {head}, {state_text(d.get('to'))} ({d.get('detail')})"


def _nothing(d: Mapping[str, Any]) -> str:
    return str(d.get("message") or f"nothing journaled: {d.get('region')} left as it is")


FACTS: tuple[FactKind, ...] = (
    FactKind("standby.prior", _prior, report_section=SECTION),
    FactKind(FACT_RETURNED, _returned, report_section=SECTION),
    FactKind(FACT_NOTHING, _nothing, report_section=SECTION),
)
