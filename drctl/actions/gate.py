"""gate.approval: a human decision, recorded with who, when and why."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from pydantic import Field

from drctl.actions.base import ActionSpec, Params, Scope

if TYPE_CHECKING:  # the run-time interface is imported when a run starts, never by validate or plan
    from drctl.actions.runtime import Implementation, Outcome, StepContext


class ApprovalParams(Params):
    message: str = Field(min_length=1)
    #: who may approve (OS user names or Azure principals); anyone running drctl when empty
    approvers: list[str] = []
    #: the approver must give a reason
    require_reason: bool = False


def _describe(p: ApprovalParams, _scope: Scope) -> list[str]:
    who = ", ".join(p.approvers) if p.approvers else "any operator"
    reason = ", with a reason" if p.require_reason else ""
    return [f"wait for approval by {who}{reason}: {p.message!r} (prompt, `drctl approve`, or --yes)"]


APPROVAL = ActionSpec(
    name="gate.approval",
    summary="Wait for a named approver; record who approved, when and why",
    params=ApprovalParams,
    mutating=False,
    default_timeout=timedelta(minutes=30),
    default_budget=timedelta(minutes=5),
    describe=_describe,
    implementation="drctl.actions.gate:implementation",
)


# --- run time ------------------------------------------------------------------------------------------------


def _run(p: ApprovalParams, ctx: StepContext) -> Outcome:
    from drctl.actions.runtime import AbortRun, Outcome

    approval = ctx.request_approval(p.message, require_reason=p.require_reason, approvers=p.approvers)
    who = approval.approver.principal or approval.approver.os_user
    because = f": {approval.reason}" if approval.reason else ""
    if not approval.approved:
        raise AbortRun(f"rejected by {who} ({approval.via}){because}")
    facts = {"approver": approval.approver.os_user, "principal": approval.approver.principal, "via": approval.via}
    return Outcome(f"approved by {who} ({approval.via}){because}", facts=facts)


def _done(_p: ApprovalParams, ctx: StepContext) -> bool:
    """Resume: an approval granted before the crash still stands; nobody is asked twice."""
    return ctx.prior_approval() is not None


def implementation() -> Implementation[ApprovalParams]:
    from drctl.actions.runtime import Implementation

    return Implementation(run=_run, done=_done)
