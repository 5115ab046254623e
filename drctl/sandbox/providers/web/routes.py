"""Microsoft.Web sites: get, list, generic PATCH, start/stop (200 with an empty body, as the SDK expects), the
web configuration (``config/web``: GET, PUT replaces, PATCH merges) and the publishing profile.

Start and stop are synchronous in ARM: the ``web.start``/``web.stop`` latency delays the answer, and the state
changes when it comes. ``az webapp show`` reads the site, its ``config/web`` and its publishing profile
(``POST .../publishxml``, a read: its passwords are random per answer, never kept).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any
from xml.sax.saxutils import quoteattr

from drctl.sandbox.arm.core import ArmError, Ctx, Route, deep_merge, paged, patch_placed
from drctl.sandbox.clock import iso
from drctl.sandbox.http import Response, json_response
from drctl.sandbox.ops import OpKind, WebAppState
from drctl.sandbox.providers.web.model import SiteState
from drctl.sandbox.providers.web.provider import store
from drctl.sandbox.regions import display_name

_SITE = "subscriptions/{sub}/resourcegroups/{rg}/providers/microsoft.web/sites/{name}"
_CREATED = "2024-01-15T03:20:00.0000000Z"


def routes() -> list[Route]:
    read = OpKind.ARM_READ
    return [
        Route.of("GET", "subscriptions/{sub}/providers/microsoft.web/sites", read, _all),
        Route.of("GET", "subscriptions/{sub}/resourcegroups/{rg}/providers/microsoft.web/sites", read, _by_group),
        Route.of("GET", _SITE, read, _get),
        Route.of("PATCH", _SITE, OpKind.ARM_WRITE, _patch),
        Route.of("POST", f"{_SITE}/start", OpKind.WEB_START, lambda ctx: _set(ctx, WebAppState.RUNNING)),
        Route.of("POST", f"{_SITE}/stop", OpKind.WEB_STOP, lambda ctx: _set(ctx, WebAppState.STOPPED)),
        Route.of("GET", f"{_SITE}/config", read, _configs),
        Route.of("GET", f"{_SITE}/config/web", read, _config),
        Route.of("PUT", f"{_SITE}/config/web", OpKind.ARM_WRITE, lambda ctx: _write_config(ctx, replace=True)),
        Route.of("PATCH", f"{_SITE}/config/web", OpKind.ARM_WRITE, lambda ctx: _write_config(ctx, replace=False)),
        Route.of("POST", f"{_SITE}/publishxml", read, _publish_xml),
    ]


def _ips(seed: str, count: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return ",".join(f"20.{digest[i * 3]}.{digest[i * 3 + 1]}.{digest[i * 3 + 2] or 1}" for i in range(count))


def site_config(site: SiteState) -> dict[str, Any]:
    """The site's web configuration (``SiteConfig``): defaults of a Windows app, then what clients wrote."""
    defaults: dict[str, Any] = {
        "numberOfWorkers": 1,
        "defaultDocuments": ["Default.htm", "Default.html", "index.htm", "index.html", "hostingstart.html"],
        "netFrameworkVersion": "v4.0",
        "phpVersion": "",
        "pythonVersion": "",
        "nodeVersion": "",
        "powerShellVersion": "",
        "linuxFxVersion": "",
        "windowsFxVersion": None,
        "requestTracingEnabled": False,
        "remoteDebuggingEnabled": False,
        "httpLoggingEnabled": False,
        "acrUseManagedIdentityCreds": False,
        "logsDirectorySizeLimit": 35,
        "detailedErrorLoggingEnabled": False,
        "publishingUsername": f"${site.name}",
        "scmType": "None",
        "use32BitWorkerProcess": True,
        "webSocketsEnabled": False,
        "alwaysOn": True,
        "appCommandLine": "",
        "managedPipelineMode": "Integrated",
        "virtualApplications": [{"virtualPath": "/", "physicalPath": "site\\wwwroot", "preloadEnabled": True}],
        "loadBalancing": "LeastRequests",
        "experiments": {"rampUpRules": []},
        "autoHealEnabled": False,
        "vnetName": "",
        "vnetRouteAllEnabled": False,
        "vnetPrivatePortsCount": 0,
        "localMySqlEnabled": False,
        "ipSecurityRestrictions": [
            {"ipAddress": "Any", "action": "Allow", "priority": 2147483647, "name": "Allow all"}
        ],
        "scmIpSecurityRestrictions": [
            {"ipAddress": "Any", "action": "Allow", "priority": 2147483647, "name": "Allow all"}
        ],
        "scmIpSecurityRestrictionsUseMain": False,
        "http20Enabled": False,
        "minTlsVersion": "1.2",
        "scmMinTlsVersion": "1.2",
        "ftpsState": "FtpsOnly",
        "preWarmedInstanceCount": 0,
        "functionAppScaleLimit": 0,
        "functionsRuntimeScaleMonitoringEnabled": False,
        "minimumElasticInstanceCount": 0,
        "azureStorageAccounts": {},
    }
    written = site.overlay.get("siteConfig")
    return deep_merge(defaults, written) if isinstance(written, dict) else defaults


def _site_id(ctx: Ctx, site: SiteState) -> str:
    return f"{ctx.rg_id(site.resource_group)}/providers/Microsoft.Web/sites/{site.name}"


def site_json(ctx: Ctx, site: SiteState) -> dict[str, Any]:
    """``WebApps_Get``: the site, its host names and SSL states, its plan, outbound addresses and ``siteConfig``."""
    region = ctx.world.regions[site.region]
    host = f"{site.name.lower()}.azurewebsites.net"
    scm = f"{site.name.lower()}.scm.azurewebsites.net"
    rg_id = ctx.rg_id(site.resource_group)
    location = display_name(region.location)
    outbound = _ips(f"{ctx.sub}/{site.name.lower()}", 2)
    properties: dict[str, Any] = {
        "name": site.name,
        "state": site.state.value,
        "hostNames": [host],
        "webSpace": f"{site.resource_group}-{location.replace(' ', '')}webspace",
        "selfLink": f"https://waws-prod-{region.location.lower()[:6]}-001.api.azurewebsites.windows.net:454/"
        f"subscriptions/{ctx.sub}/webspaces/{site.resource_group}-{location.replace(' ', '')}webspace/sites/"
        f"{site.name}",
        "repositorySiteName": site.name,
        "owner": None,
        "usageState": "Normal",
        "enabled": True,
        "adminEnabled": True,
        "enabledHostNames": [host, scm],
        "siteProperties": {"metadata": None, "properties": [], "appSettings": None},
        "availabilityState": "Normal" if region.up else "Limited",
        "sslCertificates": None,
        "csrs": [],
        "hostNameSslStates": [
            {"name": host, "sslState": "Disabled", "hostType": "Standard"},
            {"name": scm, "sslState": "Disabled", "hostType": "Repository"},
        ],
        "serverFarmId": f"{rg_id}/providers/Microsoft.Web/serverfarms/asp-{site.name}",
        "reserved": False,
        "isXenon": False,
        "hyperV": False,
        "lastModifiedTimeUtc": _CREATED,
        "storageRecoveryDefaultState": "Running",
        "contentAvailabilityState": "Normal",
        "runtimeAvailabilityState": "Normal",
        "dnsConfiguration": {},
        "vnetRouteAllEnabled": False,
        "vnetImagePullEnabled": False,
        "vnetContentShareEnabled": False,
        "siteConfig": site_config(site),
        "deploymentId": site.name,
        "sku": "Standard",
        "scmSiteAlsoStopped": False,
        "clientAffinityEnabled": True,
        "clientCertEnabled": False,
        "clientCertMode": "Required",
        "clientCertExclusionPaths": None,
        "hostNamesDisabled": False,
        "customDomainVerificationId": hashlib.sha256(ctx.sub.encode()).hexdigest().upper(),
        "kind": "app",
        "inboundIpAddress": _ips(f"in/{ctx.sub}/{site.region}", 1),
        "outboundIpAddresses": outbound,
        "possibleOutboundIpAddresses": f"{outbound},{_ips(f'more/{ctx.sub}/{site.name.lower()}', 2)}",
        "containerSize": 0,
        "dailyMemoryTimeQuota": 0,
        "suspendedTill": None,
        "maxNumberOfWorkers": None,
        "cloningInfo": None,
        "resourceGroup": site.resource_group,
        "isDefaultContainer": None,
        "defaultHostName": host,
        "slotSwapStatus": None,
        "httpsOnly": True,
        "redundancyMode": "None",
        "inProgressOperationId": None,
        "publicNetworkAccess": "Enabled",
        "storageAccountRequired": False,
        "keyVaultReferenceIdentity": "SystemAssigned",
        "virtualNetworkSubnetId": None,
        "endToEndEncryptionEnabled": False,
    }
    overlay = {k: v for k, v in site.overlay.items() if k != "siteConfig"}
    return {
        "id": _site_id(ctx, site),
        "name": site.name,
        "type": "Microsoft.Web/sites",
        "kind": "app",
        "location": location,
        "tags": site.tags,
        "properties": deep_merge(properties, overlay),
    }


def config_json(ctx: Ctx, site: SiteState) -> dict[str, Any]:
    """``WebApps_GetConfiguration`` (``sites/{name}/config/web``)."""
    return {
        "id": f"{_site_id(ctx, site)}/config/web",
        "name": "web",
        "type": "Microsoft.Web/sites/config",
        "kind": "app",
        "location": display_name(ctx.world.regions[site.region].location),
        "properties": site_config(site),
    }


def _site_of(ctx: Ctx) -> SiteState:
    return ctx.resource(store(ctx.world).sites, "Microsoft.Web/sites")


def _all(ctx: Ctx) -> Response:
    return paged(ctx, [site_json(ctx, s) for s in store(ctx.world).sites.values()])


def _by_group(ctx: Ctx) -> Response:
    return paged(
        ctx, [site_json(ctx, s) for s in store(ctx.world).sites.values() if s.resource_group.lower() == ctx.rg.lower()]
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
    site.overlay["lastModifiedTimeUtc"] = iso(ctx.now)
    return Response(200)


def _configs(ctx: Ctx) -> Response:
    return paged(ctx, [config_json(ctx, _site_of(ctx))])


def _config(ctx: Ctx) -> Response:
    return json_response(200, config_json(ctx, _site_of(ctx)))


def _write_config(ctx: Ctx, *, replace: bool) -> Response:
    site = _site_of(ctx)
    props = ctx.body().get("properties") or {}
    if not isinstance(props, dict):
        raise ArmError(400, "BadRequest", "properties must be an object.", target="properties")
    workers = props.get("numberOfWorkers")
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        message = f"numberOfWorkers '{workers}' is not valid: a positive integer."
        raise ArmError(400, "BadRequest", message, target="numberOfWorkers")
    # read-only in SiteConfig: never taken from a client
    props = {k: v for k, v in props.items() if k not in ("publishingUsername", "machineKey")}
    previous = site.overlay.get("siteConfig")
    if replace or not isinstance(previous, dict):
        site.overlay["siteConfig"] = props
    else:
        site.overlay["siteConfig"] = deep_merge(previous, props)
    site.overlay["lastModifiedTimeUtc"] = iso(ctx.now)
    return json_response(200, config_json(ctx, site))


def _publish_xml(ctx: Ctx) -> Response:
    site = _site_of(ctx)
    name = site.name
    host = f"{name.lower()}.azurewebsites.net"
    scm = f"{name.lower()}.scm.azurewebsites.net:443"
    ftp = f"ftps://waws-prod-{ctx.world.regions[site.region].location.lower()[:6]}-001.ftp.azurewebsites.windows.net"

    def profile(label: str, method: str, url: str, user: str, **extra: str) -> str:
        attrs = {
            "profileName": f"{name} - {label}",
            "publishMethod": method,
            "publishUrl": url,
            "userName": user,
            "userPWD": secrets.token_urlsafe(45),
            "destinationAppUrl": f"https://{host}",
            "SQLServerDBConnectionString": "",
            "mySQLDBConnectionString": "",
            "hostingProviderForumLink": "",
            "controlPanelLink": "https://portal.azure.com",
            "webSystem": "WebSites",
            **extra,
        }
        text = " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items())
        return f"<publishProfile {text}><databases /></publishProfile>"

    body = (
        "<publishData>"
        + profile("Web Deploy", "MSDeploy", scm, f"${name}", msdeploySite=name)
        + profile("FTP", "FTP", f"{ftp}/site/wwwroot", f"{name}\\${name}", ftpPassiveMode="True")
        + profile("Zip Deploy", "ZipDeploy", scm, f"${name}")
        + "</publishData>"
    )
    return Response(200, body.encode(), {}, "application/xml")
