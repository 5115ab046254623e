"""Microsoft.Sql as drctl uses it: roles, replication links, and failover-group failovers as LROs."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from azure.core.exceptions import HttpResponseError

from drctl.sandbox import Sandbox

AUE, AUS = ("rg-wallet-aue", "sql-wallet-aue"), ("rg-wallet-ause", "sql-wallet-ause")


def _role(sql: Any, where: tuple[str, str]) -> str:
    return str(sql.failover_groups.get(*where, "fg-wallet").properties.replication_role.value)


def test_servers_and_databases(sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    sql = sdk(sandbox).sql
    server = sql.servers.get(*AUE)
    assert (server.location, server.properties.fully_qualified_domain_name) == (
        "australiaeast",
        "sql-wallet-aue.database.windows.net",
    )
    assert [s.name for s in sql.servers.list_by_resource_group("rg-wallet-ause")] == ["sql-wallet-ause"]
    names = [d.name for d in sql.databases.list_by_server(*AUE)]
    assert names == ["master", "walletdb", "ledgerdb", "identitydb"]
    database = sql.databases.get(*AUS, "walletdb")
    assert database.properties.status == "Online"
    assert database.properties.secondary_type == "Geo"
    assert database.properties.failover_group_id.endswith("/failoverGroups/fg-wallet")


def test_replication_links_show_both_partners(sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    sql = sdk(sandbox).sql
    (link,) = sql.replication_links.list_by_database(*AUE, "ledgerdb")
    props = link.properties
    assert (props.role, props.partner_role, props.partner_server, props.partner_location) == (
        "Primary",
        "Secondary",
        "sql-wallet-ause",
        "australiasoutheast",
    )
    assert (props.replication_state, props.replication_mode, props.link_type) == ("CATCH_UP", "ASYNC", "GEO")
    other = sql.replication_links.get(*AUS, "ledgerdb", link.name)
    assert other.name == link.name
    assert (other.properties.role, other.properties.partner_server) == ("Secondary", "sql-wallet-aue")


def test_the_failover_group_as_seen_from_each_server(sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    sql = sdk(sandbox).sql
    group = sql.failover_groups.get(*AUS, "fg-wallet")
    assert group.properties.replication_role == "Secondary"
    (partner,) = group.properties.partner_servers
    assert partner.replication_role == "Primary"
    assert partner.id.endswith("/servers/sql-wallet-aue")
    assert partner.location == "Australia East"
    assert [d.rsplit("/", 1)[1] for d in group.properties.databases] == ["walletdb", "ledgerdb", "identitydb"]
    assert group.properties.replication_state == "CATCH_UP"
    assert group.properties.read_write_endpoint.failover_policy == "Manual"
    assert [g.name for g in sql.failover_groups.list_by_server(*AUE)] == ["fg-wallet"]


def test_planned_failover_swaps_every_role(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    sql = sdk(fresh_sandbox).sql
    result = sql.failover_groups.begin_failover(*AUS, "fg-wallet").result()
    assert result.properties.replication_role == "Primary"
    assert result.id.endswith("/servers/sql-wallet-ause/failoverGroups/fg-wallet")
    assert (_role(sql, AUE), _role(sql, AUS)) == ("Secondary", "Primary")
    (link,) = sql.replication_links.list_by_database(*AUS, "walletdb")
    assert (link.properties.role, link.properties.partner_role) == ("Primary", "Secondary")
    assert sql.databases.get(*AUE, "walletdb").properties.secondary_type == "Geo"
    assert fresh_sandbox.client().data_loss() == []


def test_failing_over_to_the_current_primary_is_a_no_op_success(
    fresh_sandbox: Sandbox, sdk: Callable[..., Any]
) -> None:
    sql = sdk(fresh_sandbox).sql
    assert sql.failover_groups.begin_failover(*AUE, "fg-wallet").result().properties.replication_role == "Primary"
    assert _role(sql, AUS) == "Secondary"


def test_the_lro_answers_202_then_in_progress_then_succeeded(fresh_sandbox: Sandbox) -> None:
    fresh_sandbox.add_faults({"kind": "latency", "op": "sql.failover", "seconds": 1.5})
    token = fresh_sandbox.credential().get_token(f"{fresh_sandbox.arm_endpoint}/.default").token
    headers = {"Authorization": f"Bearer {token}"}
    verify = fresh_sandbox.ssl_context()
    url = (
        f"{fresh_sandbox.arm_endpoint}/subscriptions/{fresh_sandbox.subscription_id}/resourceGroups/"
        "rg-wallet-ause/providers/Microsoft.Sql/servers/sql-wallet-ause/failoverGroups/fg-wallet/failover"
    )
    accepted = httpx.post(url, params={"api-version": "2025-01-01"}, headers=headers, verify=verify)
    assert accepted.status_code == 202
    assert accepted.headers["retry-after"] == "1"
    status_url, location = accepted.headers["azure-asyncoperation"], accepted.headers["location"]
    assert "/providers/Microsoft.Sql/locations/australiasoutheast/" in status_url
    first = httpx.get(status_url, headers=headers, verify=verify).json()
    assert first["status"] == "InProgress"
    assert httpx.get(location, headers=headers, verify=verify).status_code == 202
    time.sleep(1.6)
    done = httpx.get(status_url, headers=headers, verify=verify).json()
    assert done["status"] == "Succeeded"
    assert "endTime" in done
    final = httpx.get(location, headers=headers, verify=verify)
    assert final.status_code == 200
    assert final.json()["properties"]["replicationRole"] == "Primary"


def test_an_lro_that_fails_once_then_succeeds(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    fresh_sandbox.add_faults({"kind": "lro_failure", "op": "sql.failover", "code": "FailoverTimedOut"})
    sql = sdk(fresh_sandbox).sql
    with pytest.raises(HttpResponseError) as err:
        sql.failover_groups.begin_failover(*AUS, "fg-wallet").result()
    assert "FailoverTimedOut" in str(err.value)
    assert _role(sql, AUS) == "Secondary"
    assert sql.failover_groups.begin_failover(*AUS, "fg-wallet").result().properties.replication_role == "Primary"


def test_planned_failover_fails_while_the_primary_region_is_down(
    fresh_sandbox: Sandbox, sdk: Callable[..., Any]
) -> None:
    fresh_sandbox.set_region("au-east", up=False)
    sql = sdk(fresh_sandbox).sql
    assert sql.failover_groups.get(*AUS, "fg-wallet").properties.replication_state == "SUSPENDED"
    with pytest.raises(HttpResponseError) as err:
        sql.failover_groups.begin_failover(*AUS, "fg-wallet").result()
    assert "FailoverGroupPrimaryUnavailable" in str(err.value)
    assert _role(sql, AUS) == "Secondary"


def test_forced_failover_succeeds_and_records_the_data_lost(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    fresh_sandbox.client().set_replication_lag(30, "fg-wallet")
    fresh_sandbox.set_region("au-east", up=False)
    sql = sdk(fresh_sandbox).sql
    result = sql.failover_groups.begin_force_failover_allow_data_loss(*AUS, "fg-wallet").result()
    assert result.properties.replication_role == "Primary"
    (loss,) = fresh_sandbox.client().data_loss()
    assert (loss["failover_group"], loss["from_server"], loss["to_server"], loss["mode"]) == (
        "fg-wallet",
        "sql-wallet-aue",
        "sql-wallet-ause",
        "forced",
    )
    assert loss["lost_seconds"] == pytest.approx(30, abs=0.01)
    written = dt.datetime.fromisoformat(loss["last_committed_write"])
    replicated = dt.datetime.fromisoformat(loss["last_replicated_write"])
    assert (written - replicated).total_seconds() == pytest.approx(30, abs=0.01)


def test_try_planned_falls_back_to_forced_when_the_primary_is_down(
    fresh_sandbox: Sandbox, sdk: Callable[..., Any]
) -> None:
    sql = sdk(fresh_sandbox).sql
    # both regions up: planned, no data loss
    sql.failover_groups.begin_try_planned_before_forced_failover(*AUS, "fg-wallet").result()
    assert fresh_sandbox.client().data_loss() == []
    # fail back by force while the new primary's region is down: loses the lag (5 s in the demo estate)
    fresh_sandbox.set_region("au-southeast", up=False)
    sql.failover_groups.begin_try_planned_before_forced_failover(*AUE, "fg-wallet").result()
    (loss,) = fresh_sandbox.client().data_loss()
    assert loss["mode"] == "planned-then-forced"
    assert loss["lost_seconds"] == pytest.approx(5, abs=0.01)
