"""Azure Front Door (Standard/Premium) origins and endpoints through azure-mgmt-cdn."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drctl.azure.clients import AzureClients
from drctl.azure.lro import Accepted, begin


@dataclass(frozen=True)
class OriginState:
    name: str
    host_name: str
    enabled: bool
    priority: int
    weight: int
    provisioning: str

    def as_fact(self) -> dict[str, Any]:
        return {
            "enabled_state": "Enabled" if self.enabled else "Disabled",
            "priority": self.priority,
            "weight": self.weight,
        }


def get_origin(
    clients: AzureClients,
    resource_group: str,
    profile: str,
    origin_group: str,
    origin: str,
    *,
    subscription: str | None = None,
) -> OriginState:
    found = clients.cdn(subscription).afd_origins.get(resource_group, profile, origin_group, origin)
    return OriginState(
        name=str(found.name),
        host_name=str(found.host_name),
        enabled=found.enabled_state == "Enabled",
        priority=int(found.priority or 1),
        weight=int(found.weight or 1000),
        provisioning=str(found.provisioning_state or ""),
    )


def begin_update_origin(
    clients: AzureClients,
    resource_group: str,
    profile: str,
    origin_group: str,
    origin: str,
    *,
    enabled: bool,
    priority: int | None,
    subscription: str | None = None,
) -> Accepted:
    """PATCH the origin's enabledState (and priority): a long-running operation, returned as accepted."""
    from azure.mgmt.cdn.models import AFDOriginUpdateParameters, AFDOriginUpdatePropertiesParameters

    properties = AFDOriginUpdatePropertiesParameters(
        enabled_state="Enabled" if enabled else "Disabled", priority=priority
    )
    update = AFDOriginUpdateParameters(properties=properties)
    operations = clients.cdn(subscription).afd_origins
    return begin(clients, operations.begin_update, resource_group, profile, origin_group, origin, update)


def endpoint_host(
    clients: AzureClients, resource_group: str, profile: str, endpoint: str, *, subscription: str | None = None
) -> str:
    """The endpoint's public host name (``<endpoint>-<hash>.z01.azurefd.net``)."""
    return str(clients.cdn(subscription).afd_endpoints.get(resource_group, profile, endpoint).host_name)
