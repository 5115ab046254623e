"""RPO exposure: how much committed data a failover would lose, from the evidence that can be had. Pure.

- Both regions' replication endpoints answer: exposure = source's last committed write - target's. Exact.
- The source does not answer (the usual case in a real outage): the source stopped writing at the disaster,
  at the latest at T0, so exposure <= T0 - target's last committed write. An upper bound, and said to be one.
- Storage geo-replication: exposure <= now - lastSyncTime (Azure promises nothing newer than that). Upper bound.

The worst of the available measurements is what a gate compares with the objective.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ReplicaReport:
    """What a region's replication endpoint says about its local database."""

    region: str
    role: str
    last_committed_write: datetime


@dataclass(frozen=True)
class Exposure:
    seconds: float
    source: str
    basis: str
    upper_bound: bool

    def as_fact(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "source": self.source,
            "basis": self.basis,
            "upper_bound": self.upper_bound,
        }


class EvidenceError(ValueError):
    """A replication endpoint answered something we cannot read."""


def parse_report(body: Mapping[str, Any], region: str) -> ReplicaReport:
    try:
        stamp = str(body["last_committed_write"]).replace("Z", "+00:00")
        when = datetime.fromisoformat(stamp)
        role = str(body.get("role", "unknown"))
    except (KeyError, ValueError, TypeError) as exc:
        raise EvidenceError(f"replication endpoint of {region} gave no readable last_committed_write ({exc})") from None
    if when.tzinfo is None:
        raise EvidenceError(f"replication endpoint of {region} gave a time without a time zone")
    return ReplicaReport(region, role, when)


def from_app(source: ReplicaReport | None, target: ReplicaReport, *, t0: datetime) -> Exposure:
    if source is not None:
        gap = (source.last_committed_write - target.last_committed_write).total_seconds()
        return Exposure(
            max(0.0, gap),
            "app",
            f"{source.region} last write {source.last_committed_write:%H:%M:%S} - {target.region} last write "
            f"{target.last_committed_write:%H:%M:%S}",
            upper_bound=False,
        )
    gap = (t0 - target.last_committed_write).total_seconds()
    return Exposure(
        max(0.0, gap),
        "app",
        f"source unreachable: T0 {t0:%H:%M:%S} - {target.region} last write {target.last_committed_write:%H:%M:%S}",
        upper_bound=True,
    )


def from_storage(account: str, last_sync: datetime, *, now: datetime) -> Exposure:
    return Exposure(
        max(0.0, (now - last_sync).total_seconds()),
        "storage",
        f"storage {account} last sync {last_sync:%H:%M:%S}",
        upper_bound=True,
    )


def worst(found: Iterable[Exposure]) -> Exposure | None:
    return max(found, key=lambda e: e.seconds, default=None)
