"""How fencing's facts read: one ``fence.item`` per item outcome, one ``fence.summary`` per fencing pass."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drctl.actions.facts import FactKind

#: one item's outcome: ``kind``, ``name``, ``region``, ``fenced`` (bool), ``detail``, ``via`` ("step"; "fence", for
#: `drctl fence RUN`; "resume"); the latest outcome of an item is what counts (``engine.replay.open_risks``)
FENCE_ITEM = "fence.item"
#: one fencing pass: ``region``, ``needed`` (bool), ``because``, ``fenced``/``open`` (item labels), ``via``
FENCE_SUMMARY = "fence.summary"
#: journaled by the engine when it takes a finished fence step up again for its open items: ``via`` ("fence", for
#: `drctl fence RUN`; "resume"), ``operator``, ``pid``, ``open`` (item labels)
FENCE_AGAIN = "fence.again"


def label(d: Mapping[str, Any]) -> str:
    return f"{d.get('kind')} {d.get('name')} ({d.get('region')})"


def _item(d: Mapping[str, Any]) -> str:
    if d.get("fenced"):
        return f"fenced {label(d)}: {d.get('detail')}"
    return f"NOT FENCED {label(d)}: {d.get('detail')} (open risk until `drctl fence` closes it)"


def _summary(d: Mapping[str, Any]) -> str:
    if not d.get("needed"):
        return f"fencing {d.get('region')}: nothing to fence ({d.get('because')})"
    fenced, still = len(d.get("fenced") or []), len(d.get("open") or [])
    tail = f", {still} OPEN RISK" if still else ""
    return f"fencing {d.get('region')} ({d.get('because')}): {fenced} fenced{tail}"


def _again(d: Mapping[str, Any]) -> str:
    return f"fencing again ({d.get('via')}, by {d.get('operator')}): {', '.join(d.get('open') or [])}"


FACTS: tuple[FactKind, ...] = (
    FactKind(FENCE_AGAIN, _again, "Fencing"),
    FactKind(FENCE_ITEM, _item, "Fencing"),
    FactKind(FENCE_SUMMARY, _summary, "Fencing"),
)
