"""DNS zones as ARM sees them (current record sets, ETags) and as the DNS server sees them (propagated).

Every write appends a version that becomes visible to the DNS server at ``written + propagation delay``;
ARM always shows the newest. That is how "the record changed in ARM but resolvers still see the old one" is
emulated without a timer: the DNS server asks for the view at the time of the query.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

#: the apex NS set Azure DNS hands out (one of its name-server sets)
NAME_SERVERS = ("ns1-01.azure-dns.com.", "ns2-01.azure-dns.net.", "ns3-01.azure-dns.org.", "ns4-01.azure-dns.info.")
SOA_EMAIL = "azuredns-hostmaster.microsoft.com."
SOA_TTL, NS_TTL = 3600, 172800
SOA_TIMERS = {"refreshTime": 3600, "retryTime": 300, "expireTime": 2419200, "minimumTTL": 300}
WRITABLE_TYPES = ("A", "AAAA", "CNAME", "TXT")

_IPV4 = re.compile(r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")

Key = tuple[str, str]  # (relative name lower-cased, type)


@dataclass
class Version:
    visible_at: float
    ttl: int
    #: None: the record set was deleted
    values: tuple[str, ...] | None


@dataclass
class RecordSet:
    name: str
    type: str
    ttl: int
    values: tuple[str, ...]
    etag: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class Zone:
    name: str
    resource_group: str
    tags: dict[str, str] = field(default_factory=dict)
    sets: dict[Key, RecordSet] = field(default_factory=dict)
    history: dict[Key, list[Version]] = field(default_factory=dict)
    serial: int = 1
    etag: str = field(default_factory=lambda: str(uuid.uuid4()))

    def fqdn(self, relative: str) -> str:
        return f"{self.name}." if relative == "@" else f"{relative}.{self.name}."

    def get(self, name: str, rtype: str) -> RecordSet | None:
        return self.sets.get((name.lower(), rtype.upper()))

    def conflicting_cname(self, name: str, rtype: str) -> str | None:
        """The type already at ``name`` that a new ``rtype`` set would clash with (CNAME stands alone)."""
        for other_name, other_type in self.sets:
            if other_name == name.lower() and other_type != rtype and "CNAME" in (rtype, other_type):
                return other_type
        return None

    def put(
        self,
        name: str,
        rtype: str,
        *,
        ttl: int,
        values: tuple[str, ...],
        metadata: dict[str, str] | None,
        now: float,
        delay: float,
    ) -> RecordSet:
        key = (name.lower(), rtype.upper())
        current = self.sets.get(key)
        record = RecordSet(
            name=current.name if current else name,
            type=rtype.upper(),
            ttl=ttl,
            values=values,
            etag=str(uuid.uuid4()),
            metadata=dict(metadata if metadata is not None else (current.metadata if current else {})),
        )
        self.sets[key] = record
        self._remember(key, Version(now + delay, ttl, values), now)
        return record

    def delete(self, name: str, rtype: str, *, now: float, delay: float) -> bool:
        key = (name.lower(), rtype.upper())
        if self.sets.pop(key, None) is None:
            return False
        self._remember(key, Version(now + delay, 0, None), now)
        return True

    def _remember(self, key: Key, version: Version, now: float) -> None:
        self.serial += 1
        versions = self.history.setdefault(key, [])
        versions.append(version)
        versions.sort(key=lambda v: v.visible_at)
        # keep the newest version already visible and everything after it
        visible = [i for i, v in enumerate(versions) if v.visible_at <= now]
        if len(visible) > 1:
            del versions[: visible[-1]]

    def served(self, now: float) -> dict[Key, Version]:
        """The record sets the DNS server answers with at ``now``."""
        out: dict[Key, Version] = {}
        for key, versions in self.history.items():
            current = None
            for version in versions:
                if version.visible_at <= now:
                    current = version
            if current is not None and current.values is not None:
                out[key] = current
        return out

    def arm_count(self) -> int:
        # Azure counts the apex SOA and NS record sets too
        return len(self.sets) + 2


def record_properties(rtype: str, values: tuple[str, ...]) -> dict[str, Any]:
    """The ARM ``properties`` fragment holding a record set's values."""
    if rtype == "A":
        return {"ARecords": [{"ipv4Address": v} for v in values]}
    if rtype == "AAAA":
        return {"AAAARecords": [{"ipv6Address": v} for v in values]}
    if rtype == "CNAME":
        return {"CNAMERecord": {"cname": values[0]}}
    if rtype == "TXT":
        return {"TXTRecords": [{"value": [v]} for v in values]}
    return {}


def values_from_properties(rtype: str, props: dict[str, Any]) -> tuple[str, ...] | None:
    """Read the values of a PUT/PATCH body; None when the body does not carry any for ``rtype``."""
    try:
        if rtype == "A" and props.get("ARecords") is not None:
            return tuple(str(r["ipv4Address"]) for r in props["ARecords"])
        if rtype == "AAAA" and props.get("AAAARecords") is not None:
            return tuple(str(r["ipv6Address"]) for r in props["AAAARecords"])
        if rtype == "CNAME" and props.get("CNAMERecord") is not None:
            return (str(props["CNAMERecord"]["cname"]),)
        if rtype == "TXT" and props.get("TXTRecords") is not None:
            return tuple("".join(str(s) for s in r["value"]) for r in props["TXTRecords"])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"malformed {rtype} records: missing {exc}") from None
    return None


def record_values_problem(rtype: str, values: list[str]) -> str | None:
    """Why these values are not valid for a record set of ``rtype`` (None when they are)."""
    if rtype == "A":
        wrong = [v for v in values if not _IPV4.match(v)]
        return f"not IPv4 addresses: {', '.join(wrong)}" if wrong else None
    if rtype == "AAAA":
        for value in values:
            try:
                ipaddress.IPv6Address(value)
            except ValueError:
                return f"not an IPv6 address: {value}"
        return None
    if rtype == "CNAME":
        if len(values) != 1:
            return "a CNAME record set holds exactly one value"
        if not re.match(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9])?\.?$", values[0]):
            return f"not a host name: {values[0]}"
        return None
    if any(len(v) > 1024 for v in values):
        return "a TXT value is at most 1024 characters"
    return None
