"""Traffic Manager profiles in the estate file (``traffic_manager: profiles:``) and their live state.

An endpoint's monitor status is not stored: it is derived at every read from the endpoint's status, the
profile's status and its region's health, the way Traffic Manager's probes see a region that went down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from drctl.sandbox.providers.base import EstateModel, HostName, RegionKey, ResourceName

#: the DNS suffix every profile's name lives under (``dnsConfig.fqdn = <relativeName>.trafficmanager.net``)
DNS_SUFFIX = "trafficmanager.net"
ENDPOINT_TYPES = ("AzureEndpoints", "ExternalEndpoints")
Status = Literal["Enabled", "Disabled"]
RelativeName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")]


class TmMonitor(EstateModel):
    protocol: Literal["HTTP", "HTTPS", "TCP"] = "HTTPS"
    port: int = Field(default=443, ge=1, le=65535)
    path: str = "/healthz"
    interval_seconds: Literal[10, 30] = 30
    timeout_seconds: int = Field(default=10, ge=5, le=10)
    tolerated_failures: int = Field(default=3, ge=0, le=9)


class TmEndpoint(EstateModel):
    name: ResourceName
    type: Literal["AzureEndpoints", "ExternalEndpoints"] = "ExternalEndpoints"
    #: a host name (answered as a CNAME) or an IPv4 address (answered as an A record)
    target: HostName
    #: for ``AzureEndpoints``: the ARM id of the public IP, app or cloud service behind it
    target_resource_id: str | None = None
    #: the estate region whose health the endpoint's monitor status follows
    region: RegionKey
    status: Status = "Enabled"
    priority: int = Field(default=1, ge=1, le=1000)
    weight: int = Field(default=1, ge=1, le=1000)


class TmProfile(EstateModel):
    name: ResourceName
    resource_group: ResourceName
    routing_method: Literal["Priority", "Weighted", "Performance"] = "Priority"
    #: the profile's name under ``trafficmanager.net``; the profile's name when omitted
    relative_name: RelativeName | None = None
    ttl: int = Field(default=60, ge=0, le=2147483647)
    status: Status = "Enabled"
    monitor: TmMonitor = Field(default_factory=TmMonitor)
    endpoints: list[TmEndpoint] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)


class TrafficManager(EstateModel):
    profiles: list[TmProfile] = Field(default_factory=list)


class TrafficManagerSection(EstateModel):
    traffic_manager: TrafficManager = Field(default_factory=TrafficManager)


@dataclass
class EndpointState:
    name: str
    type: str
    target: str
    target_resource_id: str | None
    #: the estate region whose health the monitor status follows; None (an endpoint a client created with no
    #: known region): always Online
    region: str | None
    status: str
    priority: int
    weight: int


@dataclass
class ProfileState:
    name: str
    resource_group: str
    tags: dict[str, str]
    routing_method: str
    relative_name: str
    ttl: int
    status: str
    monitor: dict[str, object]
    #: endpoint name lower -> endpoint
    endpoints: dict[str, EndpointState] = field(default_factory=dict)

    @property
    def fqdn(self) -> str:
        return f"{self.relative_name.lower()}.{DNS_SUFFIX}"


@dataclass
class TrafficManagerStore:
    #: profile name lower -> profile
    profiles: dict[str, ProfileState] = field(default_factory=dict)
