"""``DRCTL_RESOLVE=host:port=addr:port,...``: where to connect for a name, like curl's --resolve."""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from functools import cache

from drctl.errors import UsageError


def parse_overrides(text: str) -> dict[tuple[str, int], tuple[str, int]]:
    found: dict[tuple[str, int], tuple[str, int]] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            left, right = item.split("=", 1)
            host, port = left.rsplit(":", 1)
            addr, addr_port = right.rsplit(":", 1)
            found[(host.lower(), int(port))] = (addr.strip("[]"), int(addr_port))
        except ValueError:
            raise UsageError(f"DRCTL_RESOLVE entry {item!r} is not host:port=address:port") from None
    return found


def connect_address(host: str, port: int, environ: Mapping[str, str] | None = None) -> tuple[str, int]:
    env = os.environ if environ is None else environ
    overrides = parse_overrides(env.get("DRCTL_RESOLVE", ""))
    return overrides.get((host.lower(), port), (host, port))


@cache
def _context(bundle: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if bundle:
        context.load_verify_locations(cafile=bundle)
    return context


def tls_context(environ: Mapping[str, str] | None = None) -> ssl.SSLContext:
    """The system's trust store, plus ``REQUESTS_CA_BUNDLE`` when set (the sandbox's CA)."""
    env = os.environ if environ is None else environ
    return _context(env.get("REQUESTS_CA_BUNDLE") or None)
