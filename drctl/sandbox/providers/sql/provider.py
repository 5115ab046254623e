"""The SQL provider: servers' and failover groups' store, snapshot section, seeding, checks and roles."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from drctl.errors import SandboxError
from drctl.sandbox.clock import iso
from drctl.sandbox.ops import OpKind
from drctl.sandbox.providers.base import Problems, Provider, Seeding
from drctl.sandbox.providers.sql.model import GroupState, ServerState, SqlStore

if TYPE_CHECKING:
    from drctl.sandbox.arm.core import Ctx, Route
    from drctl.sandbox.estate import Estate
    from drctl.sandbox.state import RegionState, World


def store(world: World) -> SqlStore:
    return world.store(PROVIDER.name, SqlStore)


def region_of_server(world: World, server: str) -> RegionState:
    return world.regions[store(world).servers[server.lower()].region]


class SqlProvider(Provider):
    name = "sql"
    namespace = "Microsoft.Sql"
    api_versions = ("2025-01-01", "2023-08-01", "2021-11-01")
    resource_types = (
        ("servers", True, True),
        ("servers/databases", True, False),
        ("servers/databases/replicationLinks", True, False),
        ("servers/failoverGroups", True, False),
        ("locations", False, False),
        ("locations/failoverGroupAzureAsyncOperation", True, False),
        ("locations/failoverGroupOperationResults", True, False),
    )
    op_kinds = (OpKind.SQL_FAILOVER,)
    snapshot_keys = ("failover_groups",)

    def build(self, world: World, estate: Estate, now: float) -> SqlStore:
        servers = {
            s.name.lower(): ServerState(
                s.name,
                s.resource_group,
                s.region,
                dict(s.tags),
                administrator_login=s.administrator_login,
                databases=list(s.databases),
            )
            for s in estate.sql.servers
        }
        groups = {
            f.name.lower(): GroupState(
                f.name,
                servers[f.primary.lower()].name,
                servers[f.secondary.lower()].name,
                list(f.databases),
                f.replication_lag_seconds,
                f.replication_state,
                f.failover_policy,
                f.grace_period_minutes,
            )
            for f in estate.sql.failover_groups
        }
        return SqlStore(servers, groups)

    def routes(self) -> list[Route]:
        from drctl.sandbox.providers.sql import routes

        return routes.routes()

    def snapshot(self, world: World, now: float) -> dict[str, Any]:
        from drctl.sandbox.providers.sql.sim import last_commit, replication_state

        sql = store(world)
        return {
            "failover_groups": {
                g.name: {
                    "primary": g.primary,
                    "secondary": g.secondary,
                    "primary_region": sql.servers[g.primary.lower()].region,
                    "databases": list(g.databases),
                    "replication_lag_seconds": g.lag,
                    "replication_state": replication_state(world, g).value,
                    "last_committed_write": {s: iso(last_commit(world, g, s, now)) for s in (g.primary, g.secondary)},
                }
                for g in sql.groups.values()
            }
        }

    def seed(self, seeding: Seeding, data: dict[str, Any]) -> None:
        """A server per region that has one; the failover group primary in the home region."""
        sql: dict[str, Any] = data.setdefault("sql", {})
        servers: list[dict[str, Any]] = sql.setdefault("servers", [])
        groups: list[dict[str, Any]] = sql.setdefault("failover_groups", [])
        regions = seeding.playbook.regions
        for key, region in regions.items():
            if region.sql is not None:
                servers.append({"name": region.sql.server, "resource_group": region.resource_group, "region": key})
        primary, secondary = regions[seeding.home].sql, regions[seeding.standby].sql
        if primary is not None and secondary is not None:
            groups.append(
                {
                    "name": primary.failover_group,
                    "primary": primary.server,
                    "secondary": secondary.server,
                    "databases": list(primary.databases),
                }
            )

    def check(self, estate: Estate, problems: Problems) -> None:
        from drctl.sandbox.estate_checks import check_placed, check_unique

        check_placed(estate, problems, ("sql", "servers"), estate.sql.servers, "SQL server")
        groups = estate.sql.failover_groups
        check_unique(problems, ("sql", "failover_groups"), [f.name for f in groups], "failover group")
        servers = {s.name.lower(): s for s in estate.sql.servers}
        in_group: dict[str, str] = {}
        for i, fg in enumerate(groups):
            loc = ("sql", "failover_groups", i)
            for role in ("primary", "secondary"):
                name = getattr(fg, role)
                if name.lower() not in servers:
                    problems.append(((*loc, role), f"unknown SQL server {name!r}"))
            first, second = servers.get(fg.primary.lower()), servers.get(fg.secondary.lower())
            if first and second:
                if first.name.lower() == second.name.lower():
                    problems.append(((*loc, "secondary"), "the secondary must be another server than the primary"))
                elif first.region == second.region:
                    problems.append(((*loc, "secondary"), "primary and secondary servers must be in different regions"))
            for j, db in enumerate(fg.databases):
                for server in (fg.primary.lower(), fg.secondary.lower()):
                    key = f"{server}/{db.lower()}"
                    if key in in_group and in_group[key] != fg.name:
                        problems.append(
                            ((*loc, "databases", j), f"database {db!r} is already in failover group {in_group[key]!r}")
                        )
                    in_group[key] = fg.name

    def placements(self, world: World) -> Iterable[tuple[str, str | None]]:
        return [(s.resource_group, s.region) for s in store(world).servers.values()]

    def listed(self, ctx: Ctx) -> list[dict[str, Any]]:
        from drctl.sandbox.arm.core import summary_entry

        return [
            summary_entry(
                ctx, s.resource_group, "Microsoft.Sql/servers", s.name, region=s.region, tags=s.tags, kind="v12.0"
            )
            for s in store(ctx.world).servers.values()
        ]

    def set_lag(self, world: World, seconds: float, target: str | None) -> list[str]:
        changed: list[str] = []
        for group in store(world).groups.values():
            if target is None or group.name.lower() == target.lower():
                group.lag = seconds
                changed.append(group.name)
        return changed


PROVIDER = SqlProvider()


def set_primary(world: World, group_name: str, server: str) -> None:
    """Swap roles out of band (no data-loss record): to stage a failback or an already-failed-over estate."""
    with world.lock:
        group = store(world).groups.get(group_name.lower())
        if group is None:
            raise SandboxError(f"unknown failover group {group_name!r}")
        if not group.has(server):
            raise SandboxError(f"server {server!r} is not in failover group {group.name!r}")
        if server.lower() != group.primary.lower():
            group.primary, group.secondary = group.secondary, group.primary


def app_database(world: World, group_name: str | None, region: str, now: float) -> dict[str, Any]:
    """What a region's app reports of its database: the failover group's server in ``region`` and its role."""
    from drctl.sandbox.providers.sql.sim import last_commit, role

    sql = store(world)
    group = sql.groups.get(group_name.lower()) if group_name else None
    if group is None:
        return {}
    local = next(s for s in (group.primary, group.secondary) if sql.servers[s.lower()].region == region)
    primary_region = sql.servers[group.primary.lower()].region
    return {
        "failover_group": group.name,
        "server": local,
        "role": role(group, local).value,
        "last_committed_write": iso(last_commit(world, group, local, now)),
        "primary_region": primary_region,
        "reachable": world.regions[primary_region].up,
    }
