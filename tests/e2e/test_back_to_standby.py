"""End to end: a drill returns the DR region to warm standby, and a failback after a real failover returns it to the
state the failover run found (issue 13, item 4). The DR region is read before and after through the sandbox's admin
API and through the real Azure SDK clients drctl uses, and the report's "Back to warm standby" says the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drctl.actions.testkit import azure_clients
from drctl.errors import ExitCode
from tests.conftest import ROOT
from tests.drill.test_sandbox_drill import short_drill
from tests.e2e.conftest import Rehearsal, rehearsal_of

pytestmark = pytest.mark.slow

DR, PRIMARY = "rg-wallet-aus", "rg-wallet-aue"
DR_APPS = ("app-wallet-api-aus", "app-wallet-portal-aus")
DR_VMSS = "vmss-wallet-workers-aus"


@pytest.fixture
def rehearsal(tmp_path: Path) -> Iterator[Rehearsal]:
    with rehearsal_of(tmp_path, short_drill(tmp_path)) as r:
        yield r


def dr_region(r: Rehearsal) -> dict[str, Any]:
    """The DR region as the admin API and the real SDK both read it; they must agree."""
    from drctl.azure import standby

    snap = r.sandbox.client().state()
    admin = {
        **{app: snap["web_apps"][app]["state"] for app in DR_APPS},
        DR_VMSS: int(snap["scale_sets"][DR_VMSS]["capacity"]),
    }
    azure = azure_clients(r.sandbox.env(), subscription=r.sandbox.subscription_id)
    try:
        sdk = {
            **{app: standby.web_app_state(azure, DR, app) for app in DR_APPS},
            DR_VMSS: standby.scale_set_capacity(azure, DR, DR_VMSS),
        }
    finally:
        azure.close()
    assert sdk == admin
    return admin


def report(r: Rehearsal, run_id: str) -> dict[str, Any]:
    return dict(json.loads((r.workdir / ".drctl" / "runs" / run_id / "report.json").read_text()))


def writes(r: Rehearsal, suffix: str) -> list[str]:
    return [
        q["path"].split("?")[0]
        for q in r.sandbox.client().requests(service="arm")
        if q["method"] in ("PUT", "PATCH", "POST", "DELETE") and q["path"].split("?")[0].endswith(suffix)
    ]


def test_a_drill_leaves_the_dr_region_exactly_as_it_found_it(rehearsal: Rehearsal) -> None:
    r = rehearsal
    before = dr_region(r)
    assert before == {**dict.fromkeys(DR_APPS, "Stopped"), DR_VMSS: 1}

    result = r.drctl("drill", str(r.playbook), "--yes", "--outside-window", "--reason", "warm standby drill")

    assert result.returncode == ExitCode.OK, result.stdout[-3000:] + result.stderr[-3000:]
    assert dr_region(r) == before
    # one write per resource each way: a start and a stop per app, a scale up and a scale back of the workers
    for app in DR_APPS:
        assert len(writes(r, f"/sites/{app}/start")) == 1
        assert len(writes(r, f"/sites/{app}/stop")) == 1
    assert len(writes(r, f"/virtualMachineScaleSets/{DR_VMSS}")) == 2
    (run_id,) = r.run_ids()
    back = report(r, run_id)["back_to_standby"]
    rows = {row["name"]: row for row in back["resources"] if row["region"] == "au-southeast"}
    assert set(rows) == {*DR_APPS, DR_VMSS}
    for row in rows.values():
        assert row["step"] == "failback:return-to-standby"
        assert row["verified"] is True
        assert row["returned"] == row["prior"]
        assert row["priors_run"] == run_id
    assert (rows[DR_VMSS]["prior"]["capacity"], rows[DR_VMSS]["found"]) == (1, {"capacity": 5})
    assert rows[DR_APPS[0]]["found"] == {"state": "Running"}
    # the failover phase's return found nothing of its own to return in the primary, and said so
    assert [(left["step"], left["region"]) for left in back["left_as_is"]] == [
        ("failover:return-to-standby", "au-east")
    ]
    markdown = (r.workdir / ".drctl" / "runs" / run_id / "report.md").read_text()
    section = markdown.split("## Back to warm standby", 1)[1].split("\n## ", 1)[0]
    (workers,) = [line for line in section.splitlines() if line.startswith(f"| {DR_VMSS} |")]
    # before the run, found by the return, returned to, verified
    assert "| capacity 1 | capacity 5 | capacity 1 | yes |" in workers
    for app in DR_APPS:
        (line,) = [row for row in section.splitlines() if row.startswith(f"| {app} |")]
        assert "| state Stopped | state Running | state Stopped | yes |" in line
    status = r.drctl("status", run_id)
    said = status.stdout.split("Warm standby:", 1)[1]
    assert f"back to warm standby: scale_set {DR_VMSS} in au-southeast, capacity 1" in said
    assert "failover:return-to-standby: nothing journaled: au-east left as it is" in said


def test_a_failback_after_a_real_failover_returns_the_dr_region_to_what_the_failover_found(
    rehearsal: Rehearsal,
) -> None:
    r = rehearsal
    before = dr_region(r)
    failover = r.drctl("failover", str(r.playbook), "--yes")
    assert failover.returncode == ExitCode.OK, failover.stdout[-3000:] + failover.stderr[-3000:]
    assert dr_region(r) == {**dict.fromkeys(DR_APPS, "Running"), DR_VMSS: 5}
    (failover_run,) = r.run_ids()

    failback = r.drctl("failback", str(r.playbook), "--yes")

    assert failback.returncode == ExitCode.OK, failback.stdout[-3000:] + failback.stderr[-3000:]
    assert dr_region(r) == before
    failback_run = next(i for i in r.run_ids() if i != failover_run)
    back = report(r, failback_run)["back_to_standby"]
    returned = [row for row in back["resources"] if row["region"] == "au-southeast"]
    assert {row["name"] for row in returned} == {*DR_APPS, DR_VMSS}
    assert {row["priors_run"] for row in returned} == {failover_run}
    assert all(row["verified"] for row in returned)
    # one stop per app and one scale back, in the failback run alone
    for app in DR_APPS:
        assert len(writes(r, f"/sites/{app}/stop")) == 1
    assert len(writes(r, f"/virtualMachineScaleSets/{DR_VMSS}")) == 2


def test_drill_sandbox_reports_the_dr_region_back_to_warm_standby(tmp_path: Path) -> None:
    """``drctl drill --sandbox``: the sandbox's closing summary shows the DR region as it was seeded."""
    playbook = short_drill(tmp_path)
    env = {
        k: v
        for k, v in os.environ.items()
        if k == "DRCTL_LOCK_DIR" or not k.startswith(("AZURE_", "DRCTL_", "REQUESTS_CA"))
    }
    result = subprocess.run(
        [sys.executable, "-m", "drctl", "drill", str(playbook), "--sandbox", "--yes"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == ExitCode.OK, result.stdout[-3000:] + result.stderr[-3000:]
    for app in DR_APPS:
        assert f"web app {app}: Stopped" in result.stderr
    assert f"scale set {DR_VMSS}: capacity 1" in result.stderr
