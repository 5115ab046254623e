"""The resources provider: resource groups (explicit and implied), generic resources, provider registrations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from drctl.sandbox.providers.base import Problems, Provider, Seeding
from drctl.sandbox.providers.resources.model import GenericState, GroupRow, ResourceGroup, ResourcesStore

if TYPE_CHECKING:
    from drctl.sandbox.arm.core import Ctx, Route
    from drctl.sandbox.estate import Estate
    from drctl.sandbox.state import World


def store(world: World) -> ResourcesStore:
    return world.store(PROVIDER.name, ResourcesStore)


class ResourcesProvider(Provider):
    name = "resources"
    namespace = "Microsoft.Resources"
    api_versions = ("2025-04-01", "2024-11-01", "2024-03-01", "2022-09-01")
    resource_types = (
        ("resourceGroups", True, True),
        ("subscriptions", False, False),
        ("providers", False, False),
        ("resources", False, False),
    )
    snapshot_keys = ("resource_groups",)

    def build(self, world: World, estate: Estate, now: float) -> ResourcesStore:
        groups = {group.name.lower(): group for group in estate.resource_groups}
        generics: dict[str, GenericState] = {}
        for g in estate.generic_resources:
            rid = (
                f"/subscriptions/{estate.subscription_id}/resourceGroups/{g.resource_group}"
                f"/providers/{g.type.split('/', 1)[0]}/{_type_path(g.type, g.name)}"
            )
            generics[rid.lower()] = GenericState(
                rid,
                g.type,
                g.name.rsplit("/", 1)[-1],
                g.resource_group,
                g.region,
                g.kind,
                dict(g.properties),
                dict(g.sku) if g.sku else None,
                dict(g.tags),
            )
        return ResourcesStore(groups, generics)

    def routes(self) -> list[Route]:
        from drctl.sandbox.providers.resources import routes

        return routes.routes()

    def snapshot(self, world: World, now: float) -> dict[str, Any]:
        return {
            "resource_groups": {
                name: {"location": location, "tags": dict(tags)}
                for name, location, tags in sorted(resource_groups(world).values(), key=lambda g: g[0].lower())
            }
        }

    def seed(self, seeding: Seeding, data: dict[str, Any]) -> None:
        """Each region's resource group, once, in the first region that names it; then the DNS zone's group (in
        the direction's source) when no region uses it."""
        groups: list[dict[str, Any]] = data.setdefault("resource_groups", [])
        seen = {g["name"].lower() for g in groups}
        playbook = seeding.playbook
        wanted = [(region.resource_group, key) for key, region in playbook.regions.items()]
        if playbook.dns is not None:
            wanted.append((playbook.dns.resource_group, playbook.direction.source))
        for name, key in wanted:
            if name.lower() not in seen:
                seen.add(name.lower())
                groups.append({"name": name, "region": key})

    def check(self, estate: Estate, problems: Problems) -> None:
        from drctl.sandbox.estate_checks import check_placed

        check_placed(estate, problems, ("resource_groups",), estate.resource_groups, "resource group")
        check_placed(estate, problems, ("generic_resources",), estate.generic_resources, "")

    def placements(self, world: World) -> Iterable[tuple[str, str | None]]:
        return [(g.resource_group, g.region) for g in store(world).generics.values()]

    def listed(self, ctx: Ctx) -> list[dict[str, Any]]:
        from drctl.sandbox.providers.resources.routes import generic_json

        return [generic_json(ctx, g) for g in store(ctx.world).generics.values()]


PROVIDER = ResourcesProvider()


def resource_groups(world: World) -> dict[str, GroupRow]:
    """name lower -> (name, location, tags): explicit groups, then every group a resource lives in.

    Resources are never created or moved at run time, so the index is built once per (re)build."""
    resources = store(world)
    if resources.index is None:
        resources.index = _index_groups(world, resources)
    return resources.index


def put_resource_group(world: World, name: str, region: str, tags: dict[str, str]) -> None:
    """An ARM PUT of a resource group: created, or its tags replaced (until the next reset)."""
    resources = store(world)
    resources.groups[name.lower()] = ResourceGroup(name=name, region=region, tags=tags)
    resources.index = None


def _index_groups(world: World, resources: ResourcesStore) -> dict[str, GroupRow]:
    from drctl.sandbox.registry import PROVIDERS

    out: dict[str, GroupRow] = {}
    for group in resources.groups.values():
        out[group.name.lower()] = (group.name, world.regions[group.region].location, dict(group.tags))
    first = next(iter(world.regions.values())).location
    for provider in PROVIDERS:
        for resource_group, region in provider.placements(world):
            location = world.regions[region].location if region else first
            out.setdefault(resource_group.lower(), (resource_group, location, {}))
    return out


def _type_path(rtype: str, name: str) -> str:
    """``Microsoft.Web/serverfarms`` + ``plan`` -> ``serverfarms/plan``; nested types pair up with names."""
    types = rtype.split("/")[1:]
    names = name.split("/")
    return "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=False))
