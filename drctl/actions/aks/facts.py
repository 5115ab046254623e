"""The facts the aks family records beyond the shared ones: what each floor was sized from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drctl.actions.facts import FactKind

FACT_SIZING = "aks.sizing"


def _sizing(d: Mapping[str, Any]) -> str:
    what = f"{d.get('resource')}: floor {d.get('floor')}"
    if d.get("source_read") == "live":
        return f"{what} ({d.get('ratio', 0):.0%} of the source's live {d.get('source')})"
    if d.get("source_read") == "explicit":
        return f"{what} (explicit)"
    return (
        f"{what} ({d.get('ratio', 0):.0%} of the playbook's {d.get('source')}: the source did not answer: "
        f"{d.get('source_error')})"
    )


FACTS: tuple[FactKind, ...] = (FactKind(FACT_SIZING, _sizing),)
