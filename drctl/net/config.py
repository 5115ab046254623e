"""Where drctl's own network I/O connects and what it trusts: one frozen value per run, never global state.

Built once when a run starts, from the environment of a real run or from the sandbox's (``Sandbox.env()``), and
handed to what opens connections (``net.http.Client``, ``net.smtp.send``, DNS queries); two values (two
sandboxes) can live in one process without either seeing the other's settings.

Read from:
- ``DRCTL_RESOLVE=host:port=addr:port,...``: connect ``host:port`` to another address while keeping the real
  name for TLS and the Host header (curl ``--resolve``);
- ``REQUESTS_CA_BUNDLE``: an extra CA to trust (the sandbox's self-made CA);
- ``DRCTL_DNS_NAMESERVER=addr[:port],...``: ask these servers instead of a zone's own name servers.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from drctl.errors import UsageError

Address = tuple[str, int]


def parse_overrides(text: str) -> dict[Address, Address]:
    found: dict[Address, Address] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            left, right = item.split("=", 1)
            host, port = left.rsplit(":", 1)
            addr, addr_port = right.rsplit(":", 1)
            found[(host.lower(), int(port))] = (addr.strip("[]"), int(addr_port))
        except ValueError:
            raise UsageError(f"DRCTL_RESOLVE entry {item!r} is not host:port=address:port") from None
    return found


def parse_nameservers(text: str) -> tuple[Address, ...] | None:
    """``addr[:port],...`` (port 53 when absent); None when empty: ask the zone's own name servers."""
    servers: list[Address] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        host, _, port = item.rpartition(":")
        try:
            servers.append((host, int(port)) if host and port else (item, 53))
        except ValueError:
            raise UsageError(f"DRCTL_DNS_NAMESERVER entry {item!r} is not address[:port]") from None
    return tuple(servers) or None


@cache
def _context(bundle: str | None) -> ssl.SSLContext:
    # one context per bundle: building one reads the system trust store, too slow for every probe
    context = ssl.create_default_context()
    if bundle:
        context.load_verify_locations(cafile=bundle)
    return context


@dataclass(frozen=True)
class NetworkConfig:
    """No overrides by default: the system's trust store, DNS and name servers, as in production."""

    ca_bundle: str | None = None
    #: ((host lower-case, port), (address, port)) pairs: a tuple, so the value stays hashable and frozen
    resolve: tuple[tuple[Address, Address], ...] = ()
    #: replace a zone's authoritative name servers (the sandbox's DNS server); None: the zone's own
    dns_servers: tuple[Address, ...] | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> NetworkConfig:
        return cls(
            ca_bundle=environ.get("REQUESTS_CA_BUNDLE") or None,
            resolve=tuple(parse_overrides(environ.get("DRCTL_RESOLVE", "")).items()),
            dns_servers=parse_nameservers(environ.get("DRCTL_DNS_NAMESERVER", "")),
        )

    def connect_address(self, host: str, port: int) -> Address:
        """Where to connect for ``host:port``: the override's address, else the name itself."""
        key = (host.lower(), port)
        for name, address in self.resolve:
            if name == key:
                return address
        return (host, port)

    def tls_context(self) -> ssl.SSLContext:
        """The system's trust store, plus the CA bundle when there is one."""
        return _context(self.ca_bundle)
