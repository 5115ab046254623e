"""The facts health checks record."""

from __future__ import annotations

from drctl.actions.facts import FactKind
from drctl.text import milliseconds


def _ms(value: object) -> str:
    """A latency the check measured, or what it means that none was: no sample answered."""
    return milliseconds(float(value) if isinstance(value, int | float) else None, missing="no response")


FACTS = (FactKind("health.http", lambda d: f"unhealthy: {d.get('first_error')} (p95 {_ms(d.get('p95_ms'))})"),)
