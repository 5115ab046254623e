"""Per-region app endpoints: their answers follow the emulated state; region down is connection refused."""

from __future__ import annotations

import datetime as dt
import ssl
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from drctl.sandbox import Sandbox
from drctl.sandbox.testing import resolve


def _get(sb: Sandbox, host: str, path: str) -> httpx.Response:
    """GET https://<real host><path>, reaching the sandbox through the DRCTL_RESOLVE mapping with SNI intact."""
    address, port = resolve(sb, host)
    transport = httpx.HTTPTransport(verify=sb.ssl_context())
    with httpx.Client(transport=transport) as client:
        # connect to 127.0.0.1:P but present the real name: the certificate must verify for it
        request = client.build_request(
            "GET", f"https://{address}:{port}{path}", headers={"Host": host}, extensions={"sni_hostname": host}
        )
        return client.send(request)


def _ts(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()


def test_the_primary_region_is_healthy_and_the_standby_is_not(sandbox: Sandbox) -> None:
    healthy = _get(sandbox, "api-aue.wallet.example.com", "/healthz")
    assert healthy.status_code == 200
    body = healthy.json()
    assert (body["status"], body["region"], body["role"], body["server"]) == (
        "healthy",
        "au-east",
        "Primary",
        "sql-wallet-aue",
    )
    assert abs(_ts(body["last_committed_write"]) - time.time()) < 2
    standby = _get(sandbox, "api-ause.wallet.example.com", "/healthz")
    assert standby.status_code == 503
    assert standby.json()["checks"]["web_apps"]["status"] == "stopped"
    assert standby.json()["role"] == "Secondary"


def test_the_replication_path_answers_even_with_web_apps_stopped(sandbox: Sandbox) -> None:
    primary = _get(sandbox, "api-aue.wallet.example.com", "/replication").json()
    secondary = _get(sandbox, "api-ause.wallet.example.com", "/replication").json()
    assert (primary["role"], secondary["role"]) == ("Primary", "Secondary")
    assert (primary["region"], primary["server"]) == ("au-east", "sql-wallet-aue")
    lag = _ts(primary["last_committed_write"]) - _ts(secondary["last_committed_write"])
    # the demo estate's 5 s lag, less the time between the two requests
    assert lag == pytest.approx(5, abs=1.0)


def test_an_unknown_path_is_404(sandbox: Sandbox) -> None:
    assert _get(sandbox, "api-aue.wallet.example.com", "/admin").status_code == 404


def test_a_region_outage_refuses_connections_and_freezes_its_writes(fresh_sandbox: Sandbox) -> None:
    before = time.time()
    fresh_sandbox.set_region("au-east", up=False)
    with pytest.raises(httpx.ConnectError):
        _get(fresh_sandbox, "api-aue.wallet.example.com", "/healthz")
    with pytest.raises(httpx.ConnectError):
        _get(fresh_sandbox, "api-aue.wallet.example.com", "/replication")
    # the standby's database still answers, its last write frozen at the outage minus the lag
    secondary = _get(fresh_sandbox, "api-ause.wallet.example.com", "/replication").json()
    assert _ts(secondary["last_committed_write"]) == pytest.approx(before - 5, abs=1)
    time.sleep(0.3)
    again = _get(fresh_sandbox, "api-ause.wallet.example.com", "/replication").json()
    assert again["last_committed_write"] == secondary["last_committed_write"]
    fresh_sandbox.set_region("au-east", up=True)
    assert _get(fresh_sandbox, "api-aue.wallet.example.com", "/healthz").status_code == 200


def test_scale_sets_at_zero_make_the_region_unhealthy(fresh_sandbox: Sandbox) -> None:
    fresh_sandbox.client().set_capacity("vmss-wallet-workers-aue", 0)
    answer = _get(fresh_sandbox, "api-aue.wallet.example.com", "/healthz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["scale_sets"]["status"] == "no_instances"


def test_the_standby_is_healthy_after_failover_and_start(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    fresh_sandbox.set_region("au-east", up=False)
    clients = sdk(fresh_sandbox)
    clients.sql.failover_groups.begin_force_failover_allow_data_loss(
        "rg-wallet-ause", "sql-wallet-ause", "fg-wallet"
    ).result()
    for name in ("app-wallet-api-ause", "app-wallet-portal-ause"):
        clients.web.web_apps.start("rg-wallet-ause", name)
    answer = _get(fresh_sandbox, "api-ause.wallet.example.com", "/healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["role"], body["checks"]["database"]["primary_region"]) == ("Primary", "au-southeast")
    assert abs(_ts(body["last_committed_write"]) - time.time()) < 2


def test_the_app_of_a_region_whose_database_primary_is_down_is_unhealthy(fresh_sandbox: Sandbox) -> None:
    fresh_sandbox.client().set_web_app_state("app-wallet-api-ause", "Running")
    fresh_sandbox.client().set_web_app_state("app-wallet-portal-ause", "Running")
    assert _get(fresh_sandbox, "api-ause.wallet.example.com", "/healthz").status_code == 200
    fresh_sandbox.set_region("au-east", up=False)
    answer = _get(fresh_sandbox, "api-ause.wallet.example.com", "/healthz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["database"]["status"] == "unreachable"


def test_the_certificate_names_every_estate_host(sandbox: Sandbox) -> None:
    context = sandbox.ssl_context()
    address, port = resolve(sandbox, "api-ause.wallet.example.com")
    import socket

    with (
        socket.create_connection((address, port)) as raw,
        context.wrap_socket(raw, server_hostname="api-ause.wallet.example.com") as tls,
    ):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
    with socket.create_connection((address, port)) as raw, pytest.raises(ssl.SSLCertVerificationError):
        context.wrap_socket(raw, server_hostname="evil.example.com")
