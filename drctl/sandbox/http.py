"""A small HTTP/1.1 server on asyncio streams with TLS and keep-alive.

Why not ``http.server``: one event loop serves ARM, the token endpoint, the admin API, every region's app
listener, DNS and SMTP without a thread per connection; latency faults are ``asyncio.sleep`` that block
nothing, and stopping a region's listener (connection refused) is closing one server. The Azure SDK
(requests/urllib3) keeps connections alive, so the TLS handshake is paid once per client connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote

log = logging.getLogger("drctl.sandbox.http")

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass(slots=True)
class Request:
    method: str
    #: the path as sent (still percent-encoded), without the query string
    raw_path: str
    query: dict[str, str]
    #: header names lower-cased
    headers: dict[str, str]
    body: bytes
    local_port: int
    received_at: float = field(default_factory=time.time)

    @property
    def path(self) -> str:
        return unquote(self.raw_path)

    @property
    def host(self) -> str:
        """``Host`` as sent (e.g. ``127.0.0.1:8443``), used to build absolute URLs back to the sandbox."""
        return self.headers.get("host") or f"127.0.0.1:{self.local_port}"

    def param(self, name: str) -> str | None:
        """A query parameter, matched case-insensitively as ARM does (``$expand``, ``api-version``...)."""
        wanted = name.lower()
        for key, value in self.query.items():
            if key.lower() == wanted:
                return value
        return None

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body)


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    #: close the connection without answering (an endpoint that is "down")
    drop: bool = False


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(status, body, dict(headers or {}), "application/json; charset=utf-8")


def text_response(status: int, text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, text.encode(), dict(headers or {}), "text/plain; charset=utf-8")


Handler = Callable[[Request], Awaitable[Response]]


class _BadRequest(Exception):
    pass


class _DateCache:
    """``formatdate`` costs more than the rest of a small response: compute it once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._value = ""

    def get(self) -> str:
        now = int(time.time())
        if now != self._second:
            self._second, self._value = now, formatdate(now, usegmt=True)
        return self._value


_DATE = _DateCache()


class HttpServer:
    """One listening socket; ``stop`` closes it and drops every open connection (connection refused after)."""

    def __init__(self, handler: Handler, ssl_context: ssl.SSLContext, name: str) -> None:
        self._handler = handler
        self._ssl = ssl_context
        self.name = name
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(
            self._serve,
            host,
            port,
            ssl=self._ssl,
            limit=MAX_HEADER_BYTES,
            backlog=512,
            reuse_address=True,
            ssl_handshake_timeout=10,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for writer in list(self._connections):
            writer.transport.abort()
        self._connections.clear()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while True:
                request, keep_alive = await self._read_request(reader, writer)
                if request is None:
                    break
                try:
                    response = await self._handler(request)
                except Exception:
                    log.exception("sandbox handler failed on %s %s", request.method, request.raw_path)
                    response = json_response(
                        500, {"error": {"code": "InternalServerError", "message": "The sandbox failed; see its log."}}
                    )
                if response.drop:
                    writer.transport.abort()
                    break
                writer.write(_serialize(response, keep_alive, head_only=request.method == "HEAD"))
                await writer.drain()
                if not keep_alive:
                    break
        except _BadRequest as exc:
            with contextlib.suppress(Exception):
                writer.write(_serialize(text_response(400, f"{exc}\n"), False, head_only=False))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, TimeoutError, OSError):
            pass
        except asyncio.CancelledError:
            # the sandbox is shutting down (a handler was still waiting, e.g. on a latency fault); a connection
            # handler is the top of its task, and Python 3.11's streams print a traceback for a cancelled one
            pass
        finally:
            self._connections.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    async def _read_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[Request | None, bool]:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None, False
        except asyncio.LimitOverrunError:
            raise _BadRequest("request header too large") from None
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            raise _BadRequest("malformed request line") from None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep:
                raise _BadRequest("malformed header line")
            headers[name.strip().lower()] = value.strip()
        connection = headers.get("connection", "").lower()
        keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
        if headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = await _read_body(reader, headers)
        raw_path, _, query = target.partition("?")
        sock = writer.get_extra_info("sockname")
        request = Request(
            method=method.upper(),
            raw_path=raw_path,
            query=dict(parse_qsl(query, keep_blank_values=True)),
            headers=headers,
            body=body,
            local_port=sock[1] if sock else 0,
        )
        return request, keep_alive


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks = bytearray()
        while True:
            size_line = await reader.readuntil(b"\r\n")
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequest("malformed chunk size") from None
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                return bytes(chunks)
            if len(chunks) + size > MAX_BODY_BYTES:
                raise _BadRequest("request body too large")
            chunks += await reader.readexactly(size)
            await reader.readexactly(2)
    length_text = headers.get("content-length")
    if not length_text:
        return b""
    try:
        length = int(length_text)
    except ValueError:
        raise _BadRequest("malformed Content-Length") from None
    if length < 0 or length > MAX_BODY_BYTES:
        raise _BadRequest("request body too large")
    return await reader.readexactly(length) if length else b""


def _serialize(response: Response, keep_alive: bool, *, head_only: bool) -> bytes:
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = "Status"
    parts = [f"HTTP/1.1 {response.status} {reason}", f"Date: {_DATE.get()}"]
    if response.content_type and response.body:
        parts.append(f"Content-Type: {response.content_type}")
    parts.append(f"Content-Length: {len(response.body)}")
    if not keep_alive:
        parts.append("Connection: close")
    parts.extend(f"{name}: {value}" for name, value in response.headers.items())
    head = ("\r\n".join(parts) + "\r\n\r\n").encode("latin-1")
    return head if head_only else head + response.body
