"""Entra ID as azure-identity sees it, and ARM's answers without a valid bearer token."""

from __future__ import annotations

import httpx
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential

from drctl.sandbox import Sandbox


def _post_token(sb: Sandbox, tenant: str, **form: str) -> httpx.Response:
    return httpx.post(f"{sb.authority}/{tenant}/oauth2/v2.0/token", data=form, verify=sb.ssl_context())


def test_client_secret_credential_gets_a_token_unchanged(sandbox: Sandbox) -> None:
    credential = ClientSecretCredential(
        sandbox.identity.tenant_id,
        sandbox.identity.client_id,
        sandbox.identity.client_secret,
        authority=sandbox.authority,
        disable_instance_discovery=True,
        connection_verify=sandbox.ca_bundle,
    )
    token = credential.get_token(f"{sandbox.arm_endpoint}/.default")
    assert token.token.count(".") == 2
    assert token.expires_on > 0


def test_the_discovery_document_has_what_msal_needs(sandbox: Sandbox) -> None:
    tenant = sandbox.identity.tenant_id
    doc = httpx.get(
        f"{sandbox.authority}/{tenant}/v2.0/.well-known/openid-configuration", verify=sandbox.ssl_context()
    ).json()
    assert doc["token_endpoint"] == f"{sandbox.authority}/{tenant}/oauth2/v2.0/token"
    assert doc["authorization_endpoint"].endswith(f"/{tenant}/oauth2/v2.0/authorize")
    assert doc["issuer"] == f"{sandbox.authority}/{tenant}/v2.0"


def test_a_wrong_secret_is_a_401_aadsts_error(sandbox: Sandbox) -> None:
    ident = sandbox.identity
    response = _post_token(
        sandbox,
        ident.tenant_id,
        grant_type="client_credentials",
        client_id=ident.client_id,
        client_secret="wrong",
        scope="https://management.azure.com/.default",
    )
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client"
    assert body["error_description"].startswith("AADSTS7000215:")
    assert body["error_codes"] == [7000215]
    assert {"timestamp", "trace_id", "correlation_id"} <= body.keys()


def test_an_unknown_client_is_an_aadsts_error_as_entra_answers_it(sandbox: Sandbox) -> None:
    response = _post_token(
        sandbox,
        sandbox.identity.tenant_id,
        grant_type="client_credentials",
        client_id="00000000-0000-0000-0000-000000000000",
        client_secret="x",
        scope="a/.default",
    )
    assert response.status_code == 400
    assert response.json()["error_codes"] == [700016]


def test_azure_identity_raises_on_a_bad_secret(sandbox: Sandbox) -> None:
    credential = ClientSecretCredential(
        sandbox.identity.tenant_id,
        sandbox.identity.client_id,
        "not-the-secret",
        authority=sandbox.authority,
        disable_instance_discovery=True,
        connection_verify=sandbox.ca_bundle,
    )
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        credential.get_token("https://management.azure.com/.default")


def test_an_unknown_tenant_is_refused(sandbox: Sandbox) -> None:
    response = httpx.get(
        f"{sandbox.authority}/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration",
        verify=sandbox.ssl_context(),
    )
    assert response.status_code == 400
    assert "AADSTS90002" in response.json()["error_description"]


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "AuthenticationFailed"),
        ("Bearer forged.token.value", "InvalidAuthenticationToken"),
        ("Basic abc", "InvalidAuthenticationToken"),
    ],
)
def test_arm_without_a_valid_bearer_token_is_401_cloud_error(
    sandbox: Sandbox, authorization: str | None, code: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.get(
        f"{sandbox.arm_endpoint}/subscriptions/{sandbox.subscription_id}/resourcegroups",
        params={"api-version": "2025-04-01"},
        headers=headers,
        verify=sandbox.ssl_context(),
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert response.headers["www-authenticate"].startswith("Bearer ")
    assert response.headers["x-ms-request-id"]
