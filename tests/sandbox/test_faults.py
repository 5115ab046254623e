"""Every fault kind, as the real SDK meets it (its own retries included)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError

from drctl.errors import SandboxError
from drctl.sandbox import Sandbox
from drctl.sandbox.testing import running_sandbox


def test_latency_applies_to_its_operation_and_a_default_to_the_rest(
    fresh_sandbox: Sandbox, sdk: Callable[..., Any]
) -> None:
    fresh_sandbox.add_faults(
        [{"kind": "latency", "seconds": 0.8}, {"kind": "latency", "op": "arm.read", "seconds": 0.05}]
    )
    web = sdk(fresh_sandbox).web
    web.web_apps.get("rg-wallet-aue", "app-wallet-api-aue")  # token and connection outside the timing
    started = time.monotonic()
    web.web_apps.get("rg-wallet-aue", "app-wallet-api-aue")
    assert 0.05 <= time.monotonic() - started < 0.7  # its own 0.05 s, not the 0.8 s default
    started = time.monotonic()
    web.web_apps.stop("rg-wallet-aue", "app-wallet-api-aue")  # web.stop has no rule of its own: the default
    assert time.monotonic() - started >= 0.8


def test_an_error_n_times_then_success_is_absorbed_by_the_sdk_retry(
    fresh_sandbox: Sandbox, sdk: Callable[..., Any]
) -> None:
    fresh_sandbox.add_faults(
        {"kind": "error", "op": "web.start", "times": 2, "status": 503, "code": "ServiceUnavailable", "retry_after": 1}
    )
    web = sdk(fresh_sandbox).web
    started = time.monotonic()
    web.web_apps.start("rg-wallet-ause", "app-wallet-api-ause")
    assert time.monotonic() - started >= 2  # two Retry-After: 1 waits
    starts = fresh_sandbox.client().requests(service="arm", op="web.start")
    assert [r["status"] for r in starts] == [503, 503, 200]
    assert fresh_sandbox.client().faults() == []  # used up


def test_an_error_without_retry_reaches_the_caller_with_its_code(
    fresh_sandbox: Sandbox, sdk: Callable[..., Any]
) -> None:
    fresh_sandbox.add_faults({"kind": "error", "op": "dns.write", "status": 409, "code": "Conflict", "message": "busy"})
    from azure.mgmt.dns.models import ARecord, RecordSet

    with pytest.raises(HttpResponseError) as err:
        sdk(fresh_sandbox).dns.record_sets.create_or_update(
            "rg-wallet-dns",
            "wallet.example.com",
            "api",
            "A",
            RecordSet(ttl=60, a_records=[ARecord(ipv4_address="1.2.3.4")]),
        )
    assert (err.value.status_code, err.value.error.code) == (409, "Conflict")


def test_throttling_is_429_with_retry_after_and_the_sdk_waits(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    fresh_sandbox.add_faults({"kind": "throttle", "op": "arm.read", "times": 1, "retry_after": 1})
    sql = sdk(fresh_sandbox).sql
    started = time.monotonic()
    assert sql.servers.get("rg-wallet-aue", "sql-wallet-aue").name == "sql-wallet-aue"
    assert time.monotonic() - started >= 1
    reads = fresh_sandbox.client().requests(service="arm", op="arm.read")
    assert [r["status"] for r in reads][-2:] == [429, 200]


def test_a_5xx_until_cleared_then_normal_again(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    fresh_sandbox.add_faults({"kind": "error", "op": "arm.read", "times": None, "status": 500})
    sql = sdk(fresh_sandbox, retry_total=0).sql
    with pytest.raises(HttpResponseError) as err:
        sql.servers.get("rg-wallet-aue", "sql-wallet-aue")
    assert err.value.status_code == 500
    assert fresh_sandbox.clear_faults() == 1
    assert sql.servers.get("rg-wallet-aue", "sql-wallet-aue").name == "sql-wallet-aue"


def test_the_token_endpoint_down_drops_connections(fresh_sandbox: Sandbox) -> None:
    fresh_sandbox.add_faults({"kind": "token_endpoint_down"})
    credential = fresh_sandbox.credential(retry_total=0)
    with pytest.raises((ClientAuthenticationError, ServiceRequestError)):
        credential.get_token(f"{fresh_sandbox.arm_endpoint}/.default")
    fresh_sandbox.clear_faults()
    assert credential.get_token(f"{fresh_sandbox.arm_endpoint}/.default").token


def test_a_token_error_fault_is_an_aad_style_error(fresh_sandbox: Sandbox) -> None:
    fresh_sandbox.add_faults({"kind": "error", "op": "token", "status": 400, "code": "temporarily_unavailable"})
    with pytest.raises(ClientAuthenticationError, match="AADSTS90033"):
        fresh_sandbox.credential(retry_total=0).get_token(f"{fresh_sandbox.arm_endpoint}/.default")


def test_replication_lag_moves_the_secondary_and_the_storage_sync_time(fresh_sandbox: Sandbox) -> None:
    client = fresh_sandbox.client()
    client.add_faults({"kind": "replication_lag", "seconds": 600})
    state = client.state()
    commits = state["failover_groups"]["fg-wallet"]["last_committed_write"]
    from datetime import datetime

    gap = datetime.fromisoformat(commits["sql-wallet-aue"]) - datetime.fromisoformat(commits["sql-wallet-ause"])
    assert gap.total_seconds() == pytest.approx(600, abs=0.01)
    assert state["storage_accounts"]["stwalletaue"]["replication_lag_seconds"] == 600
    with pytest.raises(SandboxError, match="unknown replication target"):
        client.set_replication_lag(5, "fg-nope")


def test_a_region_outage_fault_is_the_same_as_setting_the_region_down(fresh_sandbox: Sandbox) -> None:
    fresh_sandbox.client().add_faults(
        {"kind": "region_outage", "region": "au-southeast", "control_plane": "unavailable"}
    )
    state = fresh_sandbox.snapshot()
    assert state["regions"]["au-southeast"]["status"] == "down"
    assert state["regions"]["au-southeast"]["control_plane"] == "unavailable"


def test_faults_given_at_start_apply_from_the_first_request(tmp_path: Any, sdk: Callable[..., Any]) -> None:
    faults = tmp_path / "faults.yaml"
    faults.write_text(
        "faults:\n  - {kind: region_outage, region: au-east}\n  - {kind: dns_propagation_delay, seconds: 30}\n"
    )
    with running_sandbox(faults=faults, workdir=tmp_path / "sb") as sb:
        state = sb.snapshot()
        assert state["regions"]["au-east"]["status"] == "down"
        assert state["dns"]["wallet.example.com"]["propagation_delay_seconds"] == 30


def test_an_unknown_fault_kind_is_a_clear_error_everywhere(fresh_sandbox: Sandbox, tmp_path: Any) -> None:
    with pytest.raises(SandboxError, match="unknown fault kind 'meteor'"):
        fresh_sandbox.client().add_faults({"kind": "meteor"})
    with pytest.raises(SandboxError, match="unknown fault kind 'meteor'"):
        fresh_sandbox.add_faults({"kind": "meteor"})
    faults = tmp_path / "faults.yaml"
    faults.write_text("- {kind: latency, op: nope, seconds: 1}\n")
    with pytest.raises(SandboxError, match=r"faults\.yaml: invalid fault: \[0\]\.op: unknown value 'nope'"):
        running_sandbox(faults=faults).__enter__()
