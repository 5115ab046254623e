"""The sample playbook with a Traffic Manager profile in front of both regions: what the Traffic Manager tests
seed the sandbox from (the sample itself switches traffic with dns.swap)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.conftest import SAMPLE

PROFILE, GROUP = "tm-wallet", "rg-wallet-tm"
ENDPOINTS = {"au-east": "ep-wallet-aue", "au-southeast": "ep-wallet-aus"}
FQDN = f"{PROFILE}.trafficmanager.net"
#: the hosts the seeded endpoints point at: each region's health_url host
TARGETS = {"au-east": "api-aue.wallet.example.com", "au-southeast": "api-aus.wallet.example.com"}


def playbook_data(steps: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    data["traffic_manager"] = {"profile": PROFILE, "resource_group": GROUP}
    for key, name in ENDPOINTS.items():
        data["regions"][key]["traffic_manager_endpoint"] = name
    if steps is not None:
        data["steps"] = steps
    return data


def write_playbook(path: Path, steps: list[dict[str, Any]] | None = None) -> Path:
    path.write_text(yaml.safe_dump(playbook_data(steps), sort_keys=False), encoding="utf-8")
    return path


def with_switch_step(
    needs: list[str] | None = None, params: dict[str, Any] | None = None, step_id: str = "traffic-switch"
) -> dict[str, Any]:
    """The sample with a trafficmanager.switch step (after the target's health check unless ``needs`` says)."""
    data = playbook_data()
    step: dict[str, Any] = {"id": step_id, "uses": "trafficmanager.switch", "needs": needs or ["target-health"]}
    if params:
        step["with"] = params
    data["steps"].append(step)
    for other in data["steps"]:
        # a return to warm standby must follow every traffic switch (validate refuses it otherwise)
        if other.get("uses") == "standby.return":
            other["needs"] = [*other.get("needs", []), step_id]
    return data


def write_data(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
