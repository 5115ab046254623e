"""Front Door in the estate file (``front_door:``) and its live state.

An origin names the estate region whose application answers for its host name (``region``): the sandbox
forwards a request the edge routes to it to that region's app endpoint. A route of real Front Door binds an
endpoint to an origin group; the sandbox keeps that binding on the endpoint (``origin_group``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from drctl.sandbox.providers.base import EstateModel, HostName, RegionKey, ResourceName

Sku = Literal["Standard_AzureFrontDoor", "Premium_AzureFrontDoor"]
EnabledState = Literal["Enabled", "Disabled"]

#: the default delay before a configuration change reaches the edge: seconds in the sandbox; Microsoft documents
#: minutes, up to tens of minutes, for Azure Front Door
DEFAULT_PROPAGATION_SECONDS = 5.0


class AfdOriginModel(EstateModel):
    name: ResourceName
    host_name: HostName
    #: the estate region whose app serves ``host_name``
    region: RegionKey
    priority: int = Field(default=1, ge=1, le=5)
    weight: int = Field(default=1000, ge=1, le=1000)
    enabled_state: EnabledState = "Enabled"


class AfdOriginGroupModel(EstateModel):
    name: ResourceName
    #: the health probe's path (``healthProbeSettings.probePath``): an origin is healthy when it answers 200 there
    probe_path: str = Field(default="/healthz", pattern=r"^/[^\s?#]*$")
    origins: list[AfdOriginModel] = Field(default_factory=list)


class AfdEndpointModel(EstateModel):
    name: ResourceName
    #: the origin group its route sends requests to
    origin_group: ResourceName
    enabled_state: EnabledState = "Enabled"
    #: the endpoint's public host name; ``<name>-<hash>.z01.azurefd.net`` when omitted
    host_name: HostName | None = None


class AfdProfileModel(EstateModel):
    name: ResourceName
    resource_group: ResourceName
    sku: Sku = "Standard_AzureFrontDoor"
    tags: dict[str, str] = Field(default_factory=dict)
    endpoints: list[AfdEndpointModel] = Field(default_factory=list)
    origin_groups: list[AfdOriginGroupModel] = Field(default_factory=list)


class FrontDoor(EstateModel):
    #: seconds before a configuration change reaches the edge (the ``front_door_propagation_delay`` world fault)
    propagation_seconds: float = Field(default=DEFAULT_PROPAGATION_SECONDS, ge=0, le=86400)
    profiles: list[AfdProfileModel] = Field(default_factory=list)


class CdnSection(EstateModel):
    front_door: FrontDoor = Field(default_factory=FrontDoor)

    def front_door_hosts(self) -> list[str]:
        """The public host names of every AFD endpoint (the sandbox's certificate covers them)."""
        return [endpoint_host(p, e) for p in self.front_door.profiles for e in p.endpoints]


def endpoint_host(profile: AfdProfileModel, endpoint: AfdEndpointModel) -> str:
    """The endpoint's host name: as Azure generates it (name, a 16-character hash, ``.z01.azurefd.net``)."""
    if endpoint.host_name:
        return endpoint.host_name.lower()
    seed = f"{profile.resource_group}/{profile.name}/{endpoint.name}".lower()
    digest = hashlib.sha256(seed.encode()).hexdigest()
    letters = "".join("abcdefghijklmnop"[int(c, 16)] for c in digest[:16])
    return f"{endpoint.name.lower()}-{letters}.z01.azurefd.net"


@dataclass
class Config:
    """One version of an origin's routing configuration, in force from ``at`` (ARM time) + the propagation delay."""

    at: float
    enabled: bool
    priority: int
    weight: int


@dataclass
class Origin:
    name: str
    host_name: str
    region: str
    #: every version ARM accepted, oldest first; the edge routes on the last one older than the delay
    history: list[Config]
    provisioning: str = "Succeeded"
    #: writes accepted so far: a write finishing after a newer one was accepted is superseded
    updates: int = 0
    #: the configuration a write in progress sets: ARM shows it (``Updating``) before the edge has it
    pending: Config | None = None

    @property
    def current(self) -> Config:
        return self.history[-1]

    def at(self, when: float) -> Config:
        seen = self.history[0]
        for config in self.history:
            if config.at > when:
                break
            seen = config
        return seen


@dataclass
class OriginGroup:
    name: str
    probe_path: str
    origins: dict[str, Origin] = field(default_factory=dict)


@dataclass
class Endpoint:
    name: str
    host_name: str
    origin_group: str
    enabled: bool = True


@dataclass
class Profile:
    name: str
    resource_group: str
    sku: str
    tags: dict[str, str]
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    origin_groups: dict[str, OriginGroup] = field(default_factory=dict)


@dataclass
class CdnStore:
    #: name lower -> profile
    profiles: dict[str, Profile] = field(default_factory=dict)
    propagation_seconds: float = DEFAULT_PROPAGATION_SECONDS
