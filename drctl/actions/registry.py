"""Action name -> its spec. Importing this module imports no Azure SDK.

Test-only actions (``test.record``) exist only when ``DRCTL_ENABLE_TEST_ACTIONS=1``: the reliability tests drive
real ``drctl`` processes with them, and a production playbook that names one is rejected by ``validate``.
"""

from __future__ import annotations

import os
from typing import Any

from drctl.actions import dns, gate, health, notify, sql, standby, storage, wait
from drctl.actions.base import ActionSpec

TEST_ACTIONS_ENV = "DRCTL_ENABLE_TEST_ACTIONS"

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


def test_actions_enabled() -> bool:
    return os.environ.get(TEST_ACTIONS_ENV) == "1"


def _test_actions() -> dict[str, ActionSpec[Any]]:
    if not test_actions_enabled():
        return {}
    from drctl.actions import testing

    return {spec.name: spec for spec in testing.SPECS}


def get(name: str) -> ActionSpec[Any] | None:
    spec = ACTIONS.get(name)
    if spec is None and name.startswith("test."):
        return _test_actions().get(name)
    return spec


def names() -> list[str]:
    return sorted([*ACTIONS, *_test_actions()])
