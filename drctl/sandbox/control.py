"""Changes made to the world from outside Azure's API: faults, outages, out-of-band edits.

Shared by the admin API, the in-process ``Sandbox`` methods and start-up (faults from the estate or a faults
file). Every function takes the world lock. Unknown names are ``SandboxError``.
"""

from __future__ import annotations

from typing import Any

from drctl.errors import SandboxError
from drctl.sandbox.clock import iso
from drctl.sandbox.faults import (
    DnsPropagationDelayFault,
    FaultRule,
    FrontDoorPropagationDelayFault,
    RegionOutageFault,
    ReplicationLagFault,
)
from drctl.sandbox.ops import ControlPlane, RegionStatus, WebAppState
from drctl.sandbox.providers.cdn import provider as cdn
from drctl.sandbox.providers.compute import provider as compute
from drctl.sandbox.providers.dns import provider as dns
from drctl.sandbox.providers.sql import provider as sql
from drctl.sandbox.providers.web import provider as web
from drctl.sandbox.registry import PROVIDERS
from drctl.sandbox.state import World


def apply_fault(world: World, rule: FaultRule) -> dict[str, Any]:
    """Apply one rule: world faults change the state now, request faults join the fault book."""
    with world.lock:
        if isinstance(rule, RegionOutageFault):
            set_region(world, rule.region, RegionStatus.DOWN, rule.control_plane)
            return {"applied": rule.model_dump(mode="json")}
        if isinstance(rule, ReplicationLagFault):
            return {"applied": rule.model_dump(mode="json"), "targets": set_lag(world, rule.seconds, rule.target)}
        if isinstance(rule, DnsPropagationDelayFault):
            dns.set_delay(world, rule.seconds)
            return {"applied": rule.model_dump(mode="json")}
        if isinstance(rule, FrontDoorPropagationDelayFault):
            cdn.set_delay(world, rule.seconds)
            return {"applied": rule.model_dump(mode="json")}
        fault = world.faults.add(rule)
        return {"applied": rule.model_dump(mode="json"), "id": fault.id}


def set_region(world: World, key: str, status: RegionStatus, control_plane: ControlPlane | None = None) -> None:
    with world.lock:
        if key not in world.regions:
            raise SandboxError(f"unknown region {key!r} (regions: {', '.join(world.regions)})")
        world.advance()
        world.set_region(key, status, control_plane)


def set_lag(world: World, seconds: float, target: str | None) -> list[str]:
    with world.lock:
        changed: list[str] = []
        for provider in PROVIDERS:
            changed.extend(provider.set_lag(world, seconds, target))
        if target is not None and not changed:
            raise SandboxError(f"unknown replication target {target!r}: not a failover group or storage account")
        return changed


def set_dns_record(
    world: World, zone_name: str, rtype: str, name: str, *, ttl: int, values: list[str]
) -> dict[str, Any]:
    """Change a record set as another actor would (a new ETag; visible after the propagation delay)."""
    return dns.set_record(world, zone_name, rtype, name, ttl=ttl, values=values)


def delete_dns_record(world: World, zone_name: str, rtype: str, name: str) -> bool:
    return dns.delete_record(world, zone_name, rtype, name)


def set_web_app(world: World, name: str, state: WebAppState) -> None:
    web.set_state(world, name, state)


def set_capacity(world: World, name: str, capacity: int) -> None:
    compute.set_capacity(world, name, capacity)


def set_primary(world: World, group_name: str, server: str) -> None:
    """Swap roles out of band (no data-loss record): to stage a failback or an already-failed-over estate."""
    sql.set_primary(world, group_name, server)


def snapshot(world: World) -> dict[str, Any]:
    """The whole emulated state as JSON (admin ``GET /_sandbox/state``)."""
    with world.lock:
        now = world.advance()
        return {
            "name": world.estate.name,
            "time": iso(now),
            "subscription_id": world.estate.subscription_id,
            "tenant_id": world.tenant_id,
            "regions": {
                k: {
                    "location": r.location,
                    "status": r.status.value,
                    "control_plane": r.control_plane.value,
                    "down_since": iso(r.down_since) if r.down_since is not None else None,
                }
                for k, r in world.regions.items()
            },
            **{k: v for p in PROVIDERS for k, v in p.snapshot(world, now).items()},
            "faults": world.faults.snapshot(),
            "operations": world.operations.snapshot(),
            "data_loss": list(world.data_loss),
            "counts": {"requests": len(world.requests), "webhooks": len(world.webhooks), "emails": len(world.emails)},
        }
