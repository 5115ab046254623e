"""SQL servers and failover groups in the estate file (``sql:``) and their live state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from drctl.sandbox.ops import ReplicationState
from drctl.sandbox.providers.base import EstateModel, Placed, RegionKey, ResourceName


class SqlServer(EstateModel):
    name: ResourceName
    resource_group: ResourceName
    region: RegionKey
    tags: dict[str, str] = Field(default_factory=dict)
    #: databases outside any failover group (the failover groups' databases are implied on both servers)
    databases: list[ResourceName] = Field(default_factory=list)
    administrator_login: str = "sqladmin"


class FailoverGroup(EstateModel):
    name: ResourceName
    primary: ResourceName
    secondary: ResourceName
    databases: list[ResourceName] = Field(min_length=1)
    replication_lag_seconds: float = Field(default=5.0, ge=0)
    #: the links' state while both regions are up; SUSPENDED is shown whenever a partner region is down
    replication_state: ReplicationState = ReplicationState.CATCH_UP
    failover_policy: Literal["Automatic", "Manual"] = "Manual"
    grace_period_minutes: int = Field(default=60, ge=60)


class Sql(EstateModel):
    servers: list[SqlServer] = Field(default_factory=list)
    failover_groups: list[FailoverGroup] = Field(default_factory=list)


class SqlSection(EstateModel):
    sql: Sql = Field(default_factory=Sql)


@dataclass
class ServerState(Placed):
    administrator_login: str = "sqladmin"
    databases: list[str] = field(default_factory=list)


@dataclass
class GroupState:
    name: str
    primary: str
    secondary: str
    databases: list[str]
    lag: float
    configured_state: ReplicationState
    failover_policy: str
    grace_minutes: int
    tags: dict[str, str] = field(default_factory=dict)

    def partner_of(self, server: str) -> str:
        return self.secondary if server.lower() == self.primary.lower() else self.primary

    def has(self, server: str) -> bool:
        return server.lower() in (self.primary.lower(), self.secondary.lower())


@dataclass
class SqlStore:
    #: name lower -> server
    servers: dict[str, ServerState] = field(default_factory=dict)
    #: name lower -> failover group
    groups: dict[str, GroupState] = field(default_factory=dict)
