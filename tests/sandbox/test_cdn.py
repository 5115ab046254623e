"""Front Door Standard/Premium in the sandbox: Microsoft.Cdn through the real azure-mgmt-cdn client over HTTPS,
and the endpoint's public host name answered by the sandbox's edge (reached through DRCTL_RESOLVE, TLS verified
for the real name), routing to the enabled origin after the propagation delay."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drctl.net.config import NetworkConfig
from drctl.net.http import Client
from drctl.sandbox import Sandbox, estate_from_playbook
from drctl.sandbox.ops import Service
from drctl.sandbox.testing import arm_client, running_sandbox
from tests.frontdoor_playbook import ENDPOINT, GROUP, PROFILE, frontdoor_playbook

RG = "rg-wallet-global"


@pytest.fixture
def fd_sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    playbook = frontdoor_playbook(tmp_path)
    with running_sandbox(estate_from_playbook(playbook), workdir=tmp_path / "sandbox") as sb:
        yield sb


def _cdn(sb: Sandbox) -> Any:
    from azure.mgmt.cdn import CdnManagementClient

    return arm_client(sb, CdnManagementClient)


def _host(sb: Sandbox) -> str:
    return str(_cdn(sb).afd_endpoints.get(RG, PROFILE, ENDPOINT).host_name)


def _served_by(sb: Sandbox, path: str = "/healthz") -> tuple[int, str | None, dict[str, str]]:
    """GET https://<endpoint host><path> as drctl sends it (net.http, DRCTL_RESOLVE, the sandbox CA): the status,
    the region the app's body names, and the headers."""
    client = Client(timeout=5, network=NetworkConfig.from_environ(sb.env()))
    try:
        answer = client.request("GET", f"https://{_host(sb)}{path}")
    finally:
        client.close()
    import json

    try:
        region = json.loads(answer.body).get("region")
    except ValueError:
        region = None
    return answer.status, region, answer.headers


def _set(sb: Sandbox, origin: str, **props: Any) -> Any:
    from azure.mgmt.cdn.models import AFDOriginUpdateParameters

    poller = _cdn(sb).afd_origins.begin_update(RG, PROFILE, GROUP, origin, AFDOriginUpdateParameters(**props))
    return poller.result()


def test_the_seeded_profile_reads_as_azure_shows_it(fd_sandbox: Sandbox) -> None:
    cdn = _cdn(fd_sandbox)
    profile = cdn.profiles.get(RG, PROFILE)
    assert (profile.sku.name, profile.location, profile.kind) == ("Standard_AzureFrontDoor", "Global", "frontdoor")
    endpoint = cdn.afd_endpoints.get(RG, PROFILE, ENDPOINT)
    assert endpoint.host_name.startswith(f"{ENDPOINT}-")
    assert endpoint.host_name.endswith(".z01.azurefd.net")
    assert endpoint.enabled_state == "Enabled"
    group = cdn.afd_origin_groups.get(RG, PROFILE, GROUP)
    assert group.health_probe_settings.probe_path == "/healthz"
    origins = {o.name: o for o in cdn.afd_origins.list_by_origin_group(RG, PROFILE, GROUP)}
    assert {n: (o.enabled_state, o.priority, o.host_name) for n, o in origins.items()} == {
        "origin-aue": ("Enabled", 1, "api-aue.wallet.example.com"),
        "origin-aus": ("Disabled", 2, "api-aus.wallet.example.com"),
    }
    assert [e.name for e in cdn.afd_endpoints.list_by_profile(RG, PROFILE)] == [ENDPOINT]
    assert [p.name for p in cdn.profiles.list_by_resource_group(RG)] == [PROFILE]


def test_a_failback_estate_has_the_target_origin_enabled(tmp_path: Path) -> None:
    estate = estate_from_playbook(frontdoor_playbook(tmp_path), reverse=True)
    origins = {o.name: (o.enabled_state, o.priority) for o in estate.front_door.profiles[0].origin_groups[0].origins}
    assert origins == {"origin-aue": ("Disabled", 2), "origin-aus": ("Enabled", 1)}


def test_the_endpoint_host_serves_the_enabled_origin_and_names_it(fd_sandbox: Sandbox) -> None:
    status, region, headers = _served_by(fd_sandbox)
    assert (status, region) == (200, "au-east")
    assert headers["x-drctl-origin"] == "origin-aue"
    assert headers["x-azure-ref"]
    edge = fd_sandbox.world.request_log(Service.FRONTDOOR)
    assert [(e["origin"], e["region"], e["status"]) for e in edge] == [("origin-aue", "au-east", 200)]


def test_an_origin_update_is_a_long_running_operation_then_reaches_the_edge_after_the_delay(
    fd_sandbox: Sandbox,
) -> None:
    fd_sandbox.add_faults({"kind": "front_door_propagation_delay", "seconds": 4.0})
    updated = _set(fd_sandbox, "origin-aus", enabled_state="Enabled", priority=1)
    assert (updated.enabled_state, updated.priority, updated.provisioning_state) == ("Enabled", 1, "Succeeded")
    _set(fd_sandbox, "origin-aue", enabled_state="Disabled", priority=2)
    changed = time.monotonic()
    polls = [r for r in fd_sandbox.world.request_log(Service.ARM) if "azureasyncoperation" in r["path"].lower()]
    assert polls, "begin_update followed the Azure-AsyncOperation URL"
    # ARM has the change at once; the edge still routes on the old configuration until the delay has passed
    state = fd_sandbox.snapshot()["front_door"]
    assert state["propagation_seconds"] == 4.0
    seen = state["profiles"][PROFILE]["origin_groups"][GROUP]["origin-aue"]
    assert (seen["enabled"], seen["edge"]["enabled"]) == (False, True)
    assert _served_by(fd_sandbox)[1] == "au-east"
    while _served_by(fd_sandbox)[1] != "au-southeast":
        assert time.monotonic() - changed < 10, "the change never reached the edge"
        time.sleep(0.1)
    # the first update finished about a Retry-After (1 s) before the second: the edge moved at its 4 s mark
    assert time.monotonic() - changed >= 2.5


def test_a_region_outage_moves_the_edge_to_another_enabled_origin_else_503(fd_sandbox: Sandbox) -> None:
    fd_sandbox.add_faults({"kind": "front_door_propagation_delay", "seconds": 0})
    fd_sandbox.set_region("au-east", up=False)
    # the only enabled origin is down: nothing to route to
    status, region, headers = _served_by(fd_sandbox)
    assert (status, region) == (503, None)
    assert "x-drctl-origin" not in headers
    _set(fd_sandbox, "origin-aus", enabled_state="Enabled", priority=2)
    # Front Door is global: its ARM answers while a region is down, and its probes skip the dead origin; the
    # target app answers (unhealthy until its database is promoted: all origins unhealthy, Front Door still sends)
    status, region, headers = _served_by(fd_sandbox)
    assert region == "au-southeast"
    assert headers["x-drctl-origin"] == "origin-aus"
    assert status == 503


def test_bad_origin_updates_are_refused(fd_sandbox: Sandbox) -> None:
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    with pytest.raises(HttpResponseError, match="priority"):
        _set(fd_sandbox, "origin-aus", priority=9)
    with pytest.raises(ResourceNotFoundError):
        _cdn(fd_sandbox).afd_origins.get(RG, PROFILE, GROUP, "origin-nowhere")


def test_an_lro_failure_fault_leaves_the_edge_as_it_was(fd_sandbox: Sandbox) -> None:
    from azure.core.exceptions import HttpResponseError

    fd_sandbox.add_faults({"kind": "lro_failure", "op": "afd.origin.update", "code": "InternalServerError"})
    with pytest.raises(HttpResponseError):
        _set(fd_sandbox, "origin-aus", enabled_state="Enabled")
    origin = _cdn(fd_sandbox).afd_origins.get(RG, PROFILE, GROUP, "origin-aus")
    assert (origin.enabled_state, origin.provisioning_state) == ("Disabled", "Failed")
