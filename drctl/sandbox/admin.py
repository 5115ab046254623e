"""The admin API under ``/_sandbox/`` on the main HTTPS port (``Authorization: Bearer $DRCTL_SANDBOX_TOKEN``).

Every route is listed in ``docs/sandbox.md``. Errors are ``{"error": {"code", "message"}}`` with 400 (bad
input, e.g. an unknown fault kind), 401 (bad token), 404 (unknown route or name).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from drctl.errors import SandboxError
from drctl.sandbox import control
from drctl.sandbox.faults import RegionOutageFault, is_world_fault, parse_faults
from drctl.sandbox.http import Request, Response, json_response
from drctl.sandbox.ops import ControlPlane, RegionStatus, WebAppState
from drctl.sandbox.providers.dns import provider as dns
from drctl.sandbox.state import World

PREFIX = "/_sandbox"


class AdminHost(Protocol):
    world: World

    def env(self) -> dict[str, str]: ...

    def endpoints(self) -> dict[str, Any]: ...

    async def reconcile(self) -> None: ...

    async def reset_world(self) -> None: ...


class _Bad(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


Action = Callable[[Request, list[str]], Awaitable[Response]]


class AdminApi:
    def __init__(self, host: AdminHost, token: str) -> None:
        self.host = host
        self._token = token.encode()
        self._routes: list[tuple[str, tuple[str, ...], Action]] = [
            ("GET", ("state",), self._state),
            ("GET", ("env",), self._env),
            ("GET", ("endpoints",), self._endpoints),
            ("GET", ("faults",), self._faults),
            ("POST", ("faults",), self._add_faults),
            ("DELETE", ("faults",), self._clear_faults),
            ("DELETE", ("faults", "*"), self._remove_fault),
            ("POST", ("regions", "*"), self._region),
            ("POST", ("replication-lag",), self._lag),
            ("POST", ("dns", "propagation-delay"), self._dns_delay),
            ("PUT", ("dns", "*", "*", "*"), self._dns_put),
            ("DELETE", ("dns", "*", "*", "*"), self._dns_delete),
            ("POST", ("web-apps", "*", "state"), self._web_state),
            ("POST", ("scale-sets", "*", "capacity"), self._capacity),
            ("POST", ("failover-groups", "*", "primary"), self._primary),
            ("GET", ("webhooks",), self._webhooks),
            ("DELETE", ("webhooks",), self._clear_webhooks),
            ("GET", ("emails",), self._emails),
            ("DELETE", ("emails",), self._clear_emails),
            ("GET", ("requests",), self._requests),
            ("DELETE", ("requests",), self._clear_requests),
            ("GET", ("data-loss",), self._data_loss),
            ("GET", ("operations",), self._operations),
            ("POST", ("reset",), self._reset),
        ]

    @staticmethod
    def matches(path: str) -> bool:
        return path == PREFIX or path.startswith(PREFIX + "/")

    async def handle(self, req: Request) -> Response:
        parts = [p for p in req.path[len(PREFIX) :].split("/") if p]
        if parts == ["ping"] and req.method == "GET":
            return json_response(200, {"ok": True, "name": self.host.world.estate.name})
        if not self._authorized(req.headers.get("authorization")):
            return _error(
                401, "InvalidAdminToken", "The admin API needs 'Authorization: Bearer <DRCTL_SANDBOX_TOKEN>'."
            )
        try:
            for method, shape, action in self._routes:
                if (
                    method == req.method
                    and len(shape) == len(parts)
                    and all(s in ("*", p) for s, p in zip(shape, parts, strict=True))
                ):
                    return await action(req, parts)
            raise _Bad(404, "NotFound", f"no admin route {req.method} {req.path}")
        except _Bad as exc:
            return _error(exc.status, exc.code, exc.message)
        except SandboxError as exc:
            return _error(400 if "unknown" not in exc.message else 404, "InvalidRequest", exc.message)

    def _authorized(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and secrets.compare_digest(token.strip().encode(), self._token)

    @property
    def world(self) -> World:
        return self.host.world

    # ---- reading -------------------------------------------------------------------------------------
    async def _state(self, req: Request, parts: list[str]) -> Response:
        return json_response(200, control.snapshot(self.world))

    async def _env(self, req: Request, parts: list[str]) -> Response:
        return json_response(200, self.host.env())

    async def _endpoints(self, req: Request, parts: list[str]) -> Response:
        return json_response(200, self.host.endpoints())

    async def _faults(self, req: Request, parts: list[str]) -> Response:
        return json_response(
            200, {"active": self.world.faults.snapshot(), "dns_propagation_delay_seconds": dns.delay(self.world)}
        )

    async def _requests(self, req: Request, parts: list[str]) -> Response:
        with self.world.lock:
            entries = list(self.world.requests)
        for key in ("service", "method", "op"):
            wanted = req.param(key)
            if wanted:
                allowed = {w.strip().upper() if key == "method" else w.strip() for w in wanted.split(",")}
                entries = [e for e in entries if e.get(key) in allowed]
        return json_response(200, {"requests": entries})

    async def _webhooks(self, req: Request, parts: list[str]) -> Response:
        with self.world.lock:
            return json_response(200, {"webhooks": list(self.world.webhooks)})

    async def _emails(self, req: Request, parts: list[str]) -> Response:
        with self.world.lock:
            return json_response(200, {"emails": list(self.world.emails)})

    async def _data_loss(self, req: Request, parts: list[str]) -> Response:
        with self.world.lock:
            return json_response(200, {"data_loss": list(self.world.data_loss)})

    async def _operations(self, req: Request, parts: list[str]) -> Response:
        with self.world.lock:
            self.world.advance()
            return json_response(200, {"operations": self.world.operations.snapshot()})

    # ---- clearing ------------------------------------------------------------------------------------
    async def _clear_faults(self, req: Request, parts: list[str]) -> Response:
        return json_response(200, {"cleared": self.world.faults.clear()})

    async def _remove_fault(self, req: Request, parts: list[str]) -> Response:
        if not self.world.faults.remove(parts[1]):
            raise _Bad(404, "NotFound", f"no active fault {parts[1]!r}")
        return Response(204)

    async def _clear_requests(self, req: Request, parts: list[str]) -> Response:
        return json_response(200, {"cleared": _clear(self.world, self.world.requests)})

    async def _clear_webhooks(self, req: Request, parts: list[str]) -> Response:
        return json_response(200, {"cleared": _clear(self.world, self.world.webhooks)})

    async def _clear_emails(self, req: Request, parts: list[str]) -> Response:
        return json_response(200, {"cleared": _clear(self.world, self.world.emails)})

    async def _reset(self, req: Request, parts: list[str]) -> Response:
        await self.host.reset_world()
        return json_response(200, {"reset": True})

    # ---- changing ------------------------------------------------------------------------------------
    async def _add_faults(self, req: Request, parts: list[str]) -> Response:
        rules = parse_faults(_json(req), source="POST /_sandbox/faults")
        applied = [control.apply_fault(self.world, rule) for rule in rules]
        if any(is_world_fault(r) and isinstance(r, RegionOutageFault) for r in rules):
            await self.host.reconcile()
        return json_response(201, {"applied": applied})

    async def _region(self, req: Request, parts: list[str]) -> Response:
        body = _json(req) or {}
        try:
            status = RegionStatus(str(body.get("status", "")).lower())
            plane = ControlPlane(body["control_plane"]) if body.get("control_plane") else None
        except ValueError:
            raise _Bad(
                400,
                "InvalidRequest",
                'body: {"status": "up"|"down", "control_plane"?: "read_only"|"unavailable"|"available"}',
            ) from None
        control.set_region(self.world, parts[1], status, plane)
        await self.host.reconcile()
        region = self.world.regions[parts[1]]
        return json_response(
            200, {"region": region.key, "status": region.status.value, "control_plane": region.control_plane.value}
        )

    async def _lag(self, req: Request, parts: list[str]) -> Response:
        body = _json(req) or {}
        seconds = _number(body, "seconds")
        target = body.get("target")
        return json_response(
            200, {"targets": control.set_lag(self.world, seconds, str(target) if target else None), "seconds": seconds}
        )

    async def _dns_delay(self, req: Request, parts: list[str]) -> Response:
        seconds = _number(_json(req) or {}, "seconds")
        dns.set_delay(self.world, seconds)
        return json_response(200, {"seconds": seconds})

    async def _dns_put(self, req: Request, parts: list[str]) -> Response:
        body = _json(req) or {}
        values = body.get("values")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise _Bad(400, "InvalidRequest", 'body: {"ttl": int, "values": [str, ...]}')
        ttl = body.get("ttl", 300)
        if not isinstance(ttl, int) or ttl < 0:
            raise _Bad(400, "InvalidRequest", "ttl must be a non-negative integer")
        _, zone, rtype, name = parts
        return json_response(200, control.set_dns_record(self.world, zone, rtype, name, ttl=ttl, values=values))

    async def _dns_delete(self, req: Request, parts: list[str]) -> Response:
        _, zone, rtype, name = parts
        if not control.delete_dns_record(self.world, zone, rtype, name):
            raise _Bad(404, "NotFound", f"no {rtype} record set {name!r} in {zone}")
        return Response(204)

    async def _web_state(self, req: Request, parts: list[str]) -> Response:
        try:
            state = WebAppState(str((_json(req) or {}).get("state", "")))
        except ValueError:
            raise _Bad(400, "InvalidRequest", 'body: {"state": "Running"|"Stopped"}') from None
        control.set_web_app(self.world, parts[1], state)
        return json_response(200, {"name": parts[1], "state": state.value})

    async def _capacity(self, req: Request, parts: list[str]) -> Response:
        capacity = (_json(req) or {}).get("capacity")
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 0:
            raise _Bad(400, "InvalidRequest", 'body: {"capacity": int >= 0}')
        control.set_capacity(self.world, parts[1], capacity)
        return json_response(200, {"name": parts[1], "capacity": capacity})

    async def _primary(self, req: Request, parts: list[str]) -> Response:
        server = (_json(req) or {}).get("server")
        if not isinstance(server, str):
            raise _Bad(400, "InvalidRequest", 'body: {"server": "<server that becomes primary>"}')
        control.set_primary(self.world, parts[1], server)
        return json_response(200, {"failover_group": parts[1], "primary": server})


def _json(req: Request) -> Any:
    try:
        return req.json()
    except ValueError:
        raise _Bad(400, "InvalidRequest", "the body is not valid JSON") from None


def _number(body: Any, key: str) -> float:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise _Bad(400, "InvalidRequest", f'body: {{"{key}": number >= 0}}')
    return float(value)


def _clear(world: World, items: Any) -> int:
    with world.lock:
        count = len(items)
        items.clear()
    return count


def _error(status: int, code: str, message: str) -> Response:
    return json_response(status, {"error": {"code": code, "message": message}})
