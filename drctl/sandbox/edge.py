"""The Front Door edge: a request to an AFD endpoint's public host name, routed as Front Door routes it.

It is served on the main HTTPS port (Front Door is global: no region outage closes it), under the endpoint's
host name (the sandbox certificate covers it; ``DRCTL_RESOLVE`` maps ``<host>:443`` there). The edge takes the
endpoint's origin group, keeps the origins that are enabled in the configuration it has (the one in force a
propagation delay ago), and sends the request to the best priority whose region is up and whose app answers
the group's health probe with 200, as Front Door's health probes do. When every enabled origin is unhealthy
Front Door still sends to them (it treats all as healthy): the best reachable one answers, its 503 included;
when none is reachable the edge answers 503 itself.

What a client sees is what it sees from Front Door: the origin's answer (the sandbox app's body names its
region), ``X-Azure-Ref`` and ``X-Cache``. ``x-drctl-origin`` and ``x-drctl-origin-region`` are sandbox
diagnostics for tests; drctl itself never reads them.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import TYPE_CHECKING

from drctl.sandbox.clock import iso
from drctl.sandbox.http import Request, Response, json_response, text_response
from drctl.sandbox.ops import OpKind, Service
from drctl.sandbox.providers.cdn import provider as cdn

if TYPE_CHECKING:
    from drctl.sandbox.apps import AppEndpoints
    from drctl.sandbox.state import World


class FrontDoorEdge:
    def __init__(self, world: World, apps: AppEndpoints) -> None:
        self.world = world
        self._apps = apps

    def matches(self, host: str) -> bool:
        with self.world.lock:
            return cdn.endpoint_for(self.world, host) is not None

    async def handle(self, req: Request) -> Response:
        started = time.perf_counter()
        response, origin, region = await self._route(req)
        response.headers["X-Azure-Ref"] = f"0{secrets.token_hex(16)}"
        response.headers.setdefault("X-Cache", "CONFIG_NOCACHE")
        if origin is not None:
            response.headers["x-drctl-origin"] = origin
            response.headers["x-drctl-origin-region"] = region or ""
        self.world.log_request(
            {
                "service": Service.FRONTDOOR.value,
                "method": req.method,
                "path": req.raw_path,
                "status": response.status,
                "time": iso(req.received_at),
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "host": req.host,
                "origin": origin,
                "region": region,
                "op": OpKind.AFD_EDGE.value,
            }
        )
        return response

    async def _route(self, req: Request) -> tuple[Response, str | None, str | None]:
        fault = self.world.faults.take_error(OpKind.AFD_EDGE)
        if fault is not None:
            return json_response(getattr(fault, "status", 503), {"error": "edge fault"}), None, None
        delay = self.world.faults.latency(OpKind.AFD_EDGE)
        if delay > 0:
            await asyncio.sleep(delay)
        with self.world.lock:
            now = self.world.advance()
            found = cdn.endpoint_for(self.world, req.host)
            if found is None:
                return text_response(404, "Page not found"), None, None
            profile, endpoint = found
            if not endpoint.enabled:
                return text_response(404, "Page not found"), None, None
            probe, origins = cdn.candidates(self.world, profile, endpoint, now)
            reachable = [
                o
                for o in origins
                if o.region in self.world.regions and self.world.regions[o.region].up and o.region in self.world.apps
            ]
            healthy = [o for o in reachable if self._apps.probe(o.region, probe, now)]
        chosen = healthy[0] if healthy else (reachable[0] if reachable else None)
        if chosen is None:
            body = "Our services aren't available right now. (no origin of the origin group answers)"
            return text_response(503, body), None, None
        answer = await self._apps.forward(chosen.region, req)
        return answer, chosen.name, chosen.region
