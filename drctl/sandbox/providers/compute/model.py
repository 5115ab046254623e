"""Scale sets in the estate file (``scale_sets:``) and their live state."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import Field

from drctl.sandbox.providers.base import EstateModel, Placed, RegionKey, ResourceName


class ScaleSet(EstateModel):
    name: ResourceName
    resource_group: ResourceName
    region: RegionKey
    tags: dict[str, str] = Field(default_factory=dict)
    capacity: int = Field(ge=0, le=1000)
    sku: str = "Standard_D2s_v5"


class ComputeSection(EstateModel):
    scale_sets: list[ScaleSet] = Field(default_factory=list)


@dataclass
class ScaleSetState(Placed):
    #: the capacity the region really runs (what the app endpoint sees)
    capacity: int = 0
    sku: str = "Standard_D2s_v5"
    provisioning: str = "Succeeded"
    #: the capacity an update in progress is converging to (ARM already shows it in ``sku.capacity``)
    pending_capacity: int | None = None
    #: numbers updates so that only the newest one, when it completes, sets the capacity
    updates: int = 0


@dataclass
class ComputeStore:
    #: name lower -> scale set
    scale_sets: dict[str, ScaleSetState] = field(default_factory=dict)
