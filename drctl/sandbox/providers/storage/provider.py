"""The storage provider: accounts' store, snapshot section, seeding and replication lag."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from drctl.sandbox.clock import iso
from drctl.sandbox.ops import OpKind
from drctl.sandbox.providers.base import Problems, Provider, Seeding
from drctl.sandbox.providers.storage.model import AccountState, StorageStore

if TYPE_CHECKING:
    from drctl.sandbox.arm.core import Ctx, Route
    from drctl.sandbox.estate import Estate
    from drctl.sandbox.state import World


def store(world: World) -> StorageStore:
    return world.store(PROVIDER.name, StorageStore)


class StorageProvider(Provider):
    name = "storage"
    namespace = "Microsoft.Storage"
    api_versions = ("2026-09-01", "2025-06-01", "2025-01-01", "2024-01-01", "2023-05-01")
    resource_types = (
        ("storageAccounts", True, True),
        ("locations", False, False),
        ("locations/asyncoperations", True, False),
    )
    op_kinds = (OpKind.STORAGE_FAILOVER,)
    snapshot_keys = ("storage_accounts",)

    def build(self, world: World, estate: Estate, now: float) -> StorageStore:
        return StorageStore(
            {
                a.name.lower(): AccountState(
                    a.name,
                    a.resource_group,
                    a.region,
                    dict(a.tags),
                    secondary_region=a.secondary_region,
                    sku=a.sku,
                    lag=a.replication_lag_seconds,
                )
                for a in estate.storage_accounts
            }
        )

    def routes(self) -> list[Route]:
        from drctl.sandbox.providers.storage import routes

        return routes.routes()

    def snapshot(self, world: World, now: float) -> dict[str, Any]:
        from drctl.sandbox.providers.storage.routes import last_sync

        return {
            "storage_accounts": {
                a.name: {
                    "primary_region": a.region,
                    "secondary_region": a.secondary_region,
                    "sku": a.sku,
                    "replication_lag_seconds": a.lag,
                    "last_sync_time": iso(last_sync(world, a, now)),
                    "failover_in_progress": a.failover_in_progress,
                }
                for a in store(world).accounts.values()
            }
        }

    def seed(self, seeding: Seeding, data: dict[str, Any]) -> None:
        """Each account once, geo-redundant towards the other region of the direction when it is in the pair.

        An account of the direction's pair is declared where it lives before an incident; reversed (a failback),
        a failover moved its primary to the partner, which now replicates back to the declaring region."""
        out: list[dict[str, Any]] = data.setdefault("storage_accounts", [])
        seen: set[str] = set()
        home, standby = seeding.home, seeding.standby
        moved_home = home != seeding.playbook.direction.source
        for key, region in seeding.playbook.regions.items():
            partner = standby if key == home else home if key == standby else None
            for account in region.storage_accounts:
                if account.lower() in seen:
                    continue
                seen.add(account.lower())
                moved = partner is not None and moved_home
                where, secondary = (partner, key) if moved else (key, partner)
                out.append(
                    {
                        "name": account,
                        "resource_group": region.resource_group,
                        "region": where,
                        "secondary_region": secondary,
                    }
                )

    def check(self, estate: Estate, problems: Problems) -> None:
        from drctl.sandbox.estate_checks import check_placed, check_region

        check_placed(estate, problems, ("storage_accounts",), estate.storage_accounts, "storage account")
        for i, account in enumerate(estate.storage_accounts):
            if account.secondary_region is not None:
                loc = ("storage_accounts", i, "secondary_region")
                check_region(estate, problems, loc, account.secondary_region)
                if account.secondary_region == account.region:
                    problems.append((loc, "must differ from the account's region"))

    def placements(self, world: World) -> Iterable[tuple[str, str | None]]:
        return [(a.resource_group, a.region) for a in store(world).accounts.values()]

    def listed(self, ctx: Ctx) -> list[dict[str, Any]]:
        from drctl.sandbox.arm.core import summary_entry

        return [
            summary_entry(
                ctx,
                a.resource_group,
                "Microsoft.Storage/storageAccounts",
                a.name,
                region=a.region,
                tags=a.tags,
                kind="StorageV2",
                sku={"name": a.sku, "tier": "Standard"},
            )
            for a in store(ctx.world).accounts.values()
        ]

    def set_lag(self, world: World, seconds: float, target: str | None) -> list[str]:
        changed: list[str] = []
        for account in store(world).accounts.values():
            if target is None or account.name.lower() == target.lower():
                account.lag = seconds
                changed.append(account.name)
        return changed


PROVIDER = StorageProvider()
