"""Warm standby through the SDK: web apps, scale sets, and any resource by id. Plain data out."""

from __future__ import annotations

from typing import Any

from drctl.azure.clients import AzureClients
from drctl.azure.lro import Accepted
from drctl.azure.sql import prop


def resource_group_state(clients: AzureClients, resource_group: str) -> str:
    group = clients.resource.resource_groups.get(resource_group)
    return str(prop(group, "provisioning_state") or "Succeeded")


def web_app_state(clients: AzureClients, resource_group: str, name: str) -> str:
    return str(prop(clients.web.web_apps.get(resource_group, name), "state"))


def start_web_app(clients: AzureClients, resource_group: str, name: str) -> None:
    clients.web.web_apps.start(resource_group, name)


def stop_web_app(clients: AzureClients, resource_group: str, name: str) -> None:
    clients.web.web_apps.stop(resource_group, name)


def scale_set_capacity(clients: AzureClients, resource_group: str, name: str) -> int:
    vmss = clients.compute.virtual_machine_scale_sets.get(resource_group, name)
    return int(vmss.sku.capacity or 0)


def begin_scale(clients: AzureClients, resource_group: str, name: str, capacity: int) -> Accepted:
    """Ask for the scale set's new capacity and return at once with the URLs to follow the update on."""
    from azure.mgmt.compute.models import Sku, VirtualMachineScaleSetUpdate

    from drctl.azure.lro import begin

    update = VirtualMachineScaleSetUpdate(sku=Sku(capacity=capacity))
    return begin(clients, clients.compute.virtual_machine_scale_sets.begin_update, resource_group, name, update)


def begin_patch(clients: AzureClients, resource_id: str, api_version: str, body: dict[str, Any]) -> Accepted:
    """PATCH any resource by id (the API version by keyword, as azure-mgmt-resource 26 takes it)."""
    from drctl.azure.lro import begin

    return begin(clients, clients.resource.resources.begin_update_by_id, resource_id, body, api_version=api_version)


def get_resource(clients: AzureClients, resource_id: str, api_version: str) -> dict[str, Any]:
    # azure-mgmt-resource 26 takes api_version by keyword only: positionally it is a TypeError on every call
    found = clients.resource.resources.get_by_id(resource_id, api_version=api_version)
    return as_dict(found)


def as_dict(model: Any) -> dict[str, Any]:
    if isinstance(model, dict):
        return model
    for name in ("as_dict", "serialize"):
        method = getattr(model, name, None)
        if callable(method):
            value = method()
            if isinstance(value, dict):
                return value
    try:
        return dict(model)
    except (TypeError, ValueError):
        return {}
