"""Ask a zone's authoritative name servers directly, the way clients' resolvers will: what do they answer now?

``NetworkConfig.dns_servers`` (``DRCTL_DNS_NAMESERVER=addr:port``) replaces the zone's name servers (the sandbox's
DNS server).
"""

from __future__ import annotations

from dataclasses import dataclass

from drctl.net.config import NetworkConfig


@dataclass(frozen=True)
class Answer:
    server: str
    values: tuple[str, ...]
    ttl: int | None
    error: str | None = None


def override(network: NetworkConfig) -> list[tuple[str, int]] | None:
    """The servers to ask instead of the zone's own, or None."""
    return list(network.dns_servers) if network.dns_servers else None


def delegated_name_servers(zone: str, *, timeout: float = 5.0) -> list[str]:
    """The NS names the system resolver gives for ``zone`` (``trafficmanager.net``'s are Microsoft's), or none."""
    import dns.exception
    import dns.resolver

    try:
        answer = dns.resolver.resolve(zone.rstrip(".") + ".", "NS", lifetime=timeout)
    except (dns.exception.DNSException, OSError):
        return []
    return sorted(str(getattr(r, "target", r)) for r in answer)


def server_addresses(name_servers: list[str]) -> list[tuple[str, int]]:
    """Resolve the zone's name server host names (``ns1-01.azure-dns.com.``) with the system resolver."""
    import socket

    found: list[tuple[str, int]] = []
    for name in name_servers:
        try:
            infos = socket.getaddrinfo(name.rstrip("."), 53, proto=socket.IPPROTO_UDP)
        except OSError:
            continue
        found.extend((str(info[4][0]), 53) for info in infos[:1])
    return found


def query(fqdn: str, kind: str, server: tuple[str, int], *, timeout: float = 2.0) -> Answer:
    """One non-recursive question to one server, UDP falling back to TCP when truncated."""
    import dns.exception
    import dns.flags
    import dns.message
    import dns.query
    import dns.rcode
    import dns.rdatatype

    label = f"{server[0]}:{server[1]}"
    message = dns.message.make_query(fqdn.rstrip(".") + ".", kind)
    message.flags &= ~dns.flags.RD
    try:
        response, _ = dns.query.udp_with_fallback(message, server[0], port=server[1], timeout=timeout)
    except (dns.exception.DNSException, OSError) as exc:
        return Answer(label, (), None, f"{type(exc).__name__}: {exc}")
    if response.rcode() != dns.rcode.NOERROR:
        return Answer(label, (), None, dns.rcode.to_text(response.rcode()))
    wanted = dns.rdatatype.from_text(kind)
    for rrset in response.answer:
        if rrset.rdtype == wanted:
            values = tuple(sorted(_text(r, kind) for r in rrset))
            return Answer(label, values, rrset.ttl)
    return Answer(label, (), None, "no answer of that type")


def _text(rdata: object, kind: str) -> str:
    if kind == "CNAME":
        return str(getattr(rdata, "target", rdata)).rstrip(".")
    return str(getattr(rdata, "address", rdata))
