"""The emulated world, behind one lock: what every service shares, and each provider's store.

Built from a validated ``Estate``: the regions (up or down), the clock, the request log, the long-running
operations, the fault book and the captures are here; each service's resources are in its provider's store
(``stores``, built by ``drctl.sandbox.registry.PROVIDERS``, read through the provider's ``store(world)``).
ARM handlers, the DNS server, the app endpoints and the admin API all read and change it while holding
``World.lock``. The lock is re-entrant so a helper can be called
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
        #: the sandbox CA (PEM), set by the server: what a kubeconfig the sandbox hands out trusts
        self.ca_pem = ""
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
        from drctl.sandbox.registry import PROVIDERS

        #: provider name -> its store (``drctl.sandbox.registry``): each service's live state
        self.stores: dict[str, object] = {p.name: p.build(self, estate, now) for p in PROVIDERS}
        self.apps = {k: _app_state(k, r.app, estate) for k, r in estate.regions.items() if r.app is not None}

    def store(self, name: str, kind: type[S]) -> S:
        """The store of provider ``name`` (each provider's accessor names its own type)."""
        found = self.stores[name]
        if not isinstance(found, kind):
            raise TypeError(f"the store of provider {name!r} is a {type(found).__name__}, not a {kind.__name__}")
        return found

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
