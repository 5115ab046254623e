"""The sandbox answers real Azure clients in the shape of Microsoft's REST API examples.

Each provider is called through the real azure-mgmt-* client; the raw JSON (``cls=`` hands it back untouched)
must carry the key paths the spec example of that operation has, with the example's types. The paths were
read from the examples in Azure/azure-rest-api-specs (WebApps ``GetWebApp``/``GetSiteConfig``, Compute
``VirtualMachineScaleSet_Get_*``, Storage ``StorageAccountGetProperties``, SQL ``FailoverGroup*``, DNS
``GetARecordset``/``GetDnsZone``, Resources ``GetProvider``); they are not copied from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from azure.core.exceptions import HttpResponseError

from drctl.sandbox import Sandbox
from drctl.sandbox.ops import Service

Paths = list[tuple[str, type | tuple[type, ...]]]

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def at(doc: Any, path: str) -> Any:
    """``properties.siteConfig.virtualApplications[0].physicalPath`` in a JSON document (KeyError if absent)."""
    for key, index in _STEP.findall(path):
        if key:
            if not isinstance(doc, dict) or key not in doc:
                raise KeyError(path)
            doc = doc[key]
        else:
            if not isinstance(doc, list) or int(index) >= len(doc):
                raise KeyError(path)
            doc = doc[int(index)]
    return doc


def assert_paths(doc: dict[str, Any], paths: Paths) -> None:
    missing = [p for p, _ in paths if not _has(doc, p)]
    assert not missing, f"missing: {missing}"
    wrong = [(p, type(at(doc, p)).__name__) for p, t in paths if not isinstance(at(doc, p), t)]
    assert not wrong, f"wrong types: {wrong}"


def _has(doc: Any, path: str) -> bool:
    try:
        at(doc, path)
    except KeyError:
        return False
    return True


def raw(pipeline_response: Any, deserialized: Any, headers: Any) -> Any:
    """An SDK ``cls`` hook: the answer's JSON as the wire carried it."""
    return pipeline_response.http_response.json()


def test_at_reads_paths_and_refuses_missing_ones() -> None:
    doc = {"a": {"b": [{"c": 1}]}}
    assert at(doc, "a.b[0].c") == 1
    for path in ("a.x", "a.b[1].c", "a.b.c"):
        with pytest.raises(KeyError):
            at(doc, path)


# ---- Microsoft.Web ----------------------------------------------------------------------------------------
SITE_CONFIG: Paths = [
    ("numberOfWorkers", int),
    ("defaultDocuments", list),
    ("netFrameworkVersion", str),
    ("phpVersion", str),
    ("pythonVersion", str),
    ("nodeVersion", str),
    ("powerShellVersion", str),
    ("linuxFxVersion", str),
    ("requestTracingEnabled", bool),
    ("remoteDebuggingEnabled", bool),
    ("httpLoggingEnabled", bool),
    ("acrUseManagedIdentityCreds", bool),
    ("logsDirectorySizeLimit", int),
    ("detailedErrorLoggingEnabled", bool),
    ("use32BitWorkerProcess", bool),
    ("webSocketsEnabled", bool),
    ("alwaysOn", bool),
    ("appCommandLine", str),
    ("managedPipelineMode", str),
    ("virtualApplications[0].virtualPath", str),
    ("virtualApplications[0].physicalPath", str),
    ("virtualApplications[0].preloadEnabled", bool),
    ("loadBalancing", str),
    ("autoHealEnabled", bool),
    ("vnetName", str),
    ("vnetRouteAllEnabled", bool),
    ("vnetPrivatePortsCount", int),
    ("http20Enabled", bool),
    ("minTlsVersion", str),
    ("scmMinTlsVersion", str),
    ("ftpsState", str),
    ("functionAppScaleLimit", int),
    ("functionsRuntimeScaleMonitoringEnabled", bool),
    ("minimumElasticInstanceCount", int),
    ("azureStorageAccounts", dict),
]
WEB_APP: Paths = [
    ("id", str),
    ("name", str),
    ("type", str),
    ("kind", str),
    ("location", str),
    ("properties.state", str),
    ("properties.hostNames[0]", str),
    ("properties.repositorySiteName", str),
    ("properties.usageState", str),
    ("properties.enabled", bool),
    ("properties.enabledHostNames[1]", str),
    ("properties.availabilityState", str),
    ("properties.hostNameSslStates[0].name", str),
    ("properties.hostNameSslStates[0].sslState", str),
    ("properties.hostNameSslStates[1].hostType", str),
    ("properties.serverFarmId", str),
    ("properties.reserved", bool),
    ("properties.isXenon", bool),
    ("properties.hyperV", bool),
    ("properties.lastModifiedTimeUtc", str),
    ("properties.vnetRouteAllEnabled", bool),
    ("properties.vnetImagePullEnabled", bool),
    ("properties.vnetContentShareEnabled", bool),
    ("properties.siteConfig", dict),
    *[(f"properties.siteConfig.{p}", t) for p, t in SITE_CONFIG],
    ("properties.scmSiteAlsoStopped", bool),
    ("properties.clientAffinityEnabled", bool),
    ("properties.clientCertEnabled", bool),
    ("properties.clientCertMode", str),
    ("properties.hostNamesDisabled", bool),
    ("properties.customDomainVerificationId", str),
    ("properties.outboundIpAddresses", str),
    ("properties.possibleOutboundIpAddresses", str),
    ("properties.containerSize", int),
    ("properties.dailyMemoryTimeQuota", int),
    ("properties.resourceGroup", str),
    ("properties.defaultHostName", str),
    ("properties.httpsOnly", bool),
    ("properties.redundancyMode", str),
    ("properties.storageAccountRequired", bool),
    ("properties.keyVaultReferenceIdentity", str),
]


def test_web_app_get_has_the_spec_paths(sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    web = sdk(sandbox).web
    doc = web.web_apps.get("rg-wallet-aue", "app-wallet-api-aue", cls=raw)
    assert len(WEB_APP) > 50
    assert_paths(doc, WEB_APP)
    site = web.web_apps.get("rg-wallet-aue", "app-wallet-api-aue")
    assert site.site_config.min_tls_version == "1.2"
    assert [s.host_type for s in site.host_name_ssl_states] == ["Standard", "Repository"]


def test_web_app_configuration_reads_writes_and_merges(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    from azure.mgmt.web.models import SiteConfigResource

    web = sdk(fresh_sandbox).web
    doc = web.web_apps.get_configuration("rg-wallet-ause", "app-wallet-api-ause", cls=raw)
    assert_paths(doc, [("id", str), ("name", str), ("type", str), *[(f"properties.{p}", t) for p, t in SITE_CONFIG]])
    assert (doc["name"], doc["type"]) == ("web", "Microsoft.Web/sites/config")
    assert doc["id"].endswith("/providers/Microsoft.Web/sites/app-wallet-api-ause/config/web")

    config = web.web_apps.get_configuration("rg-wallet-ause", "app-wallet-api-ause")
    config.number_of_workers, config.http20_enabled = 3, True
    written = web.web_apps.create_or_update_configuration("rg-wallet-ause", "app-wallet-api-ause", config)
    assert (written.number_of_workers, written.http20_enabled) == (3, True)
    web.web_apps.update_configuration(
        "rg-wallet-ause", "app-wallet-api-ause", SiteConfigResource(min_tls_version="1.3")
    )
    site = web.web_apps.get("rg-wallet-ause", "app-wallet-api-ause").site_config
    assert (site.number_of_workers, site.http20_enabled, site.min_tls_version) == (3, True, "1.3")
    writes = [
        (e["method"], e["op"])
        for e in fresh_sandbox.world.request_log()
        if e["path"].lower().endswith("/config/web") and e["method"] != "GET"
    ]
    assert writes == [("PUT", "arm.write"), ("PATCH", "arm.write")]

    with pytest.raises(HttpResponseError, match="numberOfWorkers"):
        web.web_apps.update_configuration(
            "rg-wallet-ause", "app-wallet-api-ause", SiteConfigResource(number_of_workers=0)
        )


def test_publishing_profile_is_a_read_with_an_ftp_profile(sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    import xml.etree.ElementTree as ET

    from azure.mgmt.web.models import CsmPublishingProfileOptions

    web = sdk(sandbox).web
    chunks = web.web_apps.list_publishing_profile_xml_with_secrets(
        "rg-wallet-aue", "app-wallet-api-aue", CsmPublishingProfileOptions(format="Ftp")
    )
    root = ET.fromstring(b"".join(chunks))  # noqa: S314 - the sandbox's own answer
    methods = {p.get("publishMethod"): p for p in root.iter("publishProfile")}
    assert set(methods) == {"MSDeploy", "FTP", "ZipDeploy"}
    assert methods["FTP"].get("publishUrl", "").startswith("ftps://")
    entry = next(e for e in reversed(sandbox.world.request_log()) if e["path"].lower().endswith("/publishxml"))
    assert (entry["status"], entry["op"]) == (200, "arm.read")


# ---- Microsoft.Compute -----------------------------------------------------------------------------------
SCALE_SET: Paths = [
    ("name", str),
    ("id", str),
    ("type", str),
    ("location", str),
    ("tags", dict),
    ("sku.name", str),
    ("sku.tier", str),
    ("sku.capacity", int),
    ("properties.singlePlacementGroup", bool),
    ("properties.upgradePolicy.mode", str),
    ("properties.virtualMachineProfile.storageProfile.osDisk.createOption", str),
    ("properties.virtualMachineProfile.storageProfile.osDisk.caching", str),
    ("properties.virtualMachineProfile.storageProfile.osDisk.managedDisk.storageAccountType", str),
    ("properties.virtualMachineProfile.storageProfile.osDisk.diskSizeGB", int),
    ("properties.virtualMachineProfile.storageProfile.imageReference.publisher", str),
    ("properties.virtualMachineProfile.storageProfile.imageReference.offer", str),
    ("properties.virtualMachineProfile.storageProfile.imageReference.sku", str),
    ("properties.virtualMachineProfile.storageProfile.imageReference.version", str),
    ("properties.virtualMachineProfile.storageProfile.dataDisks", list),
    ("properties.virtualMachineProfile.osProfile.computerNamePrefix", str),
    ("properties.virtualMachineProfile.osProfile.adminUsername", str),
    ("properties.virtualMachineProfile.osProfile.linuxConfiguration.disablePasswordAuthentication", bool),
    ("properties.virtualMachineProfile.networkProfile.networkInterfaceConfigurations[0].name", str),
    ("properties.virtualMachineProfile.networkProfile.networkInterfaceConfigurations[0].properties.primary", bool),
    (
        "properties.virtualMachineProfile.networkProfile.networkInterfaceConfigurations[0].properties"
        ".ipConfigurations[0].properties.subnet.id",
        str,
    ),
    ("properties.provisioningState", str),
    ("properties.overprovision", bool),
    ("properties.doNotRunExtensionsOnOverprovisionedVMs", bool),
    ("properties.platformFaultDomainCount", int),
]


def test_scale_set_get_has_the_spec_paths(sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    compute = sdk(sandbox).compute
    doc = compute.virtual_machine_scale_sets.get("rg-wallet-aue", "vmss-wallet-workers-aue", cls=raw)
    assert_paths(doc, SCALE_SET)
    vmss = compute.virtual_machine_scale_sets.get("rg-wallet-aue", "vmss-wallet-workers-aue")
    assert vmss.virtual_machine_profile.storage_profile.os_disk.create_option == "FromImage"


def test_a_full_put_of_an_existing_scale_set_scales_it_like_a_patch(
    fresh_sandbox: Sandbox, sdk: Callable[..., Any]
) -> None:
    """What ``az vmss scale`` does: GET the model, change sku.capacity, PUT it all back (an LRO)."""
    compute = sdk(fresh_sandbox).compute
    vmss = compute.virtual_machine_scale_sets.get("rg-wallet-ause", "vmss-wallet-workers-ause")
    assert vmss.sku.capacity == 1
    fresh_sandbox.add_faults({"kind": "latency", "op": "vmss.update", "seconds": 1.0})
    vmss.sku.capacity = 4
    vmss.tags = {**(vmss.tags or {}), "scaled-by": "put"}
    poller = compute.virtual_machine_scale_sets.begin_create_or_update(
        "rg-wallet-ause", "vmss-wallet-workers-ause", vmss
    )
    during = compute.virtual_machine_scale_sets.get("rg-wallet-ause", "vmss-wallet-workers-ause")
    assert (during.sku.capacity, during.provisioning_state) == (4, "Updating")
    assert fresh_sandbox.snapshot()["scale_sets"]["vmss-wallet-workers-ause"]["capacity"] == 1
    result = poller.result()
    assert (result.sku.capacity, result.provisioning_state, result.tags["scaled-by"]) == (4, "Succeeded", "put")
    assert fresh_sandbox.snapshot()["scale_sets"]["vmss-wallet-workers-ause"]["capacity"] == 4
    assert_paths(
        compute.virtual_machine_scale_sets.get("rg-wallet-ause", "vmss-wallet-workers-ause", cls=raw), SCALE_SET
    )
    puts = [e for e in fresh_sandbox.world.request_log() if e["method"] == "PUT"]
    assert [(e["status"], e["op"]) for e in puts] == [(200, "vmss.update")]


def test_a_put_of_only_location_and_sku_scales_and_keeps_the_rest(
    fresh_sandbox: Sandbox, sdk: Callable[..., Any]
) -> None:
    """The body ``az vmss scale`` sends: a new model with the location and the sku only."""
    from azure.mgmt.compute.models import VirtualMachineScaleSet, VirtualMachineScaleSetUpdate

    compute = sdk(fresh_sandbox).compute
    compute.virtual_machine_scale_sets.begin_update(
        "rg-wallet-ause", "vmss-wallet-workers-ause", VirtualMachineScaleSetUpdate(tags={"team": "wallet"})
    ).result()
    before = compute.virtual_machine_scale_sets.get("rg-wallet-ause", "vmss-wallet-workers-ause")
    before.sku.capacity = 3
    result = compute.virtual_machine_scale_sets.begin_create_or_update(
        "rg-wallet-ause", "vmss-wallet-workers-ause", VirtualMachineScaleSet(location=before.location, sku=before.sku)
    ).result()
    assert (result.sku.capacity, result.tags) == (3, {"team": "wallet"})
    assert result.virtual_machine_profile.os_profile.computer_name_prefix


def test_a_failed_put_of_a_scale_set_fails_like_a_patch(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    fresh_sandbox.add_faults({"kind": "lro_failure", "op": "vmss.update", "code": "AllocationFailed"})
    compute = sdk(fresh_sandbox).compute
    vmss = compute.virtual_machine_scale_sets.get("rg-wallet-ause", "vmss-wallet-workers-ause")
    vmss.sku.capacity = 5
    with pytest.raises(HttpResponseError, match="AllocationFailed"):
        compute.virtual_machine_scale_sets.begin_create_or_update(
            "rg-wallet-ause", "vmss-wallet-workers-ause", vmss
        ).result()
    after = compute.virtual_machine_scale_sets.get("rg-wallet-ause", "vmss-wallet-workers-ause")
    assert (after.sku.capacity, after.provisioning_state) == (1, "Failed")
    vmss.location = "westeurope"
    with pytest.raises(HttpResponseError, match="cannot be changed"):
        compute.virtual_machine_scale_sets.begin_create_or_update("rg-wallet-ause", "vmss-wallet-workers-ause", vmss)


# ---- Microsoft.Storage -----------------------------------------------------------------------------------
STORAGE_ACCOUNT: Paths = [
    ("id", str),
    ("kind", str),
    ("location", str),
    ("name", str),
    ("type", str),
    ("tags", dict),
    ("sku.name", str),
    ("sku.tier", str),
    ("properties.keyCreationTime.key1", str),
    ("properties.keyCreationTime.key2", str),
    ("properties.geoReplicationStats.status", str),
    ("properties.geoReplicationStats.lastSyncTime", str),
    ("properties.geoReplicationStats.canFailover", bool),
    ("properties.isHnsEnabled", bool),
    ("properties.creationTime", str),
    ("properties.networkAcls.bypass", str),
    ("properties.networkAcls.defaultAction", str),
    ("properties.networkAcls.ipRules", list),
    ("properties.networkAcls.virtualNetworkRules", list),
    ("properties.networkAcls.resourceAccessRules", list),
    ("properties.primaryEndpoints.web", str),
    ("properties.primaryEndpoints.dfs", str),
    ("properties.primaryEndpoints.blob", str),
    ("properties.primaryEndpoints.file", str),
    ("properties.primaryEndpoints.queue", str),
    ("properties.primaryEndpoints.table", str),
    ("properties.primaryLocation", str),
    ("properties.provisioningState", str),
    ("properties.encryption.services.file.keyType", str),
    ("properties.encryption.services.file.enabled", bool),
    ("properties.encryption.services.file.lastEnabledTime", str),
    ("properties.encryption.services.blob.keyType", str),
    ("properties.encryption.services.blob.enabled", bool),
    ("properties.encryption.services.blob.lastEnabledTime", str),
    ("properties.encryption.keySource", str),
    ("properties.secondaryLocation", str),
    ("properties.statusOfPrimary", str),
    ("properties.statusOfSecondary", str),
    ("properties.supportsHttpsTrafficOnly", bool),
    ("properties.isSkuConversionBlocked", bool),
    ("properties.accountMigrationInProgress", bool),
]


def test_storage_account_get_properties_has_the_spec_paths(sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    storage = sdk(sandbox).storage
    doc = storage.storage_accounts.get_properties("rg-wallet-aue", "stwalletaue", expand="geoReplicationStats", cls=raw)
    assert_paths(doc, STORAGE_ACCOUNT)
    account = storage.storage_accounts.get_properties("rg-wallet-aue", "stwalletaue")
    assert account.encryption.services.blob.enabled is True
    assert account.network_rule_set.default_action == "Allow"


def test_a_storage_patch_merges_into_network_acls(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    from azure.mgmt.storage.models import NetworkRuleSet, StorageAccountUpdateParameters

    storage = sdk(fresh_sandbox).storage
    storage.storage_accounts.update(
        "rg-wallet-aue",
        "stwalletaue",
        StorageAccountUpdateParameters(network_rule_set=NetworkRuleSet(default_action="Deny")),
    )
    doc = storage.storage_accounts.get_properties("rg-wallet-aue", "stwalletaue", cls=raw)
    assert at(doc, "properties.networkAcls.defaultAction") == "Deny"
    assert at(doc, "properties.encryption.services.blob.enabled") is True


# ---- Microsoft.Sql and Microsoft.Network DNS ------------------------------------------------------------
FAILOVER_GROUP: Paths = [
    ("id", str),
    ("name", str),
    ("type", str),
    ("location", str),
    ("properties.readWriteEndpoint.failoverPolicy", str),
    ("properties.readOnlyEndpoint.failoverPolicy", str),
    ("properties.replicationRole", str),
    ("properties.replicationState", str),
    ("properties.partnerServers[0].id", str),
    ("properties.partnerServers[0].location", str),
    ("properties.partnerServers[0].replicationRole", str),
    ("properties.databases[0]", str),
]
SQL_SERVER: Paths = [
    ("id", str),
    ("name", str),
    ("type", str),
    ("kind", str),
    ("location", str),
    ("properties.administratorLogin", str),
    ("properties.version", str),
    ("properties.state", str),
    ("properties.fullyQualifiedDomainName", str),
]
RECORD_SET_A: Paths = [
    ("id", str),
    ("etag", str),
    ("name", str),
    ("type", str),
    ("properties.metadata", (dict, type(None))),
    ("properties.TTL", int),
    ("properties.fqdn", str),
    ("properties.ARecords[0].ipv4Address", str),
]
DNS_ZONE: Paths = [
    ("id", str),
    ("etag", str),
    ("name", str),
    ("type", str),
    ("location", str),
    ("tags", dict),
    ("properties.maxNumberOfRecordSets", int),
    ("properties.numberOfRecordSets", int),
    ("properties.nameServers[0]", str),
]


def test_sql_and_dns_have_the_spec_paths(sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    clients = sdk(sandbox)
    assert_paths(
        clients.sql.failover_groups.get("rg-wallet-aue", "sql-wallet-aue", "fg-wallet", cls=raw), FAILOVER_GROUP
    )
    assert_paths(clients.sql.servers.get("rg-wallet-aue", "sql-wallet-aue", cls=raw), SQL_SERVER)
    assert_paths(clients.dns.record_sets.get("rg-wallet-dns", "wallet.example.com", "api", "A", cls=raw), RECORD_SET_A)
    assert_paths(clients.dns.zones.get("rg-wallet-dns", "wallet.example.com", cls=raw), DNS_ZONE)


# ---- Microsoft.Resources ---------------------------------------------------------------------------------
PROVIDER: Paths = [
    ("id", str),
    ("namespace", str),
    ("registrationState", str),
    ("registrationPolicy", str),
    ("resourceTypes[0].resourceType", str),
    ("resourceTypes[0].locations", list),
    ("resourceTypes[0].apiVersions[0]", str),
    ("resourceTypes[0].capabilities", str),
]


@pytest.mark.parametrize(
    ("namespace", "rtype", "call"),
    [
        ("Microsoft.Web", "sites", lambda c: c.web.web_apps.get("rg-wallet-aue", "app-wallet-api-aue")),
        (
            "Microsoft.Compute",
            "virtualMachineScaleSets",
            lambda c: c.compute.virtual_machine_scale_sets.get("rg-wallet-aue", "vmss-wallet-workers-aue"),
        ),
        (
            "Microsoft.Storage",
            "storageAccounts",
            lambda c: c.storage.storage_accounts.get_properties("rg-wallet-aue", "stwalletaue"),
        ),
        ("Microsoft.Sql", "servers", lambda c: c.sql.servers.get("rg-wallet-aue", "sql-wallet-aue")),
        ("Microsoft.Network", "dnszones", lambda c: c.dns.zones.get("rg-wallet-dns", "wallet.example.com")),
        ("Microsoft.Resources", "resourceGroups", lambda c: c.resources.resource_groups.get("rg-wallet-aue")),
    ],
)
def test_providers_list_the_types_and_the_api_version_the_sdk_sends(
    sandbox: Sandbox, sdk: Callable[..., Any], namespace: str, rtype: str, call: Callable[[Any], Any]
) -> None:
    clients = sdk(sandbox)
    call(clients)
    sent = next(e for e in reversed(sandbox.world.request_log(Service.ARM)) if e["method"] == "GET")["query"][
        "api-version"
    ]
    doc = clients.resources.providers.get(namespace, cls=raw)
    assert_paths(doc, PROVIDER)
    types = {t["resourceType"].lower(): t for t in doc["resourceTypes"]}
    assert sent in types[rtype.lower()]["apiVersions"]
    expected = ["global"] if namespace == "Microsoft.Network" else ["Australia East", "Australia Southeast"]
    assert types[rtype.lower()]["locations"] == expected
    provider = clients.resources.providers.get(namespace)
    assert any(t.resource_type.lower() == rtype.lower() and t.api_versions for t in provider.resource_types)


def test_a_put_of_a_resource_group_updates_or_creates_it(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    from azure.mgmt.resource.resources.models import ResourceGroup

    groups = sdk(fresh_sandbox).resources.resource_groups
    updated = groups.create_or_update("rg-wallet-aue", ResourceGroup(location="australiaeast", tags={"owner": "dr"}))
    assert (updated.name, updated.tags) == ("rg-wallet-aue", {"owner": "dr"})
    assert groups.get("rg-wallet-aue").tags == {"owner": "dr"}
    created = groups.create_or_update("rg-new", ResourceGroup(location="Australia Southeast"))
    assert (created.name, created.location, created.properties.provisioning_state) == (
        "rg-new",
        "australiasoutheast",
        "Succeeded",
    )
    assert groups.check_existence("rg-new") is True
    statuses = [(e["method"], e["status"], e["op"]) for e in fresh_sandbox.world.request_log() if e["method"] == "PUT"]
    assert statuses == [("PUT", 200, "arm.write"), ("PUT", 201, "arm.write")]
    with pytest.raises(HttpResponseError, match="InvalidResourceGroupLocation"):
        groups.create_or_update("rg-wallet-aue", ResourceGroup(location="australiasoutheast"))
    with pytest.raises(HttpResponseError, match="LocationNotAvailableForResourceGroup"):
        groups.create_or_update("rg-elsewhere", ResourceGroup(location="westeurope"))
    fresh_sandbox.reset()
    assert groups.check_existence("rg-new") is False


# ---- authentication and cloud discovery -------------------------------------------------------------------
def _arm_get(sandbox: Sandbox, token: str | None, path: str = "") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = f"{sandbox.arm_endpoint}{path or f'/subscriptions/{sandbox.subscription_id}'}"
    with httpx.Client(verify=sandbox.ssl_context()) as client:
        return client.get(url, params={"api-version": "2022-12-01"}, headers=headers)


def test_a_token_for_another_audience_is_refused(sandbox: Sandbox) -> None:
    credential = sandbox.credential()
    other = credential.get_token("https://storage.azure.com/.default").token
    answer = _arm_get(sandbox, other)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "InvalidAuthenticationTokenAudience"
    assert "https://storage.azure.com/" in answer.json()["error"]["message"]
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
    # the audiences ARM serves: the sandbox's own URL (drctl), public ARM (the SDKs), the classic one (Azure CLI)
    for scope in (
        f"{sandbox.arm_endpoint}/.default",
        "https://management.azure.com/.default",
        "https://management.core.windows.net//.default",
    ):
        assert _arm_get(sandbox, credential.get_token(scope).token).status_code == 200, scope


def test_metadata_endpoints_answer_without_a_token(sandbox: Sandbox) -> None:
    base = sandbox.arm_endpoint
    with httpx.Client(verify=sandbox.ssl_context()) as client:
        current = client.get(f"{base}/metadata/endpoints", params={"api-version": "2022-09-01"})
        listed = client.get(f"{base}/metadata/endpoints", params={"api-version": "2019-05-01"})
        legacy = client.get(f"{base}/metadata/endpoints", params={"api-version": "2015-01-01"})
    assert (current.status_code, listed.status_code, legacy.status_code) == (200, 200, 200)
    cloud = current.json()
    # what the Azure CLI reads to register a cloud (azure/cli/core/cloud.py, _arm_to_cli_mapper)
    assert_paths(
        cloud,
        [
            ("name", str),
            ("resourceManager", str),
            ("sqlManagement", str),
            ("batch", str),
            ("gallery", str),
            ("authentication.loginEndpoint", str),
            ("authentication.audiences[0]", str),
            ("graphAudience", str),
            ("vmImageAliasDoc", str),
            ("media", str),
            ("suffixes.storage", str),
            ("suffixes.keyVaultDns", str),
            ("suffixes.sqlServerHostname", str),
        ],
    )
    assert cloud["authentication"]["loginEndpoint"] == base
    assert cloud["resourceManager"].rstrip("/") == base
    assert listed.json() == [cloud]
    assert legacy.json()["authentication"] == {"loginEndpoint": base, "audiences": cloud["authentication"]["audiences"]}
    # a client that registered the cloud from it asks for audiences[0] and is served
    token = sandbox.credential().get_token(f"{cloud['authentication']['audiences'][0]}/.default").token
    assert _arm_get(sandbox, token).status_code == 200
    assert _arm_get(sandbox, None).status_code == 401
