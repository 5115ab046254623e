"""The facts standby records beyond the shared ones (``actions/facts.py``): the state it found before changing it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drctl.actions.facts import FactKind


def _prior(d: Mapping[str, Any]) -> str:
    state = ", ".join(f"{k} {v}" for k, v in sorted((d.get("state") or {}).items())) or "nothing recorded"
    return f"before the change: {d.get('kind')} {d.get('name')} in {d.get('region')} was {state}"


FACTS: tuple[FactKind, ...] = (FactKind("standby.prior", _prior),)
