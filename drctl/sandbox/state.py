"""The emulated world: every resource's live state, behind one lock.

Built from a validated ``Estate``; ARM handlers, the DNS server, the app endpoints and the admin API all read
and change it through ``World`` while holding ``World.lock``. The lock is re-entrant so a helper can be called
from code that already holds it. Resource names are looked up case-insensitively, as ARM does.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from drctl.sandbox import estate as est
from drctl.sandbox.faults import FaultBook
from drctl.sandbox.lro import Operations
from drctl.sandbox.ops import ControlPlane, RegionStatus, Service


@dataclass
class RegionState:
    key: str
    location: str
    status: RegionStatus
    control_plane: ControlPlane
    down_since: float | None = None

    @property
    def up(self) -> bool:
        return self.status is RegionStatus.UP


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


@dataclass
class AppState:
    region: str
    hosts: list[str]
    port: int
    health_path: str
    replication_path: str | None
    group: str | None
    web_apps: list[str]
    scale_sets: list[str]


S = TypeVar("S")


class World:
    def __init__(self, estate: est.Estate, *, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.estate = estate
        #: set by the server once the identity is known (the estate may leave it to be generated)
        self.tenant_id = estate.identity.tenant_id or ""
        self._build()

    def reset(self) -> None:
        """Back to the estate's initial state (faults, logs and captures cleared); the lock stays the same."""
        with self.lock:
            self._build()

    def _build(self) -> None:
        estate, clock = self.estate, self.clock
        self.faults = FaultBook(self.lock)
        self.operations = Operations()
        self.requests: deque[dict[str, Any]] = deque(maxlen=estate.settings.request_log_size)
        self.webhooks: list[dict[str, Any]] = []
        self.emails: list[dict[str, Any]] = []
        self.data_loss: list[dict[str, Any]] = []
        now = clock()
        self.regions = {
            k: RegionState(k, r.location, r.status, r.control_plane, now if r.status is RegionStatus.DOWN else None)
            for k, r in estate.regions.items()
        }
        self.groups_rg: dict[str, est.ResourceGroup] = {}
        for group in estate.resource_groups:
            self.groups_rg[group.name.lower()] = group
        self.generics: dict[str, GenericState] = {}
        for g in estate.generic_resources:
            rid = (
                f"/subscriptions/{estate.subscription_id}/resourceGroups/{g.resource_group}"
                f"/providers/{g.type.split('/', 1)[0]}/{_type_path(g.type, g.name)}"
            )
            self.generics[rid.lower()] = GenericState(
                rid,
                g.type,
                g.name.rsplit("/", 1)[-1],
                g.resource_group,
                g.region,
                g.kind,
                dict(g.properties),
                dict(g.sku) if g.sku else None,
                dict(g.tags),
            )
        from drctl.sandbox.registry import PROVIDERS

        #: provider name -> its store (``drctl.sandbox.registry``): each service's live state
        self.stores: dict[str, object] = {p.name: p.build(self, estate, now) for p in PROVIDERS}
        self.apps = {k: _app_state(k, r.app, estate) for k, r in estate.regions.items() if r.app is not None}
        self._rg_index: dict[str, tuple[str, str, dict[str, str]]] | None = None

    def store(self, name: str, kind: type[S]) -> S:
        """The store of provider ``name`` (each provider's accessor names its own type)."""
        found = self.stores[name]
        if not isinstance(found, kind):
            raise TypeError(f"the store of provider {name!r} is a {type(found).__name__}, not a {kind.__name__}")
        return found

    # ---- resource groups -------------------------------------------------------------------------------
    def resource_groups(self) -> dict[str, tuple[str, str, dict[str, str]]]:
        """name lower -> (name, location, tags): explicit groups, then every group a resource lives in.

        Resources are never created or moved at run time, so the index is built once per (re)build."""
        if self._rg_index is None:
            self._rg_index = self._index_groups()
        return self._rg_index

    def put_resource_group(self, name: str, region: str, tags: dict[str, str]) -> None:
        """An ARM PUT of a resource group: created, or its tags replaced (until the next reset)."""
        self.groups_rg[name.lower()] = est.ResourceGroup(name=name, region=region, tags=tags)
        self._rg_index = None

    def _index_groups(self) -> dict[str, tuple[str, str, dict[str, str]]]:
        out: dict[str, tuple[str, str, dict[str, str]]] = {}
        for group in self.groups_rg.values():
            out[group.name.lower()] = (group.name, self.regions[group.region].location, dict(group.tags))
        from drctl.sandbox.registry import PROVIDERS

        for p in PROVIDERS:
            for resource_group, region in p.placements(self):
                location = self.regions[region].location if region else next(iter(self.regions.values())).location
                out.setdefault(resource_group.lower(), (resource_group, location, {}))
        for generic in self.generics.values():
            out.setdefault(
                generic.resource_group.lower(), (generic.resource_group, self.regions[generic.region].location, {})
            )
        return out

    # ---- time and regions ------------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock()

    def advance(self) -> float:
        """Finish every due long-running operation; call with the lock held before reading."""
        now = self.clock()
        self.operations.advance(now)
        return now

    def set_region(self, key: str, status: RegionStatus, control_plane: ControlPlane | None = None) -> None:
        region = self.regions[key]
        if status is RegionStatus.DOWN and region.up:
            region.down_since = self.clock()
        if status is RegionStatus.UP:
            region.down_since = None
        region.status = status
        if control_plane is not None:
            region.control_plane = control_plane

    def log_request(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.requests.append(entry)

    def request_log(self, service: Service | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.requests if service is None or e["service"] == service.value]


def _type_path(rtype: str, name: str) -> str:
    """``Microsoft.Web/serverfarms`` + ``plan`` -> ``serverfarms/plan``; nested types pair up with names."""
    types = rtype.split("/")[1:]
    names = name.split("/")
    return "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=False))


def _app_state(key: str, app: est.AppEndpoint, estate: est.Estate) -> AppState:
    group = app.failover_group
    if group is None:
        servers = {s.name.lower() for s in estate.sql.servers if s.region == key}
        for fg in estate.sql.failover_groups:
            if fg.primary.lower() in servers or fg.secondary.lower() in servers:
                group = fg.name
                break
    web_apps = app.web_apps if app.web_apps is not None else [w.name for w in estate.web_apps if w.region == key]
    scale_sets = (
        app.scale_sets if app.scale_sets is not None else [s.name for s in estate.scale_sets if s.region == key]
    )
    return AppState(
        key,
        [h.lower() for h in app.hosts],
        app.port,
        app.health_path,
        app.replication_path,
        group,
        list(web_apps),
        list(scale_sets),
    )
