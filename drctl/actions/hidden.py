"""The failover a crash hid: Azure made the target primary, but the process died before it journaled which
failover it was. The journal's ``op.intent`` says what this run asked for, so a forced (or unplanned) failover stays
forced on resume, with the gate decision made before it and the data loss that decision saw. Shared by every action
that fails a resource over, so the rule is written once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from drctl.actions.rpo import FailoverKind, Resource, exposure_of_gate, loss_fact
from drctl.actions.runtime import FACT_RPO_EXPOSURE, StepContext


def last_intended_kind(ctx: StepContext, prefix: str, *, about: str = "") -> str | None:
    """The kind (first word after ``prefix``) of the failover this step asked Azure for last, optionally only those
    whose key ends with `` {about}``: an intent is journaled before its request, so a crash cannot hide it."""
    from drctl.actions.azure_bridge import intended

    mine = [k for k in intended(ctx, prefix) if not about or k.endswith(f" {about}")]
    return mine[-1][len(prefix) :].split(" ", 1)[0] if mine else None


def record_hidden_failover(
    ctx: StepContext,
    *,
    fact: str,
    facts: dict[str, Any],
    resource: Resource,
    kind: FailoverKind,
    gate_is_about: Callable[[Mapping[str, Any]], bool],
) -> dict[str, Any]:
    """Journal ``fact`` (with the last gate decision about ``resource`` when the failover could lose data) and the
    failover's ``rpo.exposure``: zero for planned, the gate's figure otherwise, unknown without one."""
    gates = [g for g in ctx.journaled("rpo.gate") if gate_is_about(g)] if kind != "planned" else []
    gate = gates[-1] if gates else None
    recorded = {**facts, "gate": gate, "resumed": True}
    ctx.record(fact, recorded)
    exposure = exposure_of_gate(resource, gate) if kind != "planned" else None
    ctx.record(FACT_RPO_EXPOSURE, loss_fact(resource, kind, exposure))
    return recorded
