"""An authoritative DNS server on loopback (UDP and TCP, same port) serving the emulated zones live.

Answers as Azure DNS's name servers would: AA set for names in a zone, SOA and NS at the apex, NXDOMAIN (with
the SOA) for unknown names, NODATA for known names without the asked type, CNAME chains followed inside the
zones, REFUSED for names outside every zone. Record changes show after the DNS propagation delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from typing import cast

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from drctl.sandbox.clock import iso
from drctl.sandbox.ops import Service
from drctl.sandbox.providers.dns.data import NAME_SERVERS, NS_TTL, SOA_EMAIL, SOA_TIMERS, SOA_TTL, Version, Zone
from drctl.sandbox.providers.dns.provider import zones
from drctl.sandbox.state import World

log = logging.getLogger("drctl.sandbox.dns")
_MAX_CHAIN = 8


class DnsServer:
    def __init__(self, world: World) -> None:
        self.world = world
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self, host: str, port: int) -> int:
        loop = asyncio.get_running_loop()
        attempts = 20 if port == 0 else 1
        for attempt in range(attempts):
            transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(self), local_addr=(host, port))
            bound = int(transport.get_extra_info("sockname")[1])
            try:
                self._tcp = await asyncio.start_server(self._serve_tcp, host, bound, reuse_address=True)
            except OSError:
                transport.close()
                if attempt == attempts - 1:
                    raise
                continue
            self._udp = transport
            self.port = bound
            return bound
        raise OSError("no free port for DNS")  # pragma: no cover - the loop returns or raises

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._tcp is not None:
            self._tcp.close()
            for writer in list(self._connections):  # an open TCP query connection ends its handler, not a cancel
                writer.transport.abort()
            self._connections.clear()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._tcp.wait_closed(), 2)
            self._tcp = None

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while True:
                size = struct.unpack("!H", await reader.readexactly(2))[0]
                reply = self.answer(await reader.readexactly(size), transport="tcp")
                if reply is None:
                    break
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            # the sandbox is shutting down; a connection handler is the top of its task, and Python 3.11's
            # streams print a traceback for a cancelled one (task.exception() in their done callback)
            pass
        finally:
            self._connections.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    def answer(self, wire: bytes, *, transport: str) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return _formerr(wire)
        response = dns.message.make_response(query)
        qname, qtype = "", ""
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
        elif len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
        else:
            question = query.question[0]
            qname, qtype = question.name.to_text(), dns.rdatatype.to_text(question.rdtype)
            if question.rdclass != dns.rdataclass.IN:
                response.set_rcode(dns.rcode.REFUSED)
            else:
                self._resolve(response, question.name, question.rdtype)
        self.world.log_request(
            {
                "service": Service.DNS.value,
                "method": "QUERY",
                "path": f"{qname} {qtype}".strip(),
                "status": dns.rcode.to_text(response.rcode()),
                "op": "dns.query",
                "time": iso(self.world.now()),
                "transport": transport,
            }
        )
        limit = 65535 if transport == "tcp" else max(512, query.payload if query.edns >= 0 else 512)
        try:
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            truncated = dns.message.make_response(query)
            truncated.flags |= dns.flags.TC | dns.flags.AA
            return truncated.to_wire()

    def _resolve(self, response: dns.message.Message, qname: dns.name.Name, qtype: dns.rdatatype.RdataType) -> None:
        with self.world.lock:
            now = self.world.now()
            if self._served_by_a_service(response, qname, qtype):
                return
            zone = self._zone_for(qname)
            if zone is None:
                response.set_rcode(dns.rcode.REFUSED)
                return
            response.flags |= dns.flags.AA
            nodes = _nodes(zone, zone.served(now))
            name = qname
            for _ in range(_MAX_CHAIN):
                rel = _relative(zone, name)
                node = nodes.get(rel)
                if node is None:
                    if any(key.endswith("." + rel) for key in nodes if rel != "@"):
                        response.authority.append(_soa(zone, negative=True))  # empty non-terminal: NODATA
                    else:
                        response.set_rcode(dns.rcode.NXDOMAIN)
                        response.authority.append(_soa(zone, negative=True))
                    return
                if qtype == dns.rdatatype.ANY:
                    response.answer.extend(node.values())
                    return
                wanted = dns.rdatatype.to_text(qtype)
                if wanted in node:
                    response.answer.append(node[wanted])
                    return
                cname = node.get("CNAME")
                if cname is None:
                    response.authority.append(_soa(zone, negative=True))
                    return
                response.answer.append(cname)
                name = dns.name.from_text(cname[0].to_text())
                next_zone = self._zone_for(name)
                if next_zone is None:
                    return  # the chain leaves our zones: the resolver follows it elsewhere
                if next_zone is not zone:
                    zone, nodes = next_zone, _nodes(next_zone, next_zone.served(now))

    def _served_by_a_service(
        self, response: dns.message.Message, qname: dns.name.Name, qtype: dns.rdatatype.RdataType
    ) -> bool:
        """A name another service answers for (Traffic Manager's ``*.trafficmanager.net``), asked through the
        registry so this provider imports none of them: its CNAME or A records, or NXDOMAIN."""
        from drctl.sandbox.registry import PROVIDERS

        text = qname.to_text().rstrip(".").lower()
        for provider in PROVIDERS:
            found = provider.dns_answer(self.world, text)
            if found is None:
                continue
            response.flags |= dns.flags.AA
            owner = qname.to_text()
            if found.cname is not None:
                if qtype in (dns.rdatatype.CNAME, dns.rdatatype.A, dns.rdatatype.AAAA, dns.rdatatype.ANY):
                    response.answer.append(
                        dns.rrset.from_text_list(owner, found.ttl, "IN", "CNAME", [_rdata("CNAME", found.cname)])
                    )
            elif found.addresses:
                if qtype in (dns.rdatatype.A, dns.rdatatype.ANY):
                    response.answer.append(dns.rrset.from_text_list(owner, found.ttl, "IN", "A", list(found.addresses)))
            else:
                response.set_rcode(dns.rcode.NXDOMAIN)
            return True
        return False

    def _zone_for(self, qname: dns.name.Name) -> Zone | None:
        text = qname.to_text().rstrip(".").lower()
        best: Zone | None = None
        for zone in zones(self.world):
            if (text == zone.name or text.endswith("." + zone.name)) and (
                best is None or len(zone.name) > len(best.name)
            ):
                best = zone
        return best


def _relative(zone: Zone, name: dns.name.Name) -> str:
    text = name.to_text().rstrip(".").lower()
    return "@" if text == zone.name else text[: -len(zone.name) - 1]


def _nodes(zone: Zone, served: dict[tuple[str, str], Version]) -> dict[str, dict[str, dns.rrset.RRset]]:
    nodes: dict[str, dict[str, dns.rrset.RRset]] = {
        "@": {
            "SOA": _soa(zone, negative=False),
            "NS": dns.rrset.from_text_list(f"{zone.name}.", NS_TTL, "IN", "NS", list(NAME_SERVERS)),
        },
    }
    for (name, rtype), version in served.items():
        owner = zone.fqdn(name)
        assert version.values is not None
        nodes.setdefault(name, {})[rtype] = dns.rrset.from_text_list(
            owner, version.ttl, "IN", rtype, [_rdata(rtype, v) for v in version.values]
        )
    return nodes


def _rdata(rtype: str, value: str) -> str:
    if rtype == "CNAME":
        return value if value.endswith(".") else value + "."
    if rtype == "TXT":
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return " ".join(f'"{escaped[i : i + 255]}"' for i in range(0, max(len(escaped), 1), 255))
    return value


def _soa(zone: Zone, *, negative: bool) -> dns.rrset.RRset:
    timers = SOA_TIMERS
    text = (
        f"{NAME_SERVERS[0]} {SOA_EMAIL} {zone.serial} {timers['refreshTime']} {timers['retryTime']} "
        f"{timers['expireTime']} {timers['minimumTTL']}"
    )
    ttl = min(SOA_TTL, timers["minimumTTL"]) if negative else SOA_TTL
    return dns.rrset.from_text_list(f"{zone.name}.", ttl, "IN", "SOA", [text])


def _formerr(wire: bytes) -> bytes | None:
    if len(wire) < 12:
        return None
    # echo the id, set QR, rcode FORMERR, no sections
    flags = 0x8000 | dns.rcode.FORMERR
    return wire[:2] + struct.pack("!HHHHH", flags, 0, 0, 0, 0)


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        try:
            reply = self.server.answer(data, transport="udp")
        except Exception:
            log.exception("DNS answer failed")
            return
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)
