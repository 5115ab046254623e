"""DNS zones in the estate file (``dns: zones:``) and their live state (``data.Zone``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from drctl.sandbox.providers.base import EstateModel, HostName, ResourceName
from drctl.sandbox.providers.dns.data import Zone


class DnsRecord(EstateModel):
    #: relative name, ``@`` for the apex
    name: Annotated[str, StringConstraints(pattern=r"^(@|[A-Za-z0-9_*]([A-Za-z0-9_.-]{0,200}[A-Za-z0-9])?)$")]
    type: Literal["A", "AAAA", "CNAME", "TXT"]
    ttl: int = Field(default=3600, ge=0, le=2147483647)
    values: list[str] = Field(min_length=1)


class DnsZone(EstateModel):
    name: HostName
    resource_group: ResourceName
    records: list[DnsRecord] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)


class Dns(EstateModel):
    zones: list[DnsZone] = Field(default_factory=list)


class DnsSection(EstateModel):
    dns: Dns = Field(default_factory=Dns)


@dataclass
class DnsStore:
    #: zone name lower, without the trailing dot -> zone
    zones: dict[str, Zone] = field(default_factory=dict)
    #: seconds before a record write reaches the DNS server (the ``dns_propagation_delay`` world fault)
    delay: float = 0.0
