"""Traffic Manager in the sandbox: profiles and endpoints through the real azure-mgmt-trafficmanager client over
HTTPS, and the profile's DNS name through real DNS queries (dnspython and ``dig``) at the sandbox's DNS port."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest
from azure.core.exceptions import HttpResponseError

from drctl.sandbox import Sandbox, estate_from_playbook
from drctl.sandbox.testing import arm_client, running_sandbox
from tests.trafficmanager_playbook import ENDPOINTS, FQDN, GROUP, PROFILE, TARGETS, write_playbook

EXTERNAL = "ExternalEndpoints"
SOURCE, TARGET = ENDPOINTS["au-east"], ENDPOINTS["au-southeast"]


@pytest.fixture(scope="module")
def _module_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    where = tmp_path_factory.mktemp("tm")
    estate = estate_from_playbook(write_playbook(where / "playbook.yaml"))
    with running_sandbox(estate, workdir=where / "sandbox") as sb:
        yield sb


@pytest.fixture
def sb(_module_sandbox: Sandbox) -> Sandbox:
    _module_sandbox.reset()
    return _module_sandbox


def _client(sb: Sandbox) -> Any:
    from azure.mgmt.trafficmanager import TrafficManagerManagementClient

    return arm_client(sb, TrafficManagerManagementClient)


def ask(sb: Sandbox, name: str = FQDN, rtype: str = "CNAME") -> dns.message.Message:
    """One question to the sandbox's DNS server (UDP, port ``sb.dns_port``)."""
    return dns.query.udp(dns.message.make_query(name, rtype), "127.0.0.1", port=sb.dns_port, timeout=2)


def answered(sb: Sandbox, rtype: str = "CNAME") -> tuple[list[str], int]:
    response = ask(sb, rtype=rtype)
    assert response.rcode() == dns.rcode.NOERROR
    (rrset,) = response.answer
    return [r.to_text().rstrip(".") for r in rrset], rrset.ttl


def _enable(sb: Sandbox, endpoint: str, status: str = "Enabled", **extra: Any) -> Any:
    body = {"properties": {"endpointStatus": status, **extra}}
    return _client(sb).endpoints.update(GROUP, PROFILE, EXTERNAL, endpoint, body)


def test_the_seeded_profile_reads_like_azure(sb: Sandbox) -> None:
    profile = _client(sb).profiles.get(GROUP, PROFILE).as_dict()
    props = profile["properties"]
    assert profile["type"] == "Microsoft.Network/trafficManagerProfiles"
    assert profile["location"] == "global"
    assert props["trafficRoutingMethod"] == "Priority"
    assert props["dnsConfig"] == {"relativeName": PROFILE, "fqdn": FQDN, "ttl": 60}
    assert props["monitorConfig"]["profileMonitorStatus"] == "Online"
    endpoints = {e["name"]: e["properties"] for e in props["endpoints"]}
    # the source serves; the warm standby is disabled so Traffic Manager cannot move clients to it by itself
    assert endpoints[SOURCE] | {} == {
        "endpointStatus": "Enabled",
        "endpointMonitorStatus": "Online",
        "target": TARGETS["au-east"],
        "weight": 1,
        "priority": 1,
        "alwaysServe": "Disabled",
        "endpointLocation": "Australia East",
    }
    assert endpoints[TARGET]["endpointStatus"] == "Disabled"
    assert endpoints[TARGET]["endpointMonitorStatus"] == "Disabled"
    assert endpoints[TARGET]["priority"] == 2
    listed = [p.name for p in _client(sb).profiles.list_by_resource_group(GROUP)]
    assert listed == [PROFILE]


def test_the_name_answers_the_serving_endpoint_with_the_profiles_ttl(sb: Sandbox) -> None:
    assert answered(sb) == ([TARGETS["au-east"]], 60)
    response = ask(sb, rtype="A")  # a resolver's usual question gets the CNAME it then follows
    assert response.flags & dns.flags.AA
    assert [r.rdtype for r in response.answer] == [dns.rdatatype.CNAME]
    _client(sb).profiles.update(GROUP, PROFILE, {"properties": {"dnsConfig": {"ttl": 15}}})
    assert answered(sb) == ([TARGETS["au-east"]], 15)


def test_switching_endpoints_moves_the_name(sb: Sandbox) -> None:
    enabled = _enable(sb, TARGET)
    assert enabled.properties.endpoint_status == "Enabled"
    assert enabled.properties.endpoint_monitor_status == "Online"
    assert answered(sb)[0] == [TARGETS["au-east"]]  # priority 1 still wins while it is healthy
    _enable(sb, SOURCE, "Disabled")
    assert answered(sb)[0] == [TARGETS["au-southeast"]]
    assert [r["op"] for r in sb.world.request_log() if r["method"] == "PATCH"] == ["tm.endpoint.update"] * 2


def test_a_region_outage_degrades_its_endpoint_and_moves_the_name(sb: Sandbox) -> None:
    _enable(sb, TARGET)
    sb.set_region("au-east", up=False)
    endpoint = _client(sb).endpoints.get(GROUP, PROFILE, EXTERNAL, SOURCE)
    assert endpoint.properties.endpoint_monitor_status == "Degraded"
    assert answered(sb)[0] == [TARGETS["au-southeast"]]
    sb.set_region("au-east", up=True)
    assert answered(sb)[0] == [TARGETS["au-east"]]


def test_all_enabled_endpoints_degraded_answers_as_if_all_were_healthy(sb: Sandbox) -> None:
    _enable(sb, TARGET)
    sb.set_region("au-east", up=False)
    sb.set_region("au-southeast", up=False)
    assert _client(sb).profiles.get(GROUP, PROFILE).monitor_config.profile_monitor_status == "Degraded"
    assert answered(sb)[0] == [TARGETS["au-east"]]


def test_the_source_down_with_the_standby_disabled_keeps_answering_the_source(sb: Sandbox) -> None:
    """Traffic Manager does not move clients to a disabled endpoint: the seeded standby waits for drctl."""
    sb.set_region("au-east", up=False)
    assert answered(sb)[0] == [TARGETS["au-east"]]


def test_no_enabled_endpoint_or_an_unknown_name_is_nxdomain(sb: Sandbox) -> None:
    _enable(sb, SOURCE, "Disabled")
    assert ask(sb).rcode() == dns.rcode.NXDOMAIN
    assert _client(sb).profiles.get(GROUP, PROFILE).monitor_config.profile_monitor_status == "Inactive"
    assert ask(sb, "nobody.trafficmanager.net").rcode() == dns.rcode.NXDOMAIN


def test_an_ip_target_is_answered_with_an_a_record(sb: Sandbox) -> None:
    _enable(sb, SOURCE, target="20.53.10.10")
    assert answered(sb, "A") == (["20.53.10.10"], 60)


def test_priorities_stay_unique_and_values_are_checked(sb: Sandbox) -> None:
    with pytest.raises(HttpResponseError) as caught:
        _enable(sb, TARGET, priority=1)
    assert caught.value.status_code == 400
    with pytest.raises(HttpResponseError) as bad:
        _enable(sb, TARGET, "Off")
    assert bad.value.status_code == 400
    moved = _enable(sb, SOURCE, priority=3)
    assert moved.properties.priority == 3


def test_put_creates_an_endpoint_and_get_answers_404_for_a_wrong_type(sb: Sandbox) -> None:
    from azure.core.exceptions import ResourceNotFoundError

    body = {"properties": {"target": "api-dr.wallet.example.com", "endpointStatus": "Enabled", "priority": 5}}
    created = _client(sb).endpoints.create_or_update(GROUP, PROFILE, EXTERNAL, "ep-extra", body)
    assert created.properties.priority == 5
    with pytest.raises(ResourceNotFoundError):
        _client(sb).endpoints.get(GROUP, PROFILE, "AzureEndpoints", SOURCE)


def test_a_fault_on_endpoint_updates_leaves_reads_alone(sb: Sandbox) -> None:
    sb.add_faults(
        {"kind": "error", "op": "tm.endpoint.update", "status": 503, "code": "ServiceUnavailable", "times": None}
    )
    with pytest.raises(HttpResponseError):
        _enable(sb, TARGET)
    assert _client(sb).endpoints.get(GROUP, PROFILE, EXTERNAL, TARGET).properties.endpoint_status == "Disabled"


def test_failback_seeding_enables_the_home_regions_endpoint(tmp_path: Path) -> None:
    estate = estate_from_playbook(write_playbook(tmp_path / "playbook.yaml"), reverse=True)
    (profile,) = estate.traffic_manager.profiles
    states = {e.name: (e.status, e.priority) for e in profile.endpoints}
    assert states == {SOURCE: ("Disabled", 1), TARGET: ("Enabled", 2)}


@pytest.mark.skipif(shutil.which("dig") is None, reason="dig is not installed (apt-get install dnsutils)")
def test_dig_resolves_the_profile_name(sb: Sandbox) -> None:
    def dig(*args: str) -> str:
        done = subprocess.run(
            ["dig", "@127.0.0.1", "-p", str(sb.dns_port), "+norecurse", "+tries=1", "+time=2", *args],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return done.stdout

    assert dig(FQDN, "+short").split() == [f"{TARGETS['au-east']}."]
    _enable(sb, TARGET)
    _enable(sb, SOURCE, "Disabled")
    full = dig(FQDN)
    assert "status: NOERROR" in full
    assert "flags: qr aa" in full  # authoritative, as Traffic Manager's name servers are
    answers = [line.split() for line in full.splitlines() if line.startswith(f"{FQDN}.")]
    assert answers == [[f"{FQDN}.", "60", "IN", "CNAME", f"{TARGETS['au-southeast']}."]]
