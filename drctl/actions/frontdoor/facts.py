"""The facts frontdoor.switch and its fencer record: the origins changed, the switch seen through the endpoint's
host name (with the propagation measured), and a region's origin fenced."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drctl.actions.facts import FactKind
from drctl.durations import format_duration as fd


def _origin(state: Any) -> str:
    if not isinstance(state, Mapping):
        return "?"
    return f"{state.get('enabled_state')} p{state.get('priority')}"


def _changed(d: Mapping[str, Any]) -> str:
    parts = [
        f"{name} {_origin(before)} -> {_origin((d.get('after') or {}).get(name))}"
        for name, before in (d.get("before") or {}).items()
    ]
    at = str(d.get("changed_at"))[11:19]
    return f"Front Door {d.get('profile')}/{d.get('origin_group')}: {'; '.join(parts)} at {at}"


def _verified(d: Mapping[str, Any]) -> str:
    lag = d.get("propagation_seconds")
    measured = f", propagation {fd(float(lag))} after the change" if isinstance(lag, int | float) else ""
    return (
        f"Front Door {d.get('host')}: {d.get('samples')} consecutive answers from {d.get('region')} at "
        f"{str(d.get('verified_at'))[11:19]}{measured}"
    )


def _fenced(d: Mapping[str, Any]) -> str:
    return f"Front Door origin {d.get('origin')} ({d.get('region')}) disabled: {d.get('detail')}"


FACTS = (
    FactKind("frontdoor.changed", _changed, "Front Door"),
    FactKind("frontdoor.verified", _verified, "Front Door"),
    FactKind("frontdoor.fenced", _fenced, "Front Door"),
)
