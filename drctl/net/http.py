"""Small HTTP(S) client on urllib3: real host names for TLS and Host, connected where the run's ``NetworkConfig``
says (``DRCTL_RESOLVE``), trusting its CA bundle."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import urllib3

from drctl.net.config import NetworkConfig


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    seconds: float
    headers: dict[str, str]


class HttpError(Exception):
    """The request did not produce a response: refused, reset, timed out, bad TLS.

    ``maybe_received``: the request was sent and the answer never came (a read timeout, a connection dropped
    mid-answer), so the server may have acted on it: a message may have been delivered.
    """

    def __init__(self, message: str, *, maybe_received: bool = False) -> None:
        super().__init__(message)
        self.maybe_received = maybe_received


class Client:
    """Keeps one connection pool per origin, so repeated samples measure the service, not TCP and TLS set-up."""

    def __init__(self, *, timeout: float = 5.0, network: NetworkConfig | None = None) -> None:
        self.timeout = timeout
        #: None: no overrides (the system's DNS and trust store), as a run outside any sandbox
        self.network = network or NetworkConfig()
        self._pools: dict[tuple[str, str, int], urllib3.HTTPConnectionPool] = {}

    def _pool(self, scheme: str, host: str, port: int) -> urllib3.HTTPConnectionPool:
        key = (scheme, host, port)
        if key not in self._pools:
            addr, addr_port = self.network.connect_address(host, port)
            timeout = urllib3.Timeout(connect=self.timeout, read=self.timeout)
            if scheme == "https":
                self._pools[key] = urllib3.HTTPSConnectionPool(
                    addr,
                    addr_port,
                    timeout=timeout,
                    retries=False,
                    ssl_context=self.network.tls_context(),
                    server_hostname=host,
                    assert_hostname=host,
                    maxsize=4,
                )
            else:
                self._pools[key] = urllib3.HTTPConnectionPool(
                    addr, addr_port, timeout=timeout, retries=False, maxsize=4
                )
        return self._pools[key]

    def request(
        self, method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise HttpError(f"not an http(s) URL: {redact_url(url)}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        sent = {"Host": host_header, "User-Agent": "drctl", **(headers or {})}
        started = time.perf_counter()
        try:
            raw = self._pool(parts.scheme, parts.hostname, port).urlopen(
                method, path, body=body, headers=sent, retries=False, redirect=False
            )
        except urllib3.exceptions.HTTPError as exc:
            received = isinstance(exc, urllib3.exceptions.ReadTimeoutError | urllib3.exceptions.ProtocolError)
            raise HttpError(f"{method} {redact_url(url)}: {_reason(exc)}", maybe_received=received) from None
        elapsed = time.perf_counter() - started
        text = raw.data.decode("utf-8", "replace")
        return Response(raw.status, text, elapsed, {k.lower(): v for k, v in raw.headers.items()})

    def post_json(self, url: str, payload: Any, *, headers: dict[str, str] | None = None) -> Response:
        return self.request(
            "POST",
            url,
            body=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()


def redact_url(url: str) -> str:
    """Scheme, host and first path segment only: webhook URLs carry their secret in the path or query."""
    parts = urlsplit(url)
    first = (parts.path or "/").split("/")[1] if parts.path else ""
    tail = "/..." if parts.path.count("/") > 1 or parts.query else ""
    return f"{parts.scheme}://{parts.hostname}/{first}{tail}"


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None)
    text = str(reason or exc)
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    if "timed out" in text.lower():
        return "timed out"
    return text.split(": ", 1)[-1][:200]
