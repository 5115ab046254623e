"""Resource groups and generic resources in the estate file, and their live state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from drctl.sandbox.providers.base import EstateModel, RegionKey, ResourceName


class ResourceGroup(EstateModel):
    name: ResourceName
    region: RegionKey
    tags: dict[str, str] = Field(default_factory=dict)


class GenericResource(EstateModel):
    """Any other ARM resource drctl reads or PATCHes by id (e.g. an App Service plan)."""

    resource_group: ResourceName
    #: ``Namespace/type`` such as ``Microsoft.Web/serverfarms``
    type: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9.]+/[A-Za-z0-9]+(/[A-Za-z0-9]+)*$")]
    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._()/-]{0,200}$")]
    region: RegionKey
    kind: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    sku: dict[str, Any] | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class ResourcesSection(EstateModel):
    resource_groups: list[ResourceGroup] = Field(default_factory=list)
    generic_resources: list[GenericResource] = Field(default_factory=list)


@dataclass
class GenericState:
    id: str
    type: str
    name: str
    resource_group: str
    region: str
    kind: str | None
    properties: dict[str, Any]
    sku: dict[str, Any] | None
    tags: dict[str, str]


#: a resource group as ARM shows it: (name, location, tags)
GroupRow = tuple[str, str, dict[str, str]]


@dataclass
class ResourcesStore:
    #: name lower -> the resource groups the estate declares or a PUT created
    groups: dict[str, ResourceGroup] = field(default_factory=dict)
    #: id lower -> generic resource
    generics: dict[str, GenericState] = field(default_factory=dict)
    #: every resource group, explicit or implied by a resource in it; rebuilt when a group is PUT
    index: dict[str, GroupRow] | None = None
