"""The web provider: sites' store, snapshot section, seeding and out-of-band start/stop."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from drctl.errors import SandboxError
from drctl.sandbox.ops import OpKind, WebAppState
from drctl.sandbox.providers.base import Problems, Provider, Seeding
from drctl.sandbox.providers.web.model import SiteState, WebStore

if TYPE_CHECKING:
    from drctl.sandbox.arm.core import Ctx, Route
    from drctl.sandbox.estate import Estate
    from drctl.sandbox.state import World


def store(world: World) -> WebStore:
    return world.store(PROVIDER.name, WebStore)


class WebProvider(Provider):
    name = "web"
    namespace = "Microsoft.Web"
    api_versions = ("2025-05-01", "2024-11-01", "2024-04-01", "2023-12-01", "2022-09-01")
    resource_types = (
        ("sites", True, True),
        ("sites/config", True, False),
        ("locations", False, False),
    )
    op_kinds = (OpKind.WEB_START, OpKind.WEB_STOP)
    snapshot_keys = ("web_apps",)

    def build(self, world: World, estate: Estate, now: float) -> WebStore:
        return WebStore(
            {
                w.name.lower(): SiteState(w.name, w.resource_group, w.region, dict(w.tags), state=w.state)
                for w in estate.web_apps
            }
        )

    def routes(self) -> list[Route]:
        from drctl.sandbox.providers.web import routes

        return routes.routes()

    def snapshot(self, world: World, now: float) -> dict[str, Any]:
        return {
            "web_apps": {
                s.name: {"region": s.region, "resource_group": s.resource_group, "state": s.state.value}
                for s in store(world).sites.values()
            }
        }

    def seed(self, seeding: Seeding, data: dict[str, Any]) -> None:
        """The home region's web apps running, every other region's stopped."""
        out: list[dict[str, Any]] = data.setdefault("web_apps", [])
        for key, region in seeding.playbook.regions.items():
            state = "Running" if key == seeding.home else "Stopped"
            for name in region.web_apps:
                out.append({"name": name, "resource_group": region.resource_group, "region": key, "state": state})

    def check(self, estate: Estate, problems: Problems) -> None:
        from drctl.sandbox.estate_checks import check_placed

        check_placed(estate, problems, ("web_apps",), estate.web_apps, "web app")

    def placements(self, world: World) -> Iterable[tuple[str, str | None]]:
        return [(s.resource_group, s.region) for s in store(world).sites.values()]

    def listed(self, ctx: Ctx) -> list[dict[str, Any]]:
        from drctl.sandbox.arm.core import summary_entry

        return [
            summary_entry(
                ctx, s.resource_group, "Microsoft.Web/sites", s.name, region=s.region, tags=s.tags, kind="app"
            )
            for s in store(ctx.world).sites.values()
        ]


PROVIDER = WebProvider()


def state(world: World, name: str) -> WebAppState:
    return store(world).sites[name.lower()].state


def set_state(world: World, name: str, value: WebAppState) -> None:
    with world.lock:
        site = store(world).sites.get(name.lower())
        if site is None:
            raise SandboxError(f"unknown web app {name!r}")
        site.state = value
