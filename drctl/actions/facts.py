"""What a fact is to a person: its one console line and the report section that shows it.

The journal keeps every fact whole; the console needs only the gist, and the report either shows a kind in a
section of its own or lists it under "Other evidence". Each action family declares its kinds in its ``facts``
module; the kinds several families record (Azure operations, RPO evidence) are declared here. The CLI and the
report iterate ``registry.FACTS``; they never name a kind themselves. Plain strings in, plain strings out: this
module imports neither the CLI nor the report, which sit above the actions layer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from drctl.durations import format_duration as fd

Line = Callable[[Mapping[str, Any]], str | None]


@dataclass(frozen=True)
class FactKind:
    kind: str
    #: the console line for one fact of this kind; a line that answers None keeps the fact off the console (the
    #: journal still has it). Without one, the console shows the kind and its first fields.
    line: Line | None = None
    #: the title of the report section that shows facts of this kind; None: "Other evidence" lists them
    report_section: str | None = None


def hidden(_data: Mapping[str, Any]) -> str | None:
    """For facts kept for resume and audit that a person watching the run need not read."""
    return None


def generic_line(kind: str, data: Mapping[str, Any]) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in list(data.items())[:4])
    return f"{kind}: {shown}"[:300]


def _rpo(d: Mapping[str, Any]) -> str:
    if "failover" in d:  # a failover that took effect: its data-loss window for one resource
        head = f"{d.get('resource')}: {d.get('failover')} failover"
        if d.get("status") == "synchronised":
            return f"{head}, nothing lost (synchronised)"
        if d.get("seconds") is None:
            return f"{head}, data loss UNKNOWN ({d.get('basis', '')})"
        bound = "at most " if d.get("upper_bound") else ""
        return f"{head}, data loss {bound}{fd(float(d['seconds']))} ({d.get('status')}: {d.get('basis', '')})"
    bound = "at most " if d.get("upper_bound") else ""
    return f"RPO exposure {bound}{fd(float(d.get('seconds') or 0))} ({d.get('source', '?')}: {d.get('basis', '')})"


def _evidence(d: Mapping[str, Any]) -> str:
    parts = []
    for r in d.get("resources") or []:
        if r.get("seconds") is None:
            parts.append(f"{r.get('resource')} unknown")
        else:
            bound = "at most " if r.get("upper_bound") else ""
            parts.append(f"{r.get('resource')} {bound}{fd(float(r['seconds']))}")
    return f"RPO evidence ({d.get('purpose')}): {', '.join(parts) or 'none'}"


def _gate(d: Mapping[str, Any]) -> str:
    name = f" of {d['resource']}" if d.get("resource") else ""
    if d.get("by") == "source-alive":
        return f"not forcing {d.get('resource', '')}: the source still answers"
    if d.get("by") == "measurement":
        return (
            f"RPO gate{name} passed: exposure {'at most ' if d.get('exposure_status') == 'bounded' else ''}"
            f"{fd(float(d.get('exposure_seconds') or 0))} <= "
            f"{fd(float(d['gate_seconds']))}"
        )
    verdict = "ACCEPTED" if d.get("passed") else "refused"
    return f"RPO gate{name}: data loss {verdict} by {d.get('approver')}: {d.get('reason')}"


def _op_finished(d: Mapping[str, Any]) -> str | None:
    if d.get("how") == "followed":
        return f"followed the operation already in flight: {d.get('key')}: {d.get('state')}"
    if d.get("how") == "found":
        return f"found done before a crash could report it: {d.get('key')}"
    return None if d.get("state") == "Succeeded" else f"{d.get('key')}: {d.get('state')} {d.get('error') or ''}"


#: the kinds more than one family records: Azure operations (``azure_bridge``) and RPO evidence (``rpo``,
#: ``evidence``, ``source_loss``, ``hidden``)
SHARED: tuple[FactKind, ...] = (
    # one per Azure operation: the journal keeps them, a person need not read them
    FactKind("arm.calls", hidden, "Azure Resource Manager calls"),
    FactKind("op.intent", hidden),  # the journal's record of a change about to be sent: for resume
    FactKind("op.accepted", hidden),
    FactKind("op.finished", _op_finished),
    FactKind("rpo.exposure", _rpo, "RPO evidence"),
    FactKind("rpo.unmeasured", lambda d: f"RPO exposure could not be measured: {'; '.join(d.get('notes') or [])}"),
    FactKind("rpo.evidence", _evidence),
    FactKind("source.assessment", hidden),  # its progress line says it, evidence included
    FactKind("rpo.gate", _gate, "RPO evidence"),
)
