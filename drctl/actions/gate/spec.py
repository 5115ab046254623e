"""gate.approval: a human decision, recorded with who, when and why.

``approvers`` says who may answer: anyone (omitted or empty), a list of identities (OS users, ``user@host``,
Azure principals), or ``others``: anyone but the operator running drctl (separation of duties). ``--yes`` answers
for the operator, so it never answers an ``others`` gate.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator

from drctl.actions.base import ActionSpec, Params, Scope

#: ``approvers: others``: anyone but the operator running drctl
OTHERS = "others"
#: an OS user, ``user@host``, a UPN, an app or object id, ``DOMAIN\user``: no spaces, no wildcards
_IDENTITY = re.compile(r"^[A-Za-z0-9_.\\-]+(@[A-Za-z0-9_.-]+)?$")


class ApprovalParams(Params):
    message: str = Field(min_length=1)
    #: who may approve: identities (OS users, user@host, Azure principals), ``others`` (anyone but the
    #: operator), or anyone when empty
    approvers: Literal["others"] | list[str] = []
    #: the approver must give a reason
    require_reason: bool = False

    @field_validator("approvers")
    @classmethod
    def _identities(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, str):
            return value
        for entry in value:
            if entry.strip().lower() == OTHERS:
                raise ValueError("'others' is a value of its own (approvers: others), not an entry of a list")
            if not _IDENTITY.match(entry):
                raise ValueError(
                    f"{entry!r} is not an identity: an OS user, user@host or an Azure principal, without spaces"
                )
        if len({e.lower() for e in value}) != len(value):
            raise ValueError("an approver is listed twice")
        return value

    @property
    def approver_list(self) -> tuple[str, ...]:
        """As the approval machinery takes it: ``("others",)``, the identities, or () for anyone."""
        return (OTHERS,) if self.approvers == OTHERS else tuple(self.approvers)


def _describe(p: ApprovalParams, _scope: Scope) -> list[str]:
    reason = ", with a reason" if p.require_reason else ""
    if p.approvers == OTHERS:
        return [
            f"wait for approval by someone other than the operator{reason}: {p.message!r} (`drctl approve` from "
            "another account; --yes cannot answer)"
        ]
    who = ", ".join(p.approvers) if p.approvers else "any operator"
    return [f"wait for approval by {who}{reason}: {p.message!r} (prompt, `drctl approve`, or --yes)"]


APPROVAL = ActionSpec(
    name="gate.approval",
    summary="Wait for a named approver; record who approved, when and why",
    params=ApprovalParams,
    mutating=False,
    default_timeout=timedelta(minutes=30),
    default_budget=timedelta(minutes=5),
    describe=_describe,
)
