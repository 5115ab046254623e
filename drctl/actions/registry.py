"""Action name -> its spec. Importing this module imports no Azure SDK."""

from __future__ import annotations

from typing import Any

from drctl.actions import dns, gate, health, notify, sql, standby, storage, wait
from drctl.actions.base import ActionSpec

_SPECS: tuple[ActionSpec[Any], ...] = (
    health.HEALTH_HTTP,
    health.HEALTH_AZURE,
    gate.APPROVAL,
    sql.REPLICA_CHECK,
    sql.FAILOVER,
    storage.STORAGE_CHECK,
    storage.STORAGE_FAILOVER,
    standby.START_WEB_APPS,
    standby.SCALE,
    standby.PATCH,
    dns.DNS_SWAP,
    notify.NOTIFY,
    wait.WAIT,
)

ACTIONS: dict[str, ActionSpec[Any]] = {spec.name: spec for spec in _SPECS}


def get(name: str) -> ActionSpec[Any] | None:
    return ACTIONS.get(name)


def names() -> list[str]:
    return sorted(ACTIONS)
