"""Action families, and from them action name -> its spec and fact kind -> how it reads. Importing this module
imports no Azure SDK and no run-time code.

Test-only actions (``test.record``) exist only when ``DRCTL_ENABLE_TEST_ACTIONS=1``: the reliability tests drive
real ``drctl`` processes with them, and a production playbook that names one is rejected by ``validate``.
"""

from __future__ import annotations

import os
from typing import Any

from drctl.actions import aks, dns, fence, frontdoor, gate, health, notify, sql, standby, storage, trafficmanager, wait
from drctl.actions.base import ActionSpec, Family
from drctl.actions.facts import SHARED, FactKind

TEST_ACTIONS_ENV = "DRCTL_ENABLE_TEST_ACTIONS"

#: every action family, one entry each: adding a family is its package under drctl/actions/ and its line here
FAMILIES: tuple[Family, ...] = (
    health.FAMILY,
    gate.FAMILY,
    sql.FAMILY,
    storage.FAMILY,
    standby.FAMILY,
    aks.FAMILY,
    dns.FAMILY,
    frontdoor.FAMILY,
    trafficmanager.FAMILY,
    notify.FAMILY,
    wait.FAMILY,
    fence.FAMILY,
)

ACTIONS: dict[str, ActionSpec[Any]] = {spec.name: spec for family in FAMILIES for spec in family.actions}

_FAMILY_OF: dict[str, Family] = {spec.name: family for family in FAMILIES for spec in family.actions}

#: how each kind of fact reads on the console and where the report shows it
FACTS: dict[str, FactKind] = {fact.kind: fact for fact in (*SHARED, *(f for family in FAMILIES for f in family.facts))}


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


def family_of(name: str) -> Family | None:
    """The family an action belongs to; None for the test-only actions, which belong to none."""
    return _FAMILY_OF.get(name)


def names() -> list[str]:
    return sorted([*ACTIONS, *_test_actions()])


def moves_traffic(action: str) -> bool:
    """Whether ``action`` is a traffic switch (``ActionSpec.moves_traffic``); False for an unknown name."""
    spec = ACTIONS.get(action)
    return spec is not None and spec.moves_traffic
