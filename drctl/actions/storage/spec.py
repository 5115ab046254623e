"""storage.replica_check and storage.failover: geo-replication as RPO evidence, and account failover."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from drctl.actions.base import ActionSpec, Params, Problem, Scope
from drctl.durations import format_duration
from drctl.playbook.model import Duration


class StorageParams(Params):
    #: the storage accounts, by name; every account either region declares when omitted. An account is
    #: declared once, in the region that is its primary in normal operation, so one list serves both directions.
    accounts: list[str] | None = None


class StorageCheckParams(StorageParams):
    max_exposure: Duration | None = None
    enforce_rpo: bool = False


#: planned: Azure's planned failover (both regions answer; nothing lost; the account stays geo-redundant);
#: unplanned: the customer-managed failover for a lost primary (writes after lastSyncTime are lost);
#: planned-then-unplanned: planned while both regions answer, unplanned only when the primary is lost
StorageFailoverMode = Literal["planned", "planned-then-unplanned", "unplanned"]


class StorageFailoverParams(StorageParams):
    mode: StorageFailoverMode = "planned"
    #: an unplanned failover of an account runs only when its own exposure (now - lastSyncTime) is within this
    #: (default: the RPO objective), or a person accepts the loss with a reason
    rpo_gate: Duration | None = None


def declared_accounts(scope: Scope) -> dict[str, str]:
    """Account name -> the resource group of the region that declares it."""
    found: dict[str, str] = {}
    for region in (scope.source, scope.target):
        for name in region.storage_accounts:
            found.setdefault(name, region.resource_group)
    return found


def _accounts(p: StorageParams, scope: Scope) -> list[str]:
    return p.accounts if p.accounts is not None else list(declared_accounts(scope))


def _check(p: StorageParams, scope: Scope) -> list[Problem]:
    declared = declared_accounts(scope)
    if not _accounts(p, scope):
        return [Problem("no storage accounts: name them in 'accounts' or in a region's storage_accounts")]
    return [
        Problem(f"storage account {name!r} is not declared in either region's storage_accounts", ("accounts", i))
        for i, name in enumerate(p.accounts or [])
        if name not in declared
    ]


def _describe_check(p: StorageCheckParams, scope: Scope) -> list[str]:
    limit = format_duration(p.max_exposure or scope.playbook.objectives.rpo)
    return [f"storage {name}: geo-replication last sync time within {limit}" for name in _accounts(p, scope)]


def _describe_failover(p: StorageFailoverParams, scope: Scope) -> list[str]:
    how = {
        "planned": "planned failover (both regions must answer; nothing lost)",
        "planned-then-unplanned": "planned failover while both regions answer; unplanned only when the primary "
        "is lost, behind the account's own RPO gate",
        "unplanned": "unplanned failover (writes after lastSyncTime are lost) behind the account's own RPO gate",
    }[p.mode]
    gate = format_duration(p.rpo_gate or scope.playbook.objectives.rpo)
    lines = [
        f"storage account {name}: {scope.target.location} becomes primary by {how}" for name in _accounts(p, scope)
    ]
    if p.mode != "planned":
        lines.append(
            f"unplanned only if the account's exposure (now - lastSyncTime, an upper bound) <= {gate} or an approver "
            "accepts the loss with a reason; a drill runs planned only"
        )
    return lines


STORAGE_CHECK = ActionSpec(
    name="storage.replica_check",
    summary="Read geo-replication last sync time as RPO evidence",
    params=StorageCheckParams,
    mutating=False,
    default_timeout=timedelta(minutes=2),
    default_budget=timedelta(seconds=15),
    describe=_describe_check,
    check=_check,
    needs_azure=True,
)

STORAGE_FAILOVER = ActionSpec(
    name="storage.failover",
    summary="Fail a geo-redundant storage account over to its secondary region (planned, or unplanned when lost)",
    params=StorageFailoverParams,
    mutating=True,
    default_timeout=timedelta(hours=1),
    default_budget=timedelta(minutes=15),
    describe=_describe_failover,
    check=_check,
    needs_azure=True,
)
