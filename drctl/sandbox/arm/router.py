"""The ARM front: authentication, routing (case-insensitive), api-version, faults, headers and the request log.

Order per request, as Azure's layers apply them: ``/metadata/endpoints`` (no token), bearer token (401, also
for a token issued for another resource), route and api-version (404/400),
subscription and resource group (404), injected faults (error, throttle, latency), then the provider handler
under the world lock. Every answer carries ``x-ms-request-id`` and ``x-ms-correlation-request-id`` (the
client's when it sent one), and echoes ``x-ms-client-request-id``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any
from urllib.parse import unquote

from drctl.sandbox.arm import metadata, operations
from drctl.sandbox.arm.core import API_VERSION, ArmError, Ctx, Route
from drctl.sandbox.clock import iso
from drctl.sandbox.faults import ThrottleFault
from drctl.sandbox.http import Request, Response
from drctl.sandbox.ops import LRO_KINDS, OpKind, Service
from drctl.sandbox.providers.resources.provider import resource_groups
from drctl.sandbox.providers.resources.routes import fallback
from drctl.sandbox.registry import PROVIDERS
from drctl.sandbox.state import World
from drctl.sandbox.tokens import TokenCheck, TokenIssuer

_AUTH_MESSAGES = {
    TokenCheck.MISSING: ("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."),
    TokenCheck.INVALID: ("InvalidAuthenticationToken", "The access token is invalid."),
    TokenCheck.EXPIRED: (
        "ExpiredAuthenticationToken",
        "The access token expiry UTC time is earlier than current UTC time.",
    ),
    TokenCheck.WRONG_AUDIENCE: (
        "InvalidAuthenticationTokenAudience",
        "The access token has been obtained for wrong audience or resource '{audience}'. It should exactly match "
        "with one of the allowed audiences '{allowed}'.",
    ),
}


class ArmRouter:
    def __init__(self, world: World, tokens: TokenIssuer) -> None:
        self.world = world
        self.tokens = tokens
        self.routes: list[Route] = [
            *(route for provider in PROVIDERS for route in provider.routes()),
            *operations.routes(self),
        ]
        self._by_shape: dict[tuple[str, int], list[Route]] = {}
        for route in self.routes:
            self._by_shape.setdefault((route.method, len(route.segments)), []).append(route)

    async def handle(self, req: Request) -> Response:
        started = time.perf_counter()
        correlation = req.headers.get("x-ms-correlation-request-id") or str(uuid.uuid4())
        request_id = str(uuid.uuid4())
        op = OpKind.ARM_WRITE if req.method in ("PUT", "PATCH", "POST", "DELETE") else OpKind.ARM_READ
        try:
            op, response = await self._handle(req, op)
        except ArmError as exc:
            response = exc.response()
        headers = response.headers
        headers["x-ms-request-id"] = request_id
        headers["x-ms-correlation-request-id"] = correlation
        headers["x-ms-routing-request-id"] = f"SANDBOX:{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}:{request_id}"
        client_id = req.headers.get("x-ms-client-request-id")
        if client_id:
            headers["x-ms-client-request-id"] = client_id
        headers.setdefault("Cache-Control", "no-cache")
        headers["Pragma"] = "no-cache"
        headers["Expires"] = "-1"
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        headers["X-Content-Type-Options"] = "nosniff"
        if req.method in ("GET", "HEAD"):
            headers["x-ms-ratelimit-remaining-subscription-reads"] = "11999"
        else:
            headers["x-ms-ratelimit-remaining-subscription-writes"] = "1199"
        self.world.log_request(
            {
                "service": Service.ARM.value,
                "method": req.method,
                "path": req.raw_path,
                "query": dict(req.query),
                "status": response.status,
                "op": op.value,
                "time": iso(req.received_at),
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "request_id": request_id,
                "correlation_request_id": correlation,
                "client_request_id": client_id,
            }
        )
        return response

    async def _handle(self, req: Request, op: OpKind) -> tuple[OpKind, Response]:
        if metadata.matches(req.path):
            return OpKind.ARM_READ, metadata.handle(req)
        authorization = req.headers.get("authorization")
        audiences = metadata.arm_audiences(req.host)
        auth = self.tokens.check(authorization, audiences)
        if auth is not TokenCheck.VALID:
            code, message = _AUTH_MESSAGES[auth]
            message = message.format(
                audience=self.tokens.audience(authorization) or "", allowed=", ".join(a.rstrip("/") for a in audiences)
            )
            raise ArmError(
                401,
                code,
                message,
                headers={
                    "WWW-Authenticate": f'Bearer authorization_uri="https://{req.host}/", error="invalid_token", '
                    f'error_description="{message}"'
                },
            )
        segments = [unquote(s) for s in req.raw_path.split("/") if s]
        route, params = self._match(req.method, segments)
        if route is not None:
            op = route.op
        version = req.param("api-version")
        if version is None:
            raise ArmError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        if not API_VERSION.match(version):
            raise ArmError(
                400,
                "InvalidApiVersionParameter",
                f"The api-version '{version}' is invalid. The supported versions are those of the "
                "Azure REST API specifications (yyyy-mm-dd[-preview]).",
            )
        rg = self._check_scope(segments, req.method)
        if route is None:
            route, params, op = fallback(req.method, segments)
        try:
            await self._faults(op)
            with self.world.lock:
                now = self.world.advance()
                return op, route.handler(Ctx(self.world, req, params, op, now, rg=rg))
        except ArmError as exc:
            # keep the operation kind for the request log (faults and handler errors alike)
            return op, exc.response()

    def _match(self, method: str, segments: list[str]) -> tuple[Route | None, dict[str, str]]:
        lookups = ("HEAD", "GET") if method == "HEAD" else (method,)
        for lookup in lookups:
            for route in self._by_shape.get((lookup, len(segments)), ()):
                params = route.match(segments)
                if params is not None:
                    return route, params
        return None, {}

    def _check_scope(self, segments: list[str], method: str) -> str:
        """Subscription (404 SubscriptionNotFound) and resource group (404 ResourceGroupNotFound)."""
        lower = [s.lower() for s in segments]
        if len(lower) >= 2 and lower[0] == "subscriptions" and lower[1] != self.world.estate.subscription_id.lower():
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{segments[1]}' could not be found.")
        if len(lower) >= 4 and lower[2] == "resourcegroups":
            if method == "PUT" and len(lower) == 4:
                return segments[3]  # creating or updating the group itself
            with self.world.lock:
                group = resource_groups(self.world).get(lower[3])
            if group is None:
                raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{segments[3]}' could not be found.")
            return group[0]
        return ""

    async def _faults(self, op: OpKind) -> None:
        fault = self.world.faults.take_error(op)
        if isinstance(fault, ThrottleFault):
            raise ArmError(
                429,
                "TooManyRequests",
                "The request is being throttled as the limit has been reached for operation type "
                f"'{op.value}' (sandbox fault).",
                headers={"Retry-After": str(fault.retry_after)},
            )
        if fault is not None:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            raise ArmError(
                fault.status, fault.code, fault.message or f"Injected {fault.status} for {op.value}.", headers=headers
            )
        if op not in LRO_KINDS:
            delay = self.world.faults.latency(op)
            if delay > 0:
                await asyncio.sleep(delay)

    def render_get(self, ctx: Ctx, path: str) -> Response:
        """Answer a GET of ``path`` as if the client had asked it (the final result of an LRO)."""
        segments = [unquote(s) for s in path.split("?", maxsplit=1)[0].split("/") if s]
        route, params = self._match("GET", segments)
        if route is None:
            raise ArmError(404, "ResourceNotFound", f"The resource '{path}' was not found.")
        inner = Ctx(ctx.world, ctx.req, params, OpKind.ARM_READ, ctx.now, rg=self._rg_name(segments))
        return route.handler(inner)

    def _rg_name(self, segments: list[str]) -> str:
        if len(segments) >= 4 and segments[2].lower() == "resourcegroups":
            group = resource_groups(self.world).get(segments[3].lower())
            return group[0] if group else segments[3]
        return ""


def describe_routes(router: ArmRouter) -> list[dict[str, Any]]:
    return [{"method": r.method, "path": "/" + "/".join(r.segments), "op": r.op.value} for r in router.routes]
