"""The notification sinks, the admin API and its client, and a clean teardown."""

from __future__ import annotations

import smtplib
import socket
import threading
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from drctl.errors import SandboxError
from drctl.sandbox import Sandbox, SandboxClient
from drctl.sandbox.testing import resolve, running_sandbox


def _message(to: str = "exec@wallet.example.com") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "dr@wallet.example.com"
    message["To"] = to
    message["Subject"] = "[P1] wallet failover started"
    message.set_content("Failover to au-southeast started at 02:10 AEST.")
    return message


def _smtp(sb: Sandbox) -> smtplib.SMTP:
    host, port = resolve(sb, "smtp.wallet.example.com", 587)
    smtp = smtplib.SMTP(host, port, timeout=5)
    # the client believes it talks to the real relay: STARTTLS verifies the certificate for that name
    smtp._host = "smtp.wallet.example.com"  # type: ignore[attr-defined]
    return smtp


def test_the_webhook_sink_records_posts_without_secrets(fresh_sandbox: Sandbox) -> None:
    env = fresh_sandbox.env()
    response = httpx.post(
        env["SLACK_OPS_WEBHOOK"],
        json={"text": "failover started"},
        headers={"Authorization": "Bearer hush", "X-Run": "run-1"},
        verify=fresh_sandbox.ssl_context(),
    )
    assert (response.status_code, response.text) == (200, "ok")
    (hook,) = fresh_sandbox.client().webhooks()
    assert (hook["channel"], hook["method"], hook["body"]) == ("ops-slack", "POST", {"text": "failover started"})
    assert hook["headers"]["x-run"] == "run-1"
    assert "authorization" not in hook["headers"]
    assert fresh_sandbox.client().clear_webhooks() == 1


def test_a_webhook_fault_fails_the_next_post(fresh_sandbox: Sandbox) -> None:
    fresh_sandbox.add_faults({"kind": "error", "op": "sink.webhook", "status": 502})
    url = fresh_sandbox.env()["TEAMS_EXEC_WEBHOOK"]
    assert httpx.post(url, json={}, verify=fresh_sandbox.ssl_context()).status_code == 502
    assert httpx.post(url, json={}, verify=fresh_sandbox.ssl_context()).status_code == 200


def test_smtp_with_starttls_and_auth_is_captured(fresh_sandbox: Sandbox) -> None:
    env = fresh_sandbox.env()
    with _smtp(fresh_sandbox) as smtp:
        smtp.ehlo("drctl")
        assert smtp.has_extn("starttls")
        smtp.starttls(context=fresh_sandbox.ssl_context())
        smtp.ehlo("drctl")
        smtp.login(env["SMTP_USER"], env["SMTP_PASSWORD"])
        smtp.send_message(_message())
    (mail,) = fresh_sandbox.client().emails()
    assert (mail["mail_from"], mail["rcpt_tos"], mail["subject"]) == (
        "dr@wallet.example.com",
        ["exec@wallet.example.com"],
        "[P1] wallet failover started",
    )
    assert "02:10 AEST" in mail["body"]
    assert mail["tls"] is True
    assert mail["auth_user"] == env["SMTP_USER"]


def test_smtp_refuses_a_wrong_password_and_mail_without_auth(fresh_sandbox: Sandbox) -> None:
    with _smtp(fresh_sandbox) as smtp:
        smtp.starttls(context=fresh_sandbox.ssl_context())
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.login(fresh_sandbox.smtp_username, "wrong")
        with pytest.raises(smtplib.SMTPSenderRefused):
            smtp.send_message(_message())
    with _smtp(fresh_sandbox) as smtp, pytest.raises(smtplib.SMTPNotSupportedError):
        smtp.login(fresh_sandbox.smtp_username, fresh_sandbox.smtp_password)  # AUTH needs STARTTLS first
    assert fresh_sandbox.client().emails() == []


def test_the_admin_api_wants_its_token(sandbox: Sandbox) -> None:
    response = httpx.get(
        f"{sandbox.admin_url}/state", headers={"Authorization": "Bearer wrong"}, verify=sandbox.ssl_context()
    )
    assert (response.status_code, response.json()["error"]["code"]) == (401, "InvalidAdminToken")
    with pytest.raises(SandboxError, match="401"):
        SandboxClient(sandbox.admin_url, "wrong", verify=str(sandbox.tls.ca)).state()
    assert SandboxClient(sandbox.admin_url, "wrong", verify=str(sandbox.tls.ca)).ping()


def test_the_request_log_proves_what_was_sent(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    client = fresh_sandbox.client()
    clients = sdk(fresh_sandbox)
    clients.sql.failover_groups.get("rg-wallet-aue", "sql-wallet-aue", "fg-wallet")
    clients.web.web_apps.get("rg-wallet-aue", "app-wallet-api-aue")
    assert client.requests(service="arm", method="PUT,PATCH,POST,DELETE") == []
    reads = client.requests(service="arm")
    assert [r["method"] for r in reads] == ["GET", "GET"]
    assert all(r["request_id"] and r["correlation_request_id"] and r["time"] for r in reads)
    assert [r["method"] for r in client.requests(service="token")][:2] == ["GET", "POST"]  # discovery, token
    clients.web.web_apps.start("rg-wallet-ause", "app-wallet-api-ause")
    (post,) = client.requests(service="arm", method="POST")
    assert post["path"].endswith("/sites/app-wallet-api-ause/start")
    assert post["status"] == 200
    assert client.clear_requests() >= 3
    assert client.requests(service="arm") == []


def test_state_env_endpoints_and_reset(fresh_sandbox: Sandbox) -> None:
    client = fresh_sandbox.client()
    assert client.env()["AZURE_SUBSCRIPTION_ID"] == fresh_sandbox.subscription_id
    assert client.endpoints()["dns"] == f"127.0.0.1:{fresh_sandbox.dns_port}"
    client.set_primary("fg-wallet", "sql-wallet-ause")
    client.set_region("au-east", up=False)
    assert client.state()["failover_groups"]["fg-wallet"]["primary"] == "sql-wallet-ause"
    client.reset()
    state = client.state()
    assert state["failover_groups"]["fg-wallet"]["primary"] == "sql-wallet-aue"
    assert state["regions"]["au-east"]["status"] == "up"


def test_bad_admin_input_is_a_clear_400_or_404(fresh_sandbox: Sandbox) -> None:
    client = fresh_sandbox.client()
    with pytest.raises(SandboxError, match="unknown region 'mars'"):
        client.set_region("mars", up=False)
    with pytest.raises(SandboxError, match="not IPv4"):
        client.set_dns_record("wallet.example.com", "A", "api", ["not-an-ip"])
    with pytest.raises(SandboxError, match="no admin route"):
        client._call("GET", "/nothing")


def test_stop_closes_every_port_and_joins_the_thread(tmp_path: Path) -> None:
    with running_sandbox(workdir=tmp_path) as sb:
        ports = [sb.main_port, sb.smtp_port, *sb.app_ports.values()]
        (thread,) = [t for t in threading.enumerate() if t is sb._thread]
    assert not sb.running
    assert not thread.is_alive()
    for port in ports:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    sb.stop()  # idempotent


def test_a_port_base_gives_predictable_ports(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        base = probe.getsockname()[1]
    if base > 60000:
        pytest.skip("the free port found is too close to the top of the range")
    try:
        sb = Sandbox.start(workdir=tmp_path, port_base=base)
    except SandboxError as exc:  # another process took one of the ports meanwhile
        pytest.skip(str(exc))
    with sb:
        assert (sb.main_port, sb.dns_port, sb.smtp_port) == (base, base + 1, base + 2)
        assert sb.app_ports == {"au-east": base + 3, "au-southeast": base + 4}
