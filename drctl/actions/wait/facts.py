"""The facts wait records: none of a kind of its own beyond the shared ones (``actions/facts.py``)."""

from __future__ import annotations

from drctl.actions.facts import FactKind

FACTS: tuple[FactKind, ...] = ()
