"""Web apps, scale sets and storage accounts: the standby side of a failover."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from drctl.sandbox import Sandbox


def test_web_apps_get_start_and_stop(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    web = sdk(fresh_sandbox).web
    site = web.web_apps.get("rg-wallet-ause", "app-wallet-api-ause")
    assert (site.properties.state, site.properties.default_host_name) == (
        "Stopped",
        "app-wallet-api-ause.azurewebsites.net",
    )
    assert site.location == "Australia Southeast"
    assert web.web_apps.start("rg-wallet-ause", "app-wallet-api-ause") is None
    assert web.web_apps.get("rg-wallet-ause", "app-wallet-api-ause").properties.state == "Running"
    web.web_apps.stop("rg-wallet-aue", "app-wallet-api-aue")
    assert web.web_apps.get("rg-wallet-aue", "app-wallet-api-aue").properties.state == "Stopped"


def test_a_web_app_start_takes_its_latency(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    fresh_sandbox.add_faults({"kind": "latency", "op": "web.start", "seconds": 1.0})
    web = sdk(fresh_sandbox).web
    started = time.monotonic()
    web.web_apps.start("rg-wallet-ause", "app-wallet-api-ause")
    assert time.monotonic() - started >= 1.0
    started = time.monotonic()
    web.web_apps.get("rg-wallet-ause", "app-wallet-api-ause")  # reads are not slowed by a web.start latency
    assert time.monotonic() - started < 0.8


def test_scale_set_get_and_capacity_update_lro(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    from azure.mgmt.compute.models import Sku, VirtualMachineScaleSetUpdate

    compute = sdk(fresh_sandbox).compute
    vmss = compute.virtual_machine_scale_sets.get("rg-wallet-ause", "vmss-wallet-workers-ause")
    assert (vmss.sku.capacity, vmss.properties.provisioning_state) == (1, "Succeeded")
    fresh_sandbox.add_faults({"kind": "latency", "op": "vmss.update", "seconds": 1.5})
    poller = compute.virtual_machine_scale_sets.begin_update(
        "rg-wallet-ause", "vmss-wallet-workers-ause", VirtualMachineScaleSetUpdate(sku=Sku(capacity=5))
    )
    during = compute.virtual_machine_scale_sets.get("rg-wallet-ause", "vmss-wallet-workers-ause")
    assert (during.sku.capacity, during.properties.provisioning_state) == (5, "Updating")
    assert fresh_sandbox.snapshot()["scale_sets"]["vmss-wallet-workers-ause"]["capacity"] == 1
    result = poller.result()
    assert (result.sku.capacity, result.properties.provisioning_state) == (5, "Succeeded")
    assert fresh_sandbox.snapshot()["scale_sets"]["vmss-wallet-workers-ause"]["capacity"] == 5


def test_a_failed_scale_out_leaves_capacity_and_says_failed(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    from azure.mgmt.compute.models import Sku, VirtualMachineScaleSetUpdate

    fresh_sandbox.add_faults({"kind": "lro_failure", "op": "vmss.update", "code": "AllocationFailed"})
    compute = sdk(fresh_sandbox).compute
    with pytest.raises(HttpResponseError, match="AllocationFailed"):
        compute.virtual_machine_scale_sets.begin_update(
            "rg-wallet-ause", "vmss-wallet-workers-ause", VirtualMachineScaleSetUpdate(sku=Sku(capacity=5))
        ).result()
    vmss = compute.virtual_machine_scale_sets.get("rg-wallet-ause", "vmss-wallet-workers-ause")
    assert (vmss.sku.capacity, vmss.properties.provisioning_state) == (1, "Failed")


def test_storage_geo_replication_stats_are_given_on_expand(sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    storage = sdk(sandbox).storage
    plain = storage.storage_accounts.get_properties("rg-wallet-aue", "stwalletaue")
    assert plain.properties.geo_replication_stats is None
    account = storage.storage_accounts.get_properties("rg-wallet-aue", "stwalletaue", expand="geoReplicationStats")
    stats = account.properties.geo_replication_stats
    assert (stats.status, stats.can_failover, stats.can_planned_failover) == ("Live", True, True)
    lag = time.time() - stats.last_sync_time.timestamp()
    assert 119 <= lag <= 125  # the demo estate's 120 s
    assert (account.properties.primary_location, account.properties.secondary_location) == (
        "australiaeast",
        "australiasoutheast",
    )


def test_planned_storage_failover_swaps_locations(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    storage = sdk(fresh_sandbox).storage
    storage.storage_accounts.begin_failover("rg-wallet-aue", "stwalletaue").result()
    account = storage.storage_accounts.get_properties("rg-wallet-aue", "stwalletaue")
    assert (account.location, account.properties.secondary_location, account.sku.name) == (
        "australiasoutheast",
        "australiaeast",
        "Standard_RAGRS",
    )
    assert fresh_sandbox.client().data_loss() == []


def test_unplanned_storage_failover_in_an_outage_loses_the_unsynced_writes(
    fresh_sandbox: Sandbox, sdk: Callable[..., Any]
) -> None:
    fresh_sandbox.set_region("au-east", up=False)
    storage = sdk(fresh_sandbox).storage
    with pytest.raises(HttpResponseError, match="PlannedFailoverNotPossible"):
        storage.storage_accounts.begin_failover("rg-wallet-aue", "stwalletaue").result()
    storage.storage_accounts.begin_failover("rg-wallet-aue", "stwalletaue", failover_type=None).result()
    account = storage.storage_accounts.get_properties("rg-wallet-aue", "stwalletaue")
    assert (account.location, account.sku.name, account.properties.secondary_location) == (
        "australiasoutheast",
        "Standard_LRS",
        None,
    )
    (loss,) = fresh_sandbox.client().data_loss()
    assert loss["kind"] == "storage.failover"
    assert loss["lost_seconds"] == pytest.approx(120, abs=0.01)


def test_writes_in_a_region_that_is_down_get_503(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    fresh_sandbox.set_region("au-east", up=False)
    web = sdk(fresh_sandbox, retry_total=0).web
    assert web.web_apps.get("rg-wallet-aue", "app-wallet-api-aue").properties.state == "Running"
    with pytest.raises(HttpResponseError) as err:
        web.web_apps.stop("rg-wallet-aue", "app-wallet-api-aue")
    assert err.value.status_code == 503
