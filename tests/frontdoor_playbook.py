"""The sample playbook with Azure Front Door in front of both regions and a ``frontdoor.switch`` step beside
``dns.swap``: shared by the Front Door sandbox and action tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from drctl.planning.load import load_playbook
from drctl.playbook.model import Playbook
from tests.conftest import SAMPLE

PROFILE, GROUP, ENDPOINT = "afd-wallet", "og-wallet-api", "wallet-api"
ORIGINS = {"au-east": "origin-aue", "au-southeast": "origin-aus"}


def frontdoor_data(
    switch: dict[str, Any] | None = None, *, needs: list[str] | None = None, text: str | None = None
) -> dict[str, Any]:
    """The sample (or ``text``) with Front Door, and a ``frontdoor.switch`` step after ``needs``."""
    data: dict[str, Any] = yaml.safe_load(text if text is not None else SAMPLE.read_text())
    data["front_door"] = {
        "profile": PROFILE,
        "resource_group": "rg-wallet-global",
        "endpoint": ENDPOINT,
        "origin_group": GROUP,
    }
    for key, origin in ORIGINS.items():
        data["regions"][key]["front_door_origin"] = origin
    step = {
        "id": "frontdoor-switch",
        "uses": "frontdoor.switch",
        "needs": ["target-health"] if needs is None else needs,
        "budget": "2m",
        "with": switch or {},
    }
    data["steps"].append(step)
    for other in data["steps"]:
        # a return to warm standby must follow every traffic switch (validate refuses it otherwise)
        if other.get("uses") == "standby.return":
            other["needs"] = [*other.get("needs", []), step["id"]]
    return data


def frontdoor_playbook(tmp: Path, switch: dict[str, Any] | None = None, **kwargs: Any) -> Playbook:
    path = tmp / "frontdoor.yaml"
    path.write_text(yaml.safe_dump(frontdoor_data(switch, **kwargs), sort_keys=False))
    return load_playbook(path).playbook
