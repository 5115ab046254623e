"""Resource groups, generic resources by id, errors, headers and case-insensitive routing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from azure.core.exceptions import ResourceNotFoundError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drctl.sandbox import Sandbox


def _raw(sb: Sandbox, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> httpx.Response:
    if token is None:
        token = sb.credential().get_token(f"{sb.arm_endpoint}/.default").token
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    return httpx.request(method, f"{sb.arm_endpoint}{path}", headers=headers, verify=sb.ssl_context(), **kwargs)


def test_resource_groups_get_and_list_with_paging(sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    client = sdk(sandbox).resources
    group = client.resource_groups.get("rg-wallet-aue")
    assert (group.name, group.location, group.properties.provisioning_state) == (
        "rg-wallet-aue",
        "australiaeast",
        "Succeeded",
    )
    # $top=1 makes one group per page: the SDK follows nextLink through all of them
    assert [g.name for g in client.resource_groups.list(top=1)] == ["rg-wallet-aue", "rg-wallet-ause", "rg-wallet-dns"]
    assert client.resource_groups.check_existence("rg-wallet-dns") is True
    assert client.resource_groups.check_existence("rg-nope") is False


def test_a_page_carries_a_next_link_back_to_the_sandbox(sandbox: Sandbox) -> None:
    response = _raw(
        sandbox,
        "GET",
        f"/subscriptions/{sandbox.subscription_id}/resourcegroups",
        params={"api-version": "2025-04-01", "$top": "2"},
    )
    body = response.json()
    assert len(body["value"]) == 2
    assert body["nextLink"].startswith(f"{sandbox.arm_endpoint}/subscriptions/")
    assert "skiptoken=2" in body["nextLink"]


def test_unknown_resource_group_and_resource_are_azures_404s(sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    client = sdk(sandbox).resources
    with pytest.raises(ResourceNotFoundError) as err:
        client.resource_groups.get("rg-nope")
    assert err.value.error.code == "ResourceGroupNotFound"
    web = sdk(sandbox).web
    with pytest.raises(ResourceNotFoundError) as err:
        web.web_apps.get("rg-wallet-aue", "app-nope")
    assert err.value.error.code == "ResourceNotFound"
    response = _raw(
        sandbox,
        "GET",
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups",
        params={"api-version": "2025-04-01"},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (404, "SubscriptionNotFound")


def test_generic_resources_by_id_get_and_patch_tags(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    from azure.mgmt.resource.resources.models import GenericResource

    client = sdk(fresh_sandbox).resources
    rid = (
        f"/subscriptions/{fresh_sandbox.subscription_id}/resourceGroups/rg-wallet-aue/providers/Microsoft.Web/"
        "sites/app-wallet-api-aue"
    )
    site = client.resources.get_by_id(rid, api_version="2022-03-01")
    assert (site.name, site.type) == ("app-wallet-api-aue", "Microsoft.Web/sites")
    updated = client.resources.begin_update_by_id(
        rid, api_version="2022-03-01", parameters=GenericResource(tags={"dr": "failover"})
    ).result()
    assert updated.tags == {"dr": "failover"}
    assert client.resources.get_by_id(rid, api_version="2022-03-01").tags == {"dr": "failover"}


def test_a_generic_patch_of_a_scale_set_capacity_goes_through_the_lro(
    fresh_sandbox: Sandbox, sdk: Callable[..., Any]
) -> None:
    from azure.mgmt.resource.resources.models import GenericResource

    client = sdk(fresh_sandbox).resources
    rid = (
        f"/subscriptions/{fresh_sandbox.subscription_id}/resourceGroups/rg-wallet-ause/providers/"
        "Microsoft.Compute/virtualMachineScaleSets/vmss-wallet-workers-ause"
    )
    result = client.resources.begin_update_by_id(
        rid, api_version="2024-07-01", parameters=GenericResource(sku={"capacity": 5})
    ).result()
    assert result.sku["capacity"] == 5
    assert fresh_sandbox.snapshot()["scale_sets"]["vmss-wallet-workers-ause"]["capacity"] == 5


def test_paths_match_case_insensitively(sandbox: Sandbox) -> None:
    path = (
        f"/SUBSCRIPTIONS/{sandbox.subscription_id}/ResourceGroups/RG-WALLET-AUE/providers/microsoft.sql/"
        "SERVERS/Sql-Wallet-Aue/FailoverGroups/FG-WALLET"
    )
    response = _raw(sandbox, "GET", path, params={"API-VERSION": "2025-01-01"})
    assert response.status_code == 200
    assert response.json()["name"] == "fg-wallet"


def test_every_answer_carries_request_and_correlation_ids(sandbox: Sandbox) -> None:
    response = _raw(
        sandbox,
        "GET",
        f"/subscriptions/{sandbox.subscription_id}/resourcegroups/rg-wallet-aue",
        params={"api-version": "2025-04-01"},
        headers={"x-ms-client-request-id": "client-1", "x-ms-correlation-request-id": "corr-1"},
    )
    assert response.headers["x-ms-request-id"]
    assert response.headers["x-ms-correlation-request-id"] == "corr-1"
    assert response.headers["x-ms-client-request-id"] == "client-1"
    missing = _raw(
        sandbox,
        "GET",
        f"/subscriptions/{sandbox.subscription_id}/resourcegroups/rg-nope",
        params={"api-version": "2025-04-01"},
    )
    assert missing.headers["x-ms-request-id"]
    assert missing.headers["x-ms-correlation-request-id"]


def test_a_missing_api_version_is_400(sandbox: Sandbox) -> None:
    response = _raw(sandbox, "GET", f"/subscriptions/{sandbox.subscription_id}/resourcegroups")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "MissingApiVersionParameter")


def test_providers_are_always_registered(sandbox: Sandbox) -> None:
    response = _raw(
        sandbox,
        "POST",
        f"/subscriptions/{sandbox.subscription_id}/providers/Microsoft.Sql/register",
        params={"api-version": "2025-04-01"},
    )
    assert response.json()["registrationState"] == "Registered"


_SEGMENT = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789-_.@", min_size=1, max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"]),
    segments=st.lists(
        st.one_of(
            _SEGMENT,
            st.sampled_from(
                ["subscriptions", "resourceGroups", "providers", "Microsoft.Sql", "servers", "dnsZones", "A"]
            ),
        ),
        max_size=12,
    ),
)
def test_no_path_makes_arm_fail_with_a_server_error(
    sandbox: Sandbox, arm_token: str, method: str, segments: list[str]
) -> None:
    if segments and segments[0].lower() == "subscriptions" and len(segments) > 1:
        segments[1] = sandbox.subscription_id
    response = _raw(
        sandbox, method, "/" + "/".join(segments), token=arm_token, params={"api-version": "2025-01-01"}, json={}
    )
    assert response.status_code < 500, response.text
    if method != "HEAD" and response.status_code >= 400:
        assert response.json()["error"]["code"]


@pytest.fixture(scope="module")
def arm_token(sandbox: Sandbox) -> str:
    return str(sandbox.credential().get_token(f"{sandbox.arm_endpoint}/.default").token)


def test_write_to_an_unknown_route_is_not_a_crash(sandbox: Sandbox, arm_token: str) -> None:
    response = _raw(
        sandbox,
        "DELETE",
        f"/subscriptions/{sandbox.subscription_id}/resourceGroups/rg-wallet-aue",
        token=arm_token,
        params={"api-version": "2025-04-01"},
    )
    assert response.status_code in (404, 405)
    assert response.json()["error"]["code"]
