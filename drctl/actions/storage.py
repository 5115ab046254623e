"""storage.replica_check and storage.failover: geo-replication as RPO evidence, and account failover."""

from __future__ import annotations

from datetime import timedelta

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


def _describe_failover(p: StorageParams, scope: Scope) -> list[str]:
    return [
        f"storage account {name}: fail over so that {scope.target.location} becomes primary"
        for name in _accounts(p, scope)
    ]


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
    implementation="drctl.actions.impl.storage:CHECK_IMPLEMENTATION",
)

STORAGE_FAILOVER = ActionSpec(
    name="storage.failover",
    summary="Fail a geo-redundant storage account over to its secondary region",
    params=StorageParams,
    mutating=True,
    default_timeout=timedelta(hours=1),
    default_budget=timedelta(minutes=15),
    describe=_describe_failover,
    check=_check,
    needs_azure=True,
    implementation="drctl.actions.impl.storage:FAILOVER_IMPLEMENTATION",
)
