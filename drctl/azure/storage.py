"""Storage geo-replication through the SDK: the last sync time (RPO evidence) and account failover."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from drctl.azure.clients import AzureClients
from drctl.azure.lro import Accepted
from drctl.azure.sql import prop, wire


@dataclass(frozen=True)
class GeoReplication:
    account: str
    primary_location: str | None
    secondary_location: str | None
    status: str | None
    last_sync_time: datetime | None
    can_failover: bool | None
    #: both regions answer: Azure can run a planned (lossless) failover
    can_planned_failover: bool | None = None
    #: ARM's view of the primary region: ``available`` or ``unavailable``
    status_of_primary: str | None = None


def geo_replication(clients: AzureClients, resource_group: str, account: str) -> GeoReplication:
    found = clients.storage.storage_accounts.get_properties(resource_group, account, expand="geoReplicationStats")
    stats = prop(found, "geo_replication_stats")
    return GeoReplication(
        account=account,
        primary_location=prop(found, "primary_location"),
        secondary_location=prop(found, "secondary_location"),
        status=wire(getattr(stats, "status", None)),
        last_sync_time=getattr(stats, "last_sync_time", None),
        can_failover=getattr(stats, "can_failover", None),
        can_planned_failover=getattr(stats, "can_planned_failover", None),
        status_of_primary=wire(prop(found, "status_of_primary")),
    )


def begin_fail_over(clients: AzureClients, resource_group: str, account: str, *, planned: bool) -> Accepted:
    """Ask for the account's failover and return at once with the URLs to follow it on.

    ``failoverType=Planned`` (the SDK's default) needs both regions; without it, Azure runs the customer-managed
    (unplanned) failover a lost primary needs."""
    from drctl.azure.lro import begin

    kind = "Planned" if planned else None
    return begin(clients, clients.storage.storage_accounts.begin_failover, resource_group, account, failover_type=kind)
