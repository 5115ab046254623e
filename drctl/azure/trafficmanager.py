"""Traffic Manager through the SDK: a profile with its endpoints read as plain data, and one endpoint's status or
priority changed (PATCH: a synchronous write, answered when it is done)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drctl.azure.clients import AzureClients
from drctl.azure.sql import wire


@dataclass(frozen=True)
class Endpoint:
    name: str
    #: the path segment of its type: ``ExternalEndpoints``, ``AzureEndpoints`` or ``NestedEndpoints``
    type: str
    status: str
    priority: int | None
    target: str | None
    #: Traffic Manager's probes: Online, Degraded, Disabled, Stopped, CheckingEndpoint, Inactive...
    monitor_status: str | None


@dataclass(frozen=True)
class Profile:
    name: str
    fqdn: str
    ttl: int
    status: str
    routing_method: str
    endpoints: tuple[Endpoint, ...]

    def endpoint(self, name: str) -> Endpoint | None:
        return next((e for e in self.endpoints if e.name.lower() == name.lower()), None)


def _segment(rtype: str | None) -> str:
    """``Microsoft.Network/trafficManagerProfiles/externalEndpoints`` -> ``ExternalEndpoints``."""
    last = (rtype or "").rsplit("/", 1)[-1] or "externalEndpoints"
    return last[0].upper() + last[1:]


def get_profile(clients: AzureClients, resource_group: str, name: str, *, subscription: str | None = None) -> Profile:
    found = clients.trafficmanager(subscription).profiles.get(resource_group, name)
    props = found.properties
    dns = props.dns_config
    endpoints = tuple(
        Endpoint(
            name=str(e.name),
            type=_segment(e.type),
            status=str(wire(e.properties.endpoint_status) or ""),
            priority=e.properties.priority,
            target=e.properties.target,
            monitor_status=wire(e.properties.endpoint_monitor_status),
        )
        for e in props.endpoints or []
    )
    return Profile(
        name=str(found.name),
        fqdn=str(dns.fqdn or ""),
        ttl=int(dns.ttl or 0),
        status=str(wire(props.profile_status) or ""),
        routing_method=str(wire(props.traffic_routing_method) or ""),
        endpoints=endpoints,
    )


def update_endpoint(
    clients: AzureClients,
    resource_group: str,
    profile: str,
    endpoint: Endpoint,
    *,
    status: str | None = None,
    priority: int | None = None,
    subscription: str | None = None,
) -> None:
    """PATCH only what changes: the endpoint's other settings (target, weight, custom headers) stay as they are."""
    properties: dict[str, Any] = {}
    if status is not None:
        properties["endpointStatus"] = status
    if priority is not None:
        properties["priority"] = priority
    clients.trafficmanager(subscription).endpoints.update(
        resource_group, profile, endpoint.type, endpoint.name, {"properties": properties}
    )
