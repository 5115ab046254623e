"""Where drctl finds Azure, and what each failure means: pure decisions, tested without a network."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError

from drctl.azure.clients import principal_of
from drctl.azure.config import PUBLIC_SCOPE, load_config
from drctl.azure.errors import Kind, classify
from drctl.errors import AzureError, UsageError


def test_the_subscription_comes_from_the_playbook_or_its_environment_reference() -> None:
    assert load_config(playbook_subscription="sub-1", environ={}).subscription_id == "sub-1"
    env = {"AZURE_SUBSCRIPTION_ID": "sub-2"}
    assert load_config(playbook_subscription="${AZURE_SUBSCRIPTION_ID}", environ=env).subscription_id == "sub-2"
    with pytest.raises(UsageError, match=r"\$\{AZURE_SUBSCRIPTION_ID\}, which is not set"):
        load_config(playbook_subscription="${AZURE_SUBSCRIPTION_ID}", environ={})


def test_public_cloud_defaults_and_overrides_for_sovereign_clouds_and_the_sandbox(tmp_path: Path) -> None:
    public = load_config(playbook_subscription="s", environ={})
    assert public.arm_endpoint == "https://management.azure.com"
    assert public.credential_scope == PUBLIC_SCOPE
    assert public.instance_discovery
    assert public.poll_interval == 1.0  # not the SDK's 30 s
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    local = load_config(
        playbook_subscription="s",
        environ={
            "DRCTL_ARM_ENDPOINT": "https://127.0.0.1:8443/",
            "AZURE_AUTHORITY_HOST": "https://127.0.0.1:8443",
            "REQUESTS_CA_BUNDLE": str(bundle),
            "AZURE_TENANT_ID": "t",
            "AZURE_CLIENT_ID": "c",
            "AZURE_CLIENT_SECRET": "shh",
        },
    )
    assert local.arm_endpoint == "https://127.0.0.1:8443"
    assert local.credential_scope == "https://127.0.0.1:8443/.default"
    assert not local.instance_discovery
    assert local.uses_service_principal
    assert "shh" not in local.describe()


def test_plain_http_endpoints_and_missing_ca_bundles_are_refused() -> None:
    with pytest.raises(AzureError, match="must be https"):
        load_config(playbook_subscription="s", environ={"DRCTL_ARM_ENDPOINT": "http://localhost"})
    with pytest.raises(AzureError, match="does not exist"):
        load_config(playbook_subscription="s", environ={"REQUESTS_CA_BUNDLE": "/nope/ca.pem"})


def _http_error(status: int, code: str | None = None) -> HttpResponseError:
    error = HttpResponseError(message=f"status {status}")
    error.status_code = status
    if code:
        error.error = type("E", (), {"code": code})()  # the shape azure-core gives ODataV4 errors
    return error


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (ServiceRequestError("connection refused"), Kind.TRANSIENT),
        (_http_error(429), Kind.TRANSIENT),
        (_http_error(503), Kind.TRANSIENT),
        (_http_error(409, "AnotherOperationInProgress"), Kind.TRANSIENT),
        (_http_error(409, "Conflicting"), Kind.FATAL),
        (_http_error(412), Kind.PRECONDITION),
        (_http_error(404), Kind.NOT_FOUND),
        (_http_error(403), Kind.AUTH),
        (ClientAuthenticationError("AADSTS7000215: Invalid client secret"), Kind.AUTH),
        (_http_error(400, "InvalidParameter"), Kind.FATAL),
        (ValueError("boom"), Kind.FATAL),
    ],
)
def test_one_place_decides_what_an_azure_failure_means(error: BaseException, kind: Kind) -> None:
    assert classify(error).kind is kind


def test_the_principal_is_read_from_a_token_without_trusting_it() -> None:
    import base64
    import json

    claims = base64.urlsafe_b64encode(json.dumps({"appid": "app-1"}).encode()).decode().rstrip("=")
    assert principal_of(f"h.{claims}.s") == "app-1"
    assert principal_of("opaque") == "unknown"
    assert principal_of("a.!!.c") == "unknown"
