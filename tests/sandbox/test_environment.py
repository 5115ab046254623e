"""With the printed environment alone, Azure SDK clients (and drctl's own wiring) talk to the sandbox."""

from __future__ import annotations

import pytest

from drctl.sandbox import Sandbox


def test_the_environment_alone_is_enough_for_the_sdk(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.identity import ClientSecretCredential
    from azure.mgmt.sql import SqlManagementClient

    env = sandbox.env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # no connection_verify anywhere: requests trusts REQUESTS_CA_BUNDLE, the bundle that holds the sandbox CA
    credential = ClientSecretCredential(
        env["AZURE_TENANT_ID"],
        env["AZURE_CLIENT_ID"],
        env["AZURE_CLIENT_SECRET"],
        authority=env["AZURE_AUTHORITY_HOST"],
        disable_instance_discovery=True,
    )
    sql = SqlManagementClient(
        credential,
        env["AZURE_SUBSCRIPTION_ID"],
        base_url=env["DRCTL_ARM_ENDPOINT"],
        credential_scopes=[f"{env['DRCTL_ARM_ENDPOINT']}/.default"],
    )
    group = sql.failover_groups.get("rg-wallet-aue", "sql-wallet-aue", "fg-wallet")
    assert group.properties.replication_role == "Primary"


def test_drctls_azure_wiring_runs_against_the_sandbox(sandbox: Sandbox) -> None:
    from azure.mgmt.dns import DnsManagementClient
    from azure.mgmt.web import WebSiteManagementClient

    from drctl.azure.clients import AzureClients, make_credential, principal_of
    from drctl.azure.config import load_config

    config = load_config(playbook_subscription="${AZURE_SUBSCRIPTION_ID}", environ=sandbox.env())
    assert not config.instance_discovery
    credential = make_credential(config)
    token = credential.get_token(config.credential_scope).token
    assert principal_of(token) == sandbox.identity.client_id  # the token's appid claim
    # the clients exactly as drctl configures them (built here: AzureClients._once is not re-entrant yet)
    options = AzureClients(config)._client_kwargs()
    site = WebSiteManagementClient(credential, config.subscription_id, **options).web_apps.get(
        "rg-wallet-aue", "app-wallet-api-aue"
    )
    assert site.properties.state == "Running"
    dns = DnsManagementClient(credential, config.subscription_id, **options)
    assert dns.record_sets.get("rg-wallet-dns", "wallet.example.com", "api", "A").ttl == 3600


def test_drctls_network_helpers_reach_the_estates_real_names(fresh_sandbox: Sandbox) -> None:
    from drctl.net import dnsquery, smtp
    from drctl.net.config import NetworkConfig
    from drctl.net.http import Client

    env = fresh_sandbox.env()
    network = NetworkConfig.from_environ(env)
    client = Client(network=network)
    try:
        health = client.request("GET", "https://api-aue.wallet.example.com/healthz")
        assert health.status == 200
        replication = client.request("GET", "https://api-ause.wallet.example.com/replication")
        assert '"role":"Secondary"' in replication.body
        hook = client.post_json(env["SLACK_OPS_WEBHOOK"], {"text": "drill started"})
        assert hook.status == 200
    finally:
        client.close()
    smtp.send(
        host="smtp.wallet.example.com",
        port=587,
        starttls=True,
        username=env["SMTP_USER"],
        password=env["SMTP_PASSWORD"],
        sender="dr@wallet.example.com",
        to=["ops@wallet.example.com"],
        subject="drill",
        body="drill started",
        network=network,
    )
    (server,) = dnsquery.override(network) or []
    answer = dnsquery.query("api.wallet.example.com", "A", server)
    assert (answer.values, answer.ttl) == (("20.1.1.1",), 3600)
    admin = fresh_sandbox.client()
    assert [m["subject"] for m in admin.emails()] == ["drill"]
    assert [w["channel"] for w in admin.webhooks()] == ["ops-slack"]
