"""Azure SQL failover groups through the SDK: read roles and links, and fail over. Plain data out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from drctl.azure.clients import AzureClients
from drctl.azure.lro import Accepted

FailoverKind = Literal["planned", "forced", "planned-then-forced"]


def prop(model: Any, name: str) -> Any:
    """A property of an SDK model, whether the SDK nests it under ``properties`` or flattens it; the SDK's enums
    come back as their wire value ("Online", not "DatabaseStatus.ONLINE")."""
    properties = getattr(model, "properties", None)
    if properties is not None and getattr(properties, name, None) is not None:
        value = getattr(properties, name)
    else:
        value = getattr(model, name, None)
    return wire(value)


def wire(value: Any) -> Any:
    from enum import Enum

    return value.value if isinstance(value, Enum) else value


@dataclass(frozen=True)
class FailoverGroupState:
    name: str
    server: str
    #: this server's role: Primary or Secondary
    role: str
    partners: tuple[tuple[str, str], ...]
    databases: tuple[str, ...]
    replication_state: str | None

    @property
    def primary_server(self) -> str | None:
        if self.role == "Primary":
            return self.server
        for partner, role in self.partners:
            if role == "Primary":
                return partner
        return None


@dataclass(frozen=True)
class LinkState:
    database: str
    role: str
    partner_server: str
    partner_role: str
    state: str


def _server_name(resource_id: str) -> str:
    parts = resource_id.rstrip("/").split("/")
    lowered = [p.lower() for p in parts]
    if "servers" in lowered:
        return parts[lowered.index("servers") + 1]
    return parts[-1]


def _state(raw: Any, server: str) -> FailoverGroupState:
    partners = tuple(
        (_server_name(str(p.id)), str(wire(p.replication_role))) for p in (prop(raw, "partner_servers") or [])
    )
    databases = tuple(str(d).rstrip("/").split("/")[-1] for d in (prop(raw, "databases") or []))
    return FailoverGroupState(
        name=str(raw.name),
        server=server,
        role=str(prop(raw, "replication_role")),
        partners=partners,
        databases=databases,
        replication_state=prop(raw, "replication_state"),
    )


def failover_group(clients: AzureClients, resource_group: str, server: str, group: str) -> FailoverGroupState:
    return _state(clients.sql.failover_groups.get(resource_group, server, group), server)


def database_status(clients: AzureClients, resource_group: str, server: str, database: str) -> str:
    return str(prop(clients.sql.databases.get(resource_group, server, database), "status"))


def replication_links(clients: AzureClients, resource_group: str, server: str, database: str) -> list[LinkState]:
    links = clients.sql.replication_links.list_by_database(resource_group, server, database)
    return [
        LinkState(
            database=database,
            role=str(prop(link, "role")),
            partner_server=str(prop(link, "partner_server")),
            partner_role=str(prop(link, "partner_role")),
            state=str(prop(link, "replication_state")),
        )
        for link in links
    ]


def begin_fail_over(
    clients: AzureClients, resource_group: str, server: str, group: str, kind: FailoverKind
) -> Accepted:
    """Ask for the failover of the group to ``server`` and return at once with the URLs to follow it on."""
    from drctl.azure.lro import begin

    operations = clients.sql.failover_groups
    start = {
        "planned": operations.begin_failover,
        "forced": operations.begin_force_failover_allow_data_loss,
        "planned-then-forced": operations.begin_try_planned_before_forced_failover,
    }[kind]
    return begin(clients, start, resource_group, server, group)
