"""Microsoft.Web sites: get, list, generic PATCH, and start/stop (200 with an empty body, as the SDK expects).

Start and stop are synchronous in ARM: the ``web.start``/``web.stop`` latency delays the answer, and the state
changes when it comes.
"""

from __future__ import annotations

from typing import Any

from drctl.sandbox.arm.core import Ctx, Route, not_found, paged
from drctl.sandbox.arm.resources import patch_placed
from drctl.sandbox.http import Response, json_response
from drctl.sandbox.ops import OpKind, WebAppState
from drctl.sandbox.regions import display_name
from drctl.sandbox.state import SiteState

_SITE = "subscriptions/{sub}/resourcegroups/{rg}/providers/microsoft.web/sites/{name}"


def routes() -> list[Route]:
    read = OpKind.ARM_READ
    return [
        Route.of("GET", "subscriptions/{sub}/providers/microsoft.web/sites", read, _all),
        Route.of("GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/microsoft.web/sites", read, _by_group),
        Route.of("GET", _SITE, read, _get),
        Route.of("PATCH", _SITE, OpKind.ARM_WRITE, _patch),
        Route.of("POST", f"{_SITE}/start", OpKind.WEB_START, lambda ctx: _set(ctx, WebAppState.RUNNING)),
        Route.of("POST", f"{_SITE}/stop", OpKind.WEB_STOP, lambda ctx: _set(ctx, WebAppState.STOPPED)),
    ]


def site_json(ctx: Ctx, site: SiteState) -> dict[str, Any]:
    region = ctx.world.regions[site.region]
    host = f"{site.name.lower()}.azurewebsites.net"
    rg_id = ctx.rg_id(site.resource_group)
    return {
        "id": f"{rg_id}/providers/Microsoft.Web/sites/{site.name}",
        "name": site.name,
        "type": "Microsoft.Web/sites",
        "kind": "app",
        "location": display_name(region.location),
        "tags": site.tags,
        "properties": {
            "name": site.name,
            "state": site.state.value,
            "hostNames": [host],
            "webSpace": f"{site.resource_group}-{display_name(region.location).replace(' ', '')}webspace",
            "repositorySiteName": site.name,
            "usageState": "Normal",
            "enabled": True,
            "enabledHostNames": [host, f"{site.name.lower()}.scm.azurewebsites.net"],
            "availabilityState": "Normal" if region.up else "Limited",
            "serverFarmId": f"{rg_id}/providers/Microsoft.Web/serverfarms/asp-{site.name}",
            "reserved": False,
            "isXenon": False,
            "hyperV": False,
            "scmSiteAlsoStopped": False,
            "clientAffinityEnabled": True,
            "clientCertEnabled": False,
            "hostNamesDisabled": False,
            "containerSize": 0,
            "dailyMemoryTimeQuota": 0,
            "resourceGroup": site.resource_group,
            "defaultHostName": host,
            "httpsOnly": True,
            "redundancyMode": "None",
            "publicNetworkAccess": "Enabled",
            **site.overlay,
        },
    }


def _site_of(ctx: Ctx) -> SiteState:
    site = ctx.world.sites.get(ctx.params["name"].lower())
    if site is None or site.resource_group.lower() != ctx.rg.lower():
        raise not_found("Microsoft.Web/sites", ctx.params["name"], ctx.rg)
    ctx.check_region(site.region, write=ctx.req.method not in ("GET", "HEAD"))
    return site


def _all(ctx: Ctx) -> Response:
    return paged(ctx, [site_json(ctx, s) for s in ctx.world.sites.values()])


def _by_group(ctx: Ctx) -> Response:
    return paged(
        ctx, [site_json(ctx, s) for s in ctx.world.sites.values() if s.resource_group.lower() == ctx.rg.lower()]
    )


def _get(ctx: Ctx) -> Response:
    return json_response(200, site_json(ctx, _site_of(ctx)))


def _patch(ctx: Ctx) -> Response:
    site = _site_of(ctx)
    patch_placed(ctx, site)
    return json_response(200, site_json(ctx, site))


def _set(ctx: Ctx, state: WebAppState) -> Response:
    site = _site_of(ctx)
    site.state = state
    return Response(200)
