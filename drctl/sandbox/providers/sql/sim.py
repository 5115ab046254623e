"""SQL geo-replication emulation: roles, replication state, last committed writes, failover and data loss.

The model, kept deliberately small:

* the primary commits continuously: its last committed write is *now*, frozen at the outage time while its
  region is down;
* the secondary trails it by the failover group's replication lag (and freezes when its own region is down);
* a planned failover needs both regions up and loses nothing; a forced failover needs only the target up and
  loses what the secondary had not received: the primary's last commit minus the secondary's, recorded.
Roles are derived from ``GroupState.primary`` alone, so a failover is one assignment and the failover group,
the databases and every replication link agree at every instant.
"""

from __future__ import annotations

import uuid
from typing import Any

from drctl.sandbox.clock import iso
from drctl.sandbox.lro import Outcome
from drctl.sandbox.ops import FailoverMode, ReplicationRole, ReplicationState
from drctl.sandbox.providers.sql.model import GroupState
from drctl.sandbox.providers.sql.provider import region_of_server, store
from drctl.sandbox.state import World

_LINKS = uuid.UUID("5b1f3a52-6c1e-4d59-9a8e-6f0c2f1d7a10")


def role(group: GroupState, server: str) -> ReplicationRole:
    return ReplicationRole.PRIMARY if server.lower() == group.primary.lower() else ReplicationRole.SECONDARY


def link_id(group: GroupState, database: str) -> str:
    """The same link GUID on both partners, as Azure shows it."""
    return str(uuid.uuid5(_LINKS, f"{group.name.lower()}/{database.lower()}"))


def group_of_database(world: World, server: str, database: str) -> GroupState | None:
    for group in store(world).groups.values():
        if group.has(server) and database.lower() in (d.lower() for d in group.databases):
            return group
    return None


def groups_of_server(world: World, server: str) -> list[GroupState]:
    return [g for g in store(world).groups.values() if g.has(server)]


def replication_state(world: World, group: GroupState) -> ReplicationState:
    if group.configured_state in (ReplicationState.SEEDING, ReplicationState.PENDING):
        return group.configured_state
    if not (region_of_server(world, group.primary).up and region_of_server(world, group.secondary).up):
        return ReplicationState.SUSPENDED
    return group.configured_state


def _primary_commit(world: World, group: GroupState, at: float) -> float:
    region = region_of_server(world, group.primary)
    if region.down_since is not None:
        return min(at, region.down_since)
    return at


def last_commit(world: World, group: GroupState, server: str, now: float) -> float:
    """When ``server`` last committed a write of the group's databases (the RPO evidence)."""
    primary = _primary_commit(world, group, now)
    if role(group, server) is ReplicationRole.PRIMARY:
        return primary
    region = region_of_server(world, server)
    received = primary if region.down_since is None else min(primary, _primary_commit(world, group, region.down_since))
    return received - group.lag


def complete_failover(world: World, group: GroupState, target: str, mode: FailoverMode, at: float) -> Outcome:
    """The failover itself, run when the operation is due; returns an error or None."""
    if role(group, target) is ReplicationRole.PRIMARY:
        return None
    source = group.primary
    if not region_of_server(world, target).up:
        return ("ServerUnavailable", f"The server '{target}' is unavailable: its region is down.")
    primary_up = region_of_server(world, source).up
    if (
        group.configured_state in (ReplicationState.SEEDING, ReplicationState.PENDING)
        and mode is not FailoverMode.FORCED
    ):
        return (
            "FailoverGroupNotReady",
            f"Failover group '{group.name}' cannot fail over while its databases are {group.configured_state.value}.",
        )
    if mode is FailoverMode.PLANNED and not primary_up:
        return (
            "FailoverGroupPrimaryUnavailable",
            f"Planned failover of failover group '{group.name}' failed: the primary server '{source}' is "
            "unreachable, so the databases cannot be synchronized. Use forceFailoverAllowDataLoss to fail over "
            "with possible data loss.",
        )
    forced = mode is FailoverMode.FORCED or (mode is FailoverMode.PLANNED_THEN_FORCED and not primary_up)
    if forced:
        before = _primary_commit(world, group, at)
        received = last_commit(world, group, target, at)
        lost = max(0.0, before - received)
        world.data_loss.append(
            {
                "kind": "sql.failover",
                "failover_group": group.name,
                "mode": mode.value,
                "at": iso(at),
                "from_server": source,
                "to_server": target,
                "last_committed_write": iso(before),
                "last_replicated_write": iso(received),
                "lost_seconds": round(lost, 3),
            }
        )
    group.primary, group.secondary = target, source
    return None


def database_json(world: World, server_name: str, database: str, now: float, base: str) -> dict[str, Any]:
    server = store(world).servers[server_name.lower()]
    region = world.regions[server.region]
    group = group_of_database(world, server.name, database)
    system = database.lower() == "master"
    props: dict[str, Any] = {
        "collation": "SQL_Latin1_General_CP1_CI_AS",
        "maxSizeBytes": 34359738368,
        "status": "Online",
        "databaseId": str(uuid.uuid5(_LINKS, f"{server.name.lower()}/{database.lower()}")),
        "creationDate": "2024-01-15T03:00:00Z",
        "currentServiceObjectiveName": "System0" if system else "S2",
        "requestedServiceObjectiveName": "System0" if system else "S2",
        "defaultSecondaryLocation": region.location,
        "catalogCollation": "SQL_Latin1_General_CP1_CI_AS",
        "zoneRedundant": False,
        "readScale": "Disabled",
        "currentSku": {"name": "Standard", "tier": "Standard", "capacity": 50},
        "currentBackupStorageRedundancy": "Geo",
        "isLedgerOn": False,
    }
    if group is not None:
        props["failoverGroupId"] = f"{base}/providers/Microsoft.Sql/servers/{server.name}/failoverGroups/{group.name}"
        if role(group, server.name) is ReplicationRole.SECONDARY:
            props["secondaryType"] = "Geo"
    return {
        "sku": {"name": "System", "tier": "System", "capacity": 0}
        if system
        else {"name": "Standard", "tier": "Standard", "capacity": 50},
        "kind": "v12.0,system" if system else "v12.0,user",
        "managedBy": None if not system else f"{base}/providers/Microsoft.Sql/servers/{server.name}",
        "properties": props,
        "location": region.location,
        "tags": {},
        "id": f"{base}/providers/Microsoft.Sql/servers/{server.name}/databases/{database}",
        "name": database,
        "type": "Microsoft.Sql/servers/databases",
    }


def link_json(world: World, group: GroupState, server: str, database: str, *, base_for: Any) -> dict[str, Any]:
    partner = store(world).servers[group.partner_of(server).lower()]
    mine = role(group, server)
    state = replication_state(world, group)
    return {
        "properties": {
            "partnerServer": partner.name,
            "partnerDatabase": database,
            "partnerDatabaseId": str(uuid.uuid5(_LINKS, f"{partner.name.lower()}/{database.lower()}")),
            "partnerLocation": world.regions[partner.region].location,
            "role": mine.value,
            "partnerRole": (
                ReplicationRole.SECONDARY if mine is ReplicationRole.PRIMARY else ReplicationRole.PRIMARY
            ).value,
            "replicationMode": "ASYNC",
            "startTime": "2024-01-15T03:10:00.000Z",
            "percentComplete": 100 if state is not ReplicationState.SEEDING else 42,
            "replicationState": state.value,
            "isTerminationAllowed": True,
            "linkType": "GEO",
        },
        "id": f"{base_for(server)}/providers/Microsoft.Sql/servers/{store(world).servers[server.lower()].name}"
        f"/databases/{database}/replicationLinks/{link_id(group, database)}",
        "name": link_id(group, database),
        "type": "Microsoft.Sql/servers/databases/replicationLinks",
    }
