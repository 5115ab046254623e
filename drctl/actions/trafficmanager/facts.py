"""The facts trafficmanager.switch records: each endpoint changed, the verification of the profile's name, when
clients were served again, and the fencing of an endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drctl.actions.facts import FactKind


def _changed(d: Mapping[str, Any]) -> str:
    before = f"{d.get('previous_status')} priority {d.get('previous_priority')}"
    after = f"{d.get('status')} priority {d.get('priority')}"
    return f"Traffic Manager {d.get('profile')}/{d.get('endpoint')} ({d.get('region')}): {before} -> {after}"


def _verified(d: Mapping[str, Any]) -> str:
    return (
        f"Traffic Manager {d.get('fqdn')} answers {', '.join(d.get('values') or [])} at "
        f"{', '.join(d.get('servers') or [])} (TTL {d.get('ttl')})"
    )


def _fenced(d: Mapping[str, Any]) -> str:
    return f"Traffic Manager endpoint {d.get('profile')}/{d.get('endpoint')} fenced: {d.get('detail')}"


#: the report's "Traffic Manager" section lists them as their console lines (reports/document.family_sections)
FACTS = (
    FactKind("trafficmanager.changed", _changed, "Traffic Manager"),
    FactKind("trafficmanager.verified", _verified, "Traffic Manager"),
    FactKind("trafficmanager.fenced", _fenced, "Traffic Manager"),
)
