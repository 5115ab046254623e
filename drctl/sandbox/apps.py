"""Per-region application endpoints: one HTTPS listener per region, so "region down" is connection refused.

* the health path answers 200 when the region's web apps run, its scale sets have instances and the failover
  group's primary is in a region that is up (the app reaches its database through the failover group's
  listener); otherwise 503. The body says why (``checks``) and carries the local database's role and last
  committed write.
* the replication path is a small exporter next to the database: it answers while the region is up, whatever
  the web apps do, with the local server's role and last committed write (the RPO evidence drctl reads).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from typing import Any

from drctl.sandbox.clock import iso
from drctl.sandbox.http import Handler, HttpServer, Request, Response, json_response
from drctl.sandbox.ops import OpKind, Service, WebAppState
from drctl.sandbox.providers.compute import provider as compute
from drctl.sandbox.providers.containerservice import provider as containerservice
from drctl.sandbox.providers.sql import provider as sql
from drctl.sandbox.providers.web import provider as web
from drctl.sandbox.state import AppState, World


class AppEndpoints:
    def __init__(self, world: World, ssl_context: ssl.SSLContext, host: str) -> None:
        self.world = world
        self._ssl = ssl_context
        self._host = host
        self.servers: dict[str, HttpServer] = {}
        self.ports: dict[str, int] = {}

    async def start(self, ports: dict[str, int]) -> None:
        for key in self.world.apps:
            server = HttpServer(self._handler_for(key), self._ssl, f"app:{key}")
            self.ports[key] = await server.start(self._host, ports.get(key, 0))
            self.servers[key] = server
        await self.reconcile()

    async def reconcile(self) -> None:
        """Open the listener of every region that is up, close (refuse) those of regions that are down."""
        for key, server in self.servers.items():
            up = self.world.regions[key].up
            if up and not server.running:
                await _start_again(server, self._host, self.ports[key])
            elif not up and server.running:
                await server.stop()

    async def stop(self) -> None:
        for server in self.servers.values():
            await server.stop()

    def _handler_for(self, key: str) -> Handler:
        async def handle(req: Request) -> Response:
            return await self._handle(key, req)

        return handle

    async def forward(self, key: str, req: Request) -> Response:
        """Answer ``req`` as region ``key``'s app does (Front Door forwarding to its origin there)."""
        return await self._handle(key, req)

    def probe(self, key: str, path: str, now: float) -> bool:
        """A health probe at ``path`` of region ``key``'s app: 200 or not (called with the world lock held)."""
        app = self.world.apps.get(key)
        if app is None or not self.world.regions[key].up or path != app.health_path:
            return False
        return _health(self.world, app, now).status == 200

    async def _handle(self, key: str, req: Request) -> Response:
        started = time.perf_counter()
        op = _op(self.world.apps[key], req.path)
        response = await self._answer(key, req)
        self.world.log_request(
            {
                "service": Service.APP.value,
                "method": req.method,
                "path": req.raw_path,
                "status": response.status,
                "time": iso(req.received_at),
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "region": key,
                "host": req.host,
                "op": op.value if op is not None else None,
            }
        )
        return response

    async def _answer(self, key: str, req: Request) -> Response:
        app = self.world.apps[key]
        op = _op(app, req.path)
        if op is None or req.method not in ("GET", "HEAD"):
            return json_response(404, {"error": "not found", "region": key})
        fault = self.world.faults.take_error(op)
        if fault is not None:
            status = getattr(fault, "status", 429)
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return json_response(
                status, {"status": "error", "region": key, "code": getattr(fault, "code", "Throttled")}, headers
            )
        delay = self.world.faults.latency(op)
        if delay > 0:
            await asyncio.sleep(delay)
        with self.world.lock:
            now = self.world.advance()
            if op is OpKind.APP_HEALTH:
                return _health(self.world, app, now)
            return _replication(self.world, app, now)


def _op(app: AppState, path: str) -> OpKind | None:
    if path == app.health_path:
        return OpKind.APP_HEALTH
    if app.replication_path is not None and path == app.replication_path:
        return OpKind.APP_REPLICATION
    return None


def _health(world: World, app: AppState, now: float) -> Response:
    sites = {n: web.state(world, n).value for n in app.web_apps}
    scale = {n: compute.capacity(world, n) for n in app.scale_sets}
    database = sql.app_database(world, app.group, app.region, now)
    checks: dict[str, Any] = {
        "web_apps": {
            "status": "ok" if all(s == WebAppState.RUNNING.value for s in sites.values()) else "stopped",
            "detail": sites,
        },
        "scale_sets": {"status": "ok" if all(c > 0 for c in scale.values()) else "no_instances", "detail": scale},
    }
    aks = containerservice.region_health(world, app.region, now)
    if aks is not None:
        checks["aks"] = aks
    if database:
        checks["database"] = {
            "status": "ok" if database["reachable"] else "unreachable",
            "failover_group": database["failover_group"],
            "primary_region": database["primary_region"],
        }
    healthy = all(c["status"] == "ok" for c in checks.values())
    body: dict[str, Any] = {
        "status": "healthy" if healthy else "unhealthy",
        "region": app.region,
        "location": world.regions[app.region].location,
        "time": iso(now),
        "checks": checks,
        "role": database.get("role"),
        "server": database.get("server"),
        "last_committed_write": database.get("last_committed_write"),
    }
    return json_response(200 if healthy else 503, body, {"Cache-Control": "no-store"})


def _replication(world: World, app: AppState, now: float) -> Response:
    database = sql.app_database(world, app.group, app.region, now)
    if not database:
        return json_response(404, {"error": "no database in this region", "region": app.region})
    return json_response(
        200,
        {
            "region": app.region,
            "server": database["server"],
            "role": database["role"],
            "last_committed_write": database["last_committed_write"],
            "failover_group": database["failover_group"],
            "time": iso(now),
        },
        {"Cache-Control": "no-store"},
    )


async def _start_again(server: HttpServer, host: str, port: int) -> None:
    # the port was ours a moment ago; a client's TIME_WAIT does not block a listener with SO_REUSEADDR
    for _ in range(50):
        try:
            await server.start(host, port)
            return
        except OSError:
            await asyncio.sleep(0.05)
    await server.start(host, port)
