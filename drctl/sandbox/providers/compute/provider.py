"""The compute provider: scale sets' store, snapshot section, seeding and out-of-band capacity changes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from drctl.errors import SandboxError
from drctl.sandbox.ops import OpKind
from drctl.sandbox.providers.base import Problems, Provider, Seeding
from drctl.sandbox.providers.compute.model import ComputeStore, ScaleSetState

if TYPE_CHECKING:
    from drctl.sandbox.arm.core import Ctx, Route
    from drctl.sandbox.estate import Estate
    from drctl.sandbox.state import World

#: the capacity a warm standby's scale sets run at before a failover scales them out
STANDBY_CAPACITY = 1


def store(world: World) -> ComputeStore:
    return world.store(PROVIDER.name, ComputeStore)


class ComputeProvider(Provider):
    name = "compute"
    namespace = "Microsoft.Compute"
    api_versions = ("2026-04-01", "2024-11-01", "2024-07-01", "2024-03-01")
    resource_types = (
        ("virtualMachineScaleSets", True, True),
        ("locations", False, False),
        ("locations/operations", True, False),
    )
    op_kinds = (OpKind.VMSS_UPDATE,)
    snapshot_keys = ("scale_sets",)

    def build(self, world: World, estate: Estate, now: float) -> ComputeStore:
        return ComputeStore(
            {
                s.name.lower(): ScaleSetState(
                    s.name, s.resource_group, s.region, dict(s.tags), capacity=s.capacity, sku=s.sku
                )
                for s in estate.scale_sets
            }
        )

    def routes(self) -> list[Route]:
        from drctl.sandbox.providers.compute import routes

        return routes.routes()

    def snapshot(self, world: World, now: float) -> dict[str, Any]:
        return {
            "scale_sets": {
                v.name: {
                    "region": v.region,
                    "resource_group": v.resource_group,
                    "capacity": v.capacity,
                    "pending_capacity": v.pending_capacity,
                    "provisioning_state": v.provisioning,
                }
                for v in store(world).scale_sets.values()
            }
        }

    def seed(self, seeding: Seeding, data: dict[str, Any]) -> None:
        """The home region's scale sets at the playbook's capacity, the others at the standby's."""
        out: list[dict[str, Any]] = data.setdefault("scale_sets", [])
        for key, region in seeding.playbook.regions.items():
            for scale_set in region.scale_sets:
                capacity = scale_set.capacity if key == seeding.home else min(STANDBY_CAPACITY, scale_set.capacity)
                out.append(
                    {
                        "name": scale_set.name,
                        "resource_group": region.resource_group,
                        "region": key,
                        "capacity": capacity,
                    }
                )

    def check(self, estate: Estate, problems: Problems) -> None:
        from drctl.sandbox.estate_checks import check_placed

        check_placed(estate, problems, ("scale_sets",), estate.scale_sets, "scale set")

    def placements(self, world: World) -> Iterable[tuple[str, str | None]]:
        return [(s.resource_group, s.region) for s in store(world).scale_sets.values()]

    def listed(self, ctx: Ctx) -> list[dict[str, Any]]:
        from drctl.sandbox.arm.core import summary_entry

        return [
            summary_entry(
                ctx,
                v.resource_group,
                "Microsoft.Compute/virtualMachineScaleSets",
                v.name,
                region=v.region,
                tags=v.tags,
                sku={"name": v.sku, "tier": "Standard", "capacity": v.capacity},
            )
            for v in store(ctx.world).scale_sets.values()
        ]


PROVIDER = ComputeProvider()


def capacity(world: World, name: str) -> int:
    """The instances a scale set really runs (what the app endpoint counts)."""
    return store(world).scale_sets[name.lower()].capacity


def set_capacity(world: World, name: str, value: int) -> None:
    with world.lock:
        vmss = store(world).scale_sets.get(name.lower())
        if vmss is None:
            raise SandboxError(f"unknown scale set {name!r}")
        vmss.capacity, vmss.pending_capacity, vmss.provisioning = value, None, "Succeeded"
        vmss.updates += 1  # supersedes an update in progress
