"""``GET /metadata/endpoints``: the cloud description ARM serves without authentication.

The Azure CLI registers a custom cloud from it (``az cloud register --endpoint-resource-manager URL`` reads
``authentication.loginEndpoint`` and ``authentication.audiences[0]``, then asks tokens for that audience), and
other SDKs use it the same way. Three shapes, by ``api-version`` as ARM has them: before 2019-05-01 (or none)
the flat legacy object (``galleryEndpoint``, ``graphEndpoint``, ``portalEndpoint``, ``authentication``); from
2019-05-01 a list of clouds; from 2022-09-01 the one cloud this endpoint is. The sandbox is one cloud whose
login endpoint and resource manager are both its main port; the audiences are the ones ARM accepts
(``arm_audiences``), the sandbox's own URL first.
"""

from __future__ import annotations

from typing import Any

from drctl.sandbox.http import Request, Response, json_response
from drctl.sandbox.tokens import PUBLIC_ARM_AUDIENCES

PATH = "/metadata/endpoints"
CLOUD_NAME = "DrctlSandbox"


def matches(path: str) -> bool:
    return path.rstrip("/").lower() == PATH


def arm_audiences(host: str) -> tuple[str, ...]:
    """The token audiences ARM routes accept: the sandbox's own URL (what drctl asks for), then public ARM's."""
    return (f"https://{host}/", *PUBLIC_ARM_AUDIENCES)


def cloud(host: str) -> dict[str, Any]:
    root = f"https://{host}"
    return {
        "name": CLOUD_NAME,
        "portal": root,
        "authentication": {
            "loginEndpoint": root,
            "audiences": list(arm_audiences(host)),
            "tenant": "common",
            "identityProvider": "AAD",
        },
        "media": root,
        "graphAudience": f"{root}/",
        "graph": f"{root}/",
        "resourceManager": f"{root}/",
        "sqlManagement": f"{root}/",
        "batch": f"{root}/",
        "gallery": f"{root}/",
        "vmImageAliasDoc": f"{root}/",
        "activeDirectoryDataLake": f"{root}/",
        "microsoftGraphResourceId": f"{root}/",
        "appInsightsResourceId": root,
        "appInsightsTelemetryChannelResourceId": f"{root}/",
        "attestationResourceId": root,
        "synapseAnalyticsResourceId": root,
        "logAnalyticsResourceId": root,
        "ossrDbmsResourceId": root,
        "suffixes": {
            "storage": "core.windows.net",
            "keyVaultDns": ".vault.azure.net",
            "mhsmDns": ".managedhsm.azure.net",
            "sqlServerHostname": ".database.windows.net",
            "acrLoginServer": ".azurecr.io",
            "azureDataLakeStoreFileSystem": "azuredatalakestore.net",
            "azureDataLakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "mysqlServerEndpoint": ".mysql.database.azure.com",
            "postgresqlServerEndpoint": ".postgres.database.azure.com",
            "mariadbServerEndpoint": ".mariadb.database.azure.com",
            "synapseAnalytics": ".dev.azuresynapse.net",
            "attestationEndpoint": ".attest.azure.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
            "storageSyncEndpointSuffix": "afs.azure.net",
        },
    }


def handle(req: Request) -> Response:
    if req.method not in ("GET", "HEAD"):
        return json_response(
            405, {"error": {"code": "MethodNotAllowed", "message": f"{req.method} is not allowed on {PATH}."}}
        )
    version = (req.param("api-version") or "").lower()
    body = cloud(req.host)
    if version >= "2022-09-01":
        return json_response(200, body)
    if version >= "2019-05-01":
        return json_response(200, [body])
    root = f"https://{req.host}"
    legacy = {
        "galleryEndpoint": f"{root}/",
        "graphEndpoint": f"{root}/",
        "portalEndpoint": f"{root}/",
        "authentication": {"loginEndpoint": root, "audiences": list(arm_audiences(req.host))},
    }
    return json_response(200, legacy)
