"""The Entra ID front on the main port: the token issuer behind the ``token`` faults and the request log.

``token_endpoint_down`` drops every connection (discovery included); error and latency faults act on token
requests (POST) only, so a test can fail "the next token" without breaking MSAL's discovery first.
"""

from __future__ import annotations

import asyncio
import time

from drctl.sandbox.clock import iso
from drctl.sandbox.http import Request, Response, json_response
from drctl.sandbox.ops import OpKind, Service
from drctl.sandbox.state import World
from drctl.sandbox.tokens import TokenIssuer


class EntraFront:
    def __init__(self, world: World, tokens: TokenIssuer) -> None:
        self.world = world
        self.tokens = tokens

    async def handle(self, req: Request) -> Response:
        started = time.perf_counter()
        if self.world.faults.token_endpoint_down():
            response = Response(0, drop=True)
        elif req.method == "POST":
            response = await self._token_with_faults(req)
        else:
            response = self.tokens.handle(req)
        # never the form: it carries the client secret
        self.world.log_request(
            {
                "service": Service.TOKEN.value,
                "method": req.method,
                "path": req.raw_path,
                "status": response.status if not response.drop else None,
                "op": OpKind.TOKEN.value,
                "time": iso(req.received_at),
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "client_request_id": req.headers.get("client-request-id"),
            }
        )
        return response

    async def _token_with_faults(self, req: Request) -> Response:
        fault = self.world.faults.take_error(OpKind.TOKEN)
        if fault is not None:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            code = getattr(fault, "code", "throttled")
            body = {
                "error": "temporarily_unavailable",
                "error_description": f"AADSTS90033: A transient error has occurred (sandbox fault {code}).",
                "error_codes": [90033],
            }
            return json_response(getattr(fault, "status", 429), body, headers)
        delay = self.world.faults.latency(OpKind.TOKEN)
        if delay > 0:
            await asyncio.sleep(delay)
        return self.tokens.handle(req)
