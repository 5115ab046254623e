"""gate.approval at run time: ask, wait for an answer from someone allowed to give it, record it."""

from __future__ import annotations

from typing import Any

from drctl.actions.gate.spec import ApprovalParams
from drctl.actions.runtime import AbortRun, Implementation, Outcome, StepContext
from drctl.core.identity import describe


def _run(p: ApprovalParams, ctx: StepContext) -> Outcome:
    approval = ctx.request_approval(p.message, require_reason=p.require_reason, approvers=p.approver_list)
    who = describe(approval.approver)
    because = f": {approval.reason}" if approval.reason else ""
    if not approval.approved:
        raise AbortRun(f"rejected by {who} ({approval.via}){because}")
    facts = {"approver": approval.approver.os_user, "principal": approval.approver.principal, "via": approval.via}
    return Outcome(f"approved by {who} ({approval.via}){because}", facts=facts)


def _done(_p: ApprovalParams, ctx: StepContext) -> bool:
    """Resume: an approval granted before the crash still stands; nobody is asked twice."""
    return ctx.prior_approval() is not None


IMPLEMENTATION: Implementation[ApprovalParams] = Implementation(run=_run, done=_done)


def implementation(action: str) -> Implementation[Any] | None:
    """The run-time half of ``action``: how the registry reaches this module when a run starts (``RunModule``)."""
    from drctl.actions.gate.spec import APPROVAL

    known: dict[str, Implementation[Any]] = {APPROVAL.name: IMPLEMENTATION}
    return known.get(action)
