"""Web apps in the estate file (``web_apps:``) and their live state."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import Field

from drctl.sandbox.ops import WebAppState
from drctl.sandbox.providers.base import EstateModel, Placed, RegionKey, ResourceName


class WebApp(EstateModel):
    name: ResourceName
    resource_group: ResourceName
    region: RegionKey
    tags: dict[str, str] = Field(default_factory=dict)
    state: WebAppState = WebAppState.RUNNING


class WebSection(EstateModel):
    web_apps: list[WebApp] = Field(default_factory=list)


@dataclass
class SiteState(Placed):
    state: WebAppState = WebAppState.RUNNING


@dataclass
class WebStore:
    #: name lower -> site
    sites: dict[str, SiteState] = field(default_factory=dict)
