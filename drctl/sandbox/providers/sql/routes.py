"""Microsoft.Sql: servers, databases, replication links, failover groups and their failover actions.

Failover actions are POSTed on the failover group of the server that should become primary (the current
secondary), as Azure requires. They answer 202 with ``Azure-AsyncOperation``, ``Location`` and
``Retry-After``; the operation runs for the ``sql.failover`` latency and the Location URL then answers the
failover group as seen from that server (now ``Primary``). Asking the current primary is a no-op success.
"""

from __future__ import annotations

from typing import Any

from drctl.sandbox.arm.core import Ctx, Route, lro_urls, not_found, paged, patch_placed
from drctl.sandbox.http import Response, json_response
from drctl.sandbox.ops import FailoverMode, OpKind, ReplicationRole
from drctl.sandbox.providers.sql.model import GroupState, ServerState
from drctl.sandbox.providers.sql.provider import store
from drctl.sandbox.providers.sql.sim import (
    complete_failover,
    database_json,
    group_of_database,
    groups_of_server,
    link_id,
    link_json,
    replication_state,
    role,
)
from drctl.sandbox.regions import display_name

_SERVER = "subscriptions/{sub}/resourcegroups/{rg}/providers/microsoft.sql/servers/{server}"


def routes() -> list[Route]:
    read = OpKind.ARM_READ
    return [
        Route.of("GET", "subscriptions/{sub}/providers/microsoft.sql/servers", read, _servers_all),
        Route.of("GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/microsoft.sql/servers", read, _servers_rg),
        Route.of("GET", _SERVER, read, _server),
        Route.of("PATCH", _SERVER, OpKind.ARM_WRITE, _server_patch),
        Route.of("GET", f"{_SERVER}/databases", read, _databases),
        Route.of("GET", f"{_SERVER}/databases/{{db}}", read, _database),
        Route.of("GET", f"{_SERVER}/databases/{{db}}/replicationlinks", read, _links),
        Route.of("GET", f"{_SERVER}/databases/{{db}}/replicationlinks/{{link}}", read, _link),
        Route.of("GET", f"{_SERVER}/replicationlinks", read, _server_links),
        Route.of("GET", f"{_SERVER}/failovergroups", read, _groups),
        Route.of("GET", f"{_SERVER}/failovergroups/{{fg}}", read, _group),
        Route.of(
            "POST",
            f"{_SERVER}/failovergroups/{{fg}}/failover",
            OpKind.SQL_FAILOVER,
            lambda ctx: _failover(ctx, FailoverMode.PLANNED),
        ),
        Route.of(
            "POST",
            f"{_SERVER}/failovergroups/{{fg}}/forcefailoverallowdataloss",
            OpKind.SQL_FAILOVER,
            lambda ctx: _failover(ctx, FailoverMode.FORCED),
        ),
        Route.of(
            "POST",
            f"{_SERVER}/failovergroups/{{fg}}/tryplannedbeforeforcedfailover",
            OpKind.SQL_FAILOVER,
            lambda ctx: _failover(ctx, FailoverMode.PLANNED_THEN_FORCED),
        ),
    ]


def _server_of(ctx: Ctx) -> ServerState:
    return ctx.resource(store(ctx.world).servers, "Microsoft.Sql/servers", "server")


def _server_id(ctx: Ctx, server: ServerState) -> str:
    return f"{ctx.rg_id(server.resource_group)}/providers/Microsoft.Sql/servers/{server.name}"


def server_json(ctx: Ctx, server: ServerState) -> dict[str, Any]:
    return {
        "kind": "v12.0",
        "properties": {
            "administratorLogin": server.administrator_login,
            "version": "12.0",
            "state": "Ready",
            "fullyQualifiedDomainName": f"{server.name.lower()}.database.windows.net",
            "privateEndpointConnections": [],
            "minimalTlsVersion": "1.2",
            "publicNetworkAccess": "Enabled",
            "restrictOutboundNetworkAccess": "Disabled",
            **server.overlay,
        },
        "location": ctx.world.regions[server.region].location,
        "tags": server.tags,
        "id": _server_id(ctx, server),
        "name": server.name,
        "type": "Microsoft.Sql/servers",
    }


def _servers_all(ctx: Ctx) -> Response:
    return paged(ctx, [server_json(ctx, s) for s in store(ctx.world).servers.values()])


def _servers_rg(ctx: Ctx) -> Response:
    servers = [s for s in store(ctx.world).servers.values() if s.resource_group.lower() == ctx.rg.lower()]
    return paged(ctx, [server_json(ctx, s) for s in servers])


def _server(ctx: Ctx) -> Response:
    return json_response(200, server_json(ctx, _server_of(ctx)))


def _server_patch(ctx: Ctx) -> Response:
    server = _server_of(ctx)
    patch_placed(ctx, server)
    return json_response(200, server_json(ctx, server))


def _database_names(ctx: Ctx, server: ServerState) -> list[str]:
    names = ["master"]
    for group in groups_of_server(ctx.world, server.name):
        names.extend(group.databases)
    names.extend(server.databases)
    return names


def _databases(ctx: Ctx) -> Response:
    server = _server_of(ctx)
    base = ctx.rg_id(server.resource_group)
    return paged(ctx, [database_json(ctx.world, server.name, db, ctx.now, base) for db in _database_names(ctx, server)])


def _db_name(ctx: Ctx, server: ServerState) -> str:
    wanted = ctx.params["db"].lower()
    for name in _database_names(ctx, server):
        if name.lower() == wanted:
            return name
    raise not_found("Microsoft.Sql/servers/databases", f"{server.name}/{ctx.params['db']}", ctx.rg)


def _database(ctx: Ctx) -> Response:
    server = _server_of(ctx)
    name = _db_name(ctx, server)
    return json_response(200, database_json(ctx.world, server.name, name, ctx.now, ctx.rg_id(server.resource_group)))


def _base_for(ctx: Ctx) -> Any:
    return lambda server_name: ctx.rg_id(store(ctx.world).servers[server_name.lower()].resource_group)


def _links(ctx: Ctx) -> Response:
    server = _server_of(ctx)
    name = _db_name(ctx, server)
    group = group_of_database(ctx.world, server.name, name)
    links = [] if group is None else [link_json(ctx.world, group, server.name, name, base_for=_base_for(ctx))]
    return paged(ctx, links)


def _link(ctx: Ctx) -> Response:
    server = _server_of(ctx)
    name = _db_name(ctx, server)
    group = group_of_database(ctx.world, server.name, name)
    if group is None or link_id(group, name) != ctx.params["link"].lower():
        raise not_found(
            "Microsoft.Sql/servers/databases/replicationLinks", f"{server.name}/{name}/{ctx.params['link']}", ctx.rg
        )
    return json_response(200, link_json(ctx.world, group, server.name, name, base_for=_base_for(ctx)))


def _server_links(ctx: Ctx) -> Response:
    server = _server_of(ctx)
    links = [
        link_json(ctx.world, g, server.name, db, base_for=_base_for(ctx))
        for g in groups_of_server(ctx.world, server.name)
        for db in g.databases
    ]
    return paged(ctx, links)


def group_json(ctx: Ctx, group: GroupState, server: ServerState) -> dict[str, Any]:
    world = ctx.world
    partner = store(world).servers[group.partner_of(server.name).lower()]
    read_write: dict[str, Any] = {"failoverPolicy": group.failover_policy}
    if group.failover_policy == "Automatic":
        read_write["failoverWithDataLossGracePeriodMinutes"] = group.grace_minutes
    base = ctx.rg_id(server.resource_group)
    return {
        "location": display_name(world.regions[server.region].location),
        "tags": group.tags,
        "properties": {
            "readWriteEndpoint": read_write,
            "readOnlyEndpoint": {"failoverPolicy": "Disabled"},
            "replicationRole": role(group, server.name).value,
            "replicationState": replication_state(world, group).value,
            "partnerServers": [
                {
                    "id": _server_id(ctx, partner),
                    "location": display_name(world.regions[partner.region].location),
                    "replicationRole": role(group, partner.name).value,
                }
            ],
            "databases": [
                f"{base}/providers/Microsoft.Sql/servers/{server.name}/databases/{db}" for db in group.databases
            ],
            "secondaryType": "Geo",
        },
        "id": f"{base}/providers/Microsoft.Sql/servers/{server.name}/failoverGroups/{group.name}",
        "name": group.name,
        "type": "Microsoft.Sql/servers/failoverGroups",
    }


def _group_of(ctx: Ctx, server: ServerState) -> GroupState:
    group = store(ctx.world).groups.get(ctx.params["fg"].lower())
    if group is None or not group.has(server.name):
        raise not_found("Microsoft.Sql/servers/failoverGroups", f"{server.name}/{ctx.params['fg']}", ctx.rg)
    return group


def _groups(ctx: Ctx) -> Response:
    server = _server_of(ctx)
    return paged(ctx, [group_json(ctx, g, server) for g in groups_of_server(ctx.world, server.name)])


def _group(ctx: Ctx) -> Response:
    server = _server_of(ctx)
    return json_response(200, group_json(ctx, _group_of(ctx, server), server))


def _failover(ctx: Ctx, mode: FailoverMode) -> Response:
    server = _server_of(ctx)
    group = _group_of(ctx, server)
    world = ctx.world
    fault = world.faults.take_lro_failure(OpKind.SQL_FAILOVER)
    noop = role(group, server.name) is ReplicationRole.PRIMARY
    duration = 0.0 if noop else world.faults.latency(OpKind.SQL_FAILOVER)
    forced_error = None
    if fault is not None:
        forced_error = (
            fault.code,
            fault.message or f"The failover of failover group '{group.name}' failed (sandbox fault).",
        )
    target = server.name
    operation = world.operations.create(
        op=OpKind.SQL_FAILOVER,
        namespace="Microsoft.Sql",
        location=world.regions[server.region].location,
        now=ctx.now,
        duration=duration,
        complete=lambda at: complete_failover(world, group, target, mode, at),
        result_path=f"{ctx.rg_id(server.resource_group)}/providers/Microsoft.Sql/servers/{server.name}"
        f"/failoverGroups/{group.name}",
        forced_error=forced_error,
        detail={"failover_group": group.name, "target": server.name, "mode": mode.value, "noop": noop},
    )
    return Response(
        202, headers=lro_urls(ctx, operation, "failoverGroupAzureAsyncOperation", "failoverGroupOperationResults")
    )
