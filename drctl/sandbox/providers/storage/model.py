"""Storage accounts in the estate file (``storage_accounts:``) and their live state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from pydantic import Field, StringConstraints

from drctl.sandbox.providers.base import EstateModel, Placed, RegionKey, ResourceName


class StorageAccount(EstateModel):
    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{3,24}$")]
    resource_group: ResourceName
    region: RegionKey
    tags: dict[str, str] = Field(default_factory=dict)
    #: the paired region (geo-redundant SKUs); omit for a locally redundant account
    secondary_region: RegionKey | None = None
    sku: str = "Standard_RAGRS"
    replication_lag_seconds: float = Field(default=300.0, ge=0)


class StorageSection(EstateModel):
    storage_accounts: list[StorageAccount] = Field(default_factory=list)


@dataclass
class AccountState(Placed):
    secondary_region: str | None = None
    sku: str = "Standard_RAGRS"
    lag: float = 300.0
    failover_in_progress: bool = False
    last_failover: float | None = None


@dataclass
class StorageStore:
    #: name lower -> account
    accounts: dict[str, AccountState] = field(default_factory=dict)
