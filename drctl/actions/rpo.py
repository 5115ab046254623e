"""RPO evidence and data-loss figures, per resource. Pure.

Every figure names the resource it is about (a failover group, a storage account) and says what it is:

- ``measured``: exact. Both regions' replication endpoints answered: the source's last committed write minus the
  target's.
- ``bounded``: an upper bound. The source does not answer, so it stopped writing at the latest at T0:
  ``T0 - target's last write``; or storage geo-replication: ``now - lastSyncTime`` (Azure promises nothing
  newer). The real figure is at most this.
- ``unknown``: no evidence about this resource. Unknown is never "within" anything.

Evidence about one resource never stands for another: a gate looks up the exposure *of the resource it
protects* (``for_resource``), and passes on its own only when that figure is measured or bounded and within
the gate. After a failover took effect, ``loss_fact`` states its data-loss window: zero for a planned
(synchronised) failover by construction, the gate's figure for a forced or unplanned one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from drctl.durations import format_duration

Status = Literal["measured", "bounded", "unknown"]
#: how a failover that took effect ended: planned/synchronised (nothing lost) or forced/unplanned (loss allowed)
FailoverKind = Literal["planned", "forced", "unplanned"]

SQL_GROUP = "sql.failover_group"
STORAGE_ACCOUNT = "storage.account"


@dataclass(frozen=True)
class Resource:
    kind: str
    name: str

    @property
    def label(self) -> str:
        return f"{'failover group' if self.kind == SQL_GROUP else 'storage account'} {self.name}"


def group_resource(name: str) -> Resource:
    return Resource(SQL_GROUP, name)


def account_resource(name: str) -> Resource:
    return Resource(STORAGE_ACCOUNT, name)


@dataclass(frozen=True)
class ReplicaReport:
    """What a region's replication endpoint says about its local database."""

    region: str
    role: str
    last_committed_write: datetime
    #: the failover group the endpoint says it reports on, when it says so
    failover_group: str | None = None


@dataclass(frozen=True)
class Exposure:
    """What a forced failover of ``resource`` would lose now, as far as the evidence tells."""

    resource: Resource
    seconds: float | None
    status: Status
    source: str | None
    basis: str

    @property
    def upper_bound(self) -> bool:
        return self.status == "bounded"

    def as_fact(self) -> dict[str, Any]:
        return {
            "resource": self.resource.name,
            "resource_kind": self.resource.kind,
            "seconds": None if self.seconds is None else round(self.seconds, 3),
            "status": self.status,
            "source": self.source,
            "basis": self.basis,
            "upper_bound": self.upper_bound,
        }

    def text(self) -> str:
        """``failover group fg: at most 5m (bounded: ...)``; never a figure for an unknown exposure."""
        if self.seconds is None or self.status == "unknown":
            return f"{self.resource.label}: exposure unknown ({self.basis})"
        figure = format_duration(self.seconds)
        if self.status == "bounded":
            return f"{self.resource.label}: exposure at most {figure} (upper bound: {self.basis})"
        return f"{self.resource.label}: exposure {figure} (measured: {self.basis})"


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
    group = body.get("failover_group")
    return ReplicaReport(region, role, when, str(group) if group else None)


def from_app(source: ReplicaReport | None, target: ReplicaReport, *, t0: datetime, group: str) -> Exposure:
    resource = group_resource(group)
    if source is not None:
        gap = (source.last_committed_write - target.last_committed_write).total_seconds()
        return Exposure(
            resource,
            max(0.0, gap),
            "measured",
            "app",
            f"{source.region} last write {source.last_committed_write:%H:%M:%S} - {target.region} last write "
            f"{target.last_committed_write:%H:%M:%S}",
        )
    gap = (t0 - target.last_committed_write).total_seconds()
    return Exposure(
        resource,
        max(0.0, gap),
        "bounded",
        "app",
        f"source not answering: T0 {t0:%H:%M:%S} - {target.region} last write {target.last_committed_write:%H:%M:%S}",
    )


def from_storage(account: str, last_sync: datetime, *, now: datetime) -> Exposure:
    return Exposure(
        account_resource(account),
        max(0.0, (now - last_sync).total_seconds()),
        "bounded",
        "storage",
        f"now - lastSyncTime {last_sync:%H:%M:%S}",
    )


def unknown(resource: Resource, why: str) -> Exposure:
    return Exposure(resource, None, "unknown", None, why)


def exposure_of_gate(resource: Resource, gate: Mapping[str, Any] | None) -> Exposure:
    """The figure a journaled ``rpo.gate`` decision saw, for a failover whose own record a crash cut off: the
    decision was made, and journaled, before the request went out, so it is what the failover lost."""
    if gate is None:
        return unknown(resource, "no RPO gate decision in the journal")
    seconds = gate.get("exposure_seconds")
    status = gate.get("exposure_status")
    if not isinstance(seconds, int | float) or status not in ("measured", "bounded"):
        return unknown(resource, "the RPO gate had no figure about it")
    return Exposure(resource, float(seconds), status, None, "as the RPO gate measured it before the failover")


def for_resource(found: Iterable[Exposure], resource: Resource, *, why_unknown: str) -> Exposure:
    """The worst figure about ``resource`` alone; ``unknown`` when nothing is about it."""
    mine = [e for e in found if e.resource == resource and e.seconds is not None]
    if not mine:
        return unknown(resource, why_unknown)
    return max(mine, key=lambda e: e.seconds or 0.0)


def passes(exposure: Exposure, limit_seconds: float) -> bool:
    """Does the evidence alone let a forced failover of its resource through? Never when unknown."""
    return exposure.status != "unknown" and exposure.seconds is not None and exposure.seconds <= limit_seconds


def worst(found: Iterable[Exposure]) -> Exposure | None:
    known = [e for e in found if e.seconds is not None]
    return max(known, key=lambda e: e.seconds or 0.0, default=None)


def loss_fact(resource: Resource, kind: FailoverKind, exposure: Exposure | None) -> dict[str, Any]:
    """The ``rpo.exposure`` fact of a failover that took effect: the data-loss window it opened for ``resource``.

    ``seconds`` is what the engine reads: 0 for a planned failover (synchronised: nothing lost by construction),
    the gate's figure for a forced or unplanned one, ``None`` when that figure was unknown."""
    if kind == "planned":
        return {
            "seconds": 0.0,
            "status": "synchronised",
            "resource": resource.name,
            "resource_kind": resource.kind,
            "failover": kind,
            "source": None,
            "basis": "planned failover: fully synchronised before the switch",
            "upper_bound": False,
        }
    found = exposure or unknown(resource, "no evidence")
    return {**found.as_fact(), "failover": kind}
