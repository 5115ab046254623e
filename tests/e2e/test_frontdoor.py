"""A failover whose traffic switch is Front Door, on the embedded sandbox: the run enables the target's origin,
disables the source's, and stops the RTO clock when requests through the endpoint's host name reach the target,
after Front Door's propagation (the sandbox's default 5 s), measured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from drctl.errors import ExitCode
from tests.e2e.conftest import bare_drctl as drctl
from tests.e2e.conftest import fast_sample
from tests.frontdoor_playbook import frontdoor_data


def _facts(workdir: Path, kind: str) -> list[dict[str, Any]]:
    (run,) = (workdir / ".drctl" / "runs").iterdir()
    events = [json.loads(line) for line in (run / "journal.jsonl").read_text().splitlines() if line.strip()]
    return [e["data"] for e in events if e.get("type") == "fact" and e.get("kind") == kind]


def test_a_failover_through_front_door_restores_service_when_the_edge_serves_the_target(tmp_path: Path) -> None:
    data = frontdoor_data({"samples": 3, "interval": "200ms"}, text=fast_sample())
    switch = data["steps"].pop()
    # the Front Door switch takes the DNS swap's place in the graph
    for i, step in enumerate(data["steps"]):
        step["needs"] = [n for n in step.get("needs") or [] if n != switch["id"]] if "needs" in step else None
        if step["needs"] is None:
            del step["needs"]
        if step["id"] == "dns-swap":
            data["steps"][i] = {**switch, "id": "dns-swap", "name": "Switch Front Door to the DR region"}
    playbook = tmp_path / "frontdoor.yaml"
    playbook.write_text(yaml.safe_dump(data, sort_keys=False))

    result = drctl(tmp_path, "failover", str(playbook), "--sandbox", "--yes")

    assert result.returncode == ExitCode.OK, result.stdout[-3000:] + result.stderr[-3000:]
    (changed,) = _facts(tmp_path, "frontdoor.changed")
    assert changed["after"] == {
        "origin-aus": {"enabled_state": "Enabled", "priority": 1, "weight": 1000},
        "origin-aue": {"enabled_state": "Disabled", "priority": 1, "weight": 1000},
    }
    (verified,) = _facts(tmp_path, "frontdoor.verified")
    assert verified["region"] == "au-southeast"
    # the sandbox's edge routes on the configuration of 5 s ago: measured from the first update sent
    assert verified["propagation_seconds"] >= 5
    (restored,) = _facts(tmp_path, "service.restored")
    assert (restored["by"], restored["at"]) == ("frontdoor.switch", verified["verified_at"])
    assert "Front Door" in result.stderr + result.stdout
    # the report shows the switch in a section of its own, the propagation with it
    report = drctl(tmp_path, "report").stdout
    section = report.split("## Front Door", 1)[1].split("\n## ", 1)[0]
    assert "origin-aus Disabled p2 -> Enabled p1" in section
    assert "propagation" in section
