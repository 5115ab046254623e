"""Fencing the old primary end to end: a forced failover with the source region lost cannot fence it (its control
plane refuses writes), succeeds all the same, and shows the open risk in ``status``, ``runs`` and the report; once
the region answers, ``drctl fence RUN`` fences exactly those items, and a second one sends nothing. The counts are
the sandbox's request log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from drctl.errors import ExitCode
from tests.e2e.conftest import Rehearsal, fast_sample, rehearsal_of

pytestmark = pytest.mark.slow

FENCE_STEP = """
  - id: fence-old-primary
    name: Fence the old primary
    uses: fence.source
    needs: [promote-database]
"""
SOURCE_APPS = ("app-wallet-api-aue", "app-wallet-portal-aue")
SOURCE_VMSS = "vmss-wallet-workers-aue"


@pytest.fixture
def fenced(tmp_path: Path) -> Iterator[Rehearsal]:
    anchor = "\n  - id: phase-standby-ready\n"
    text = fast_sample()
    assert anchor in text
    with rehearsal_of(tmp_path, text.replace(anchor, FENCE_STEP + anchor, 1)) as r:
        yield r


def _source(r: Rehearsal) -> tuple[dict[str, str], int]:
    state = r.sandbox.snapshot()
    apps = {n: s["state"] for n, s in state["web_apps"].items() if n in SOURCE_APPS}
    return apps, int(state["scale_sets"][SOURCE_VMSS]["capacity"])


def _fencing_writes(r: Rehearsal) -> list[str]:
    return [
        q["path"]
        for q in r.mutations()
        if "rg-wallet-aue" in q["path"] and (q["path"].split("?")[0].endswith("/stop") or SOURCE_VMSS in q["path"])
    ]


def test_a_forced_failover_leaves_an_open_risk_that_drctl_fence_closes_once(fenced: Rehearsal) -> None:
    r = fenced
    r.sandbox.client().set_replication_lag(30)
    r.sandbox.set_region("au-east", up=False)
    result = r.failover("--yes", "--accept-data-loss", "region lost; IC accepts the loss", timeout=240)
    assert result.returncode == ExitCode.OK, result.stdout[-3000:] + result.stderr[-3000:]
    (run_id,) = r.run_ids()
    assert r.facts("sql.failover")[0]["mode"] == "forced"
    items = {f["name"]: f for f in r.facts("fence.item")}
    assert set(items) == {*SOURCE_APPS, SOURCE_VMSS}
    assert not any(f["fenced"] for f in items.values())
    assert "OPEN RISK: 3 items of the old primary NOT FENCED" in result.stderr  # the run's last words
    assert _source(r) == (dict.fromkeys(SOURCE_APPS, "Running"), 6)

    status = r.drctl("status", run_id)
    assert "OPEN RISK" in status.stdout
    assert f"drctl fence {run_id}" in status.stdout
    report = json.loads(r.drctl("report", run_id, "--format", "json").stdout)
    assert sorted(o["name"] for o in report["open_risks"]) == sorted([*SOURCE_APPS, SOURCE_VMSS])
    markdown = r.drctl("report", run_id).stdout
    assert "## Open risks" in markdown
    assert "NOT FENCED" in markdown
    assert "[OPEN RISK: 3 unfenced]" in r.drctl("runs").stdout
    # still down: drctl fence tries, cannot, and says so (exit 1); the risk stays open
    still = r.drctl("fence", run_id)
    assert still.returncode == ExitCode.STEP_FAILED, still.stdout + still.stderr
    assert "OPEN RISK" in still.stderr
    assert _source(r) == (dict.fromkeys(SOURCE_APPS, "Running"), 6)

    # the region answers again: drctl fence fences exactly the open items, once each
    r.sandbox.set_region("au-east", up=True)
    before = len(_fencing_writes(r))
    closed = r.drctl("fence", run_id)
    assert closed.returncode == ExitCode.OK, closed.stdout[-3000:] + closed.stderr[-3000:]
    assert _source(r) == (dict.fromkeys(SOURCE_APPS, "Stopped"), 0)
    assert len(_fencing_writes(r)) == before + 3
    assert "OPEN RISK" not in r.drctl("status", run_id).stdout
    report = json.loads(r.drctl("report", run_id, "--format", "json").stdout)
    assert report["open_risks"] == []
    assert [f["via"] for f in report["fencing"] if f["fenced"]] == ["fence"] * 3
    assert report["verdict"]["headline"] == "PASSED"  # the run's verdict is as it was
    assert r.drctl("runs", "verify", run_id).returncode == ExitCode.OK

    # idempotent: nothing open, nothing sent, nothing written
    lines = len(r.journal(run_id))
    again = r.drctl("fence", run_id)
    assert again.returncode == ExitCode.OK
    assert "nothing open" in again.stdout
    assert len(_fencing_writes(r)) == before + 3
    assert len(r.journal(run_id)) == lines


FAILING_STEP = """
  - id: source-check
    name: A check of the old region, failing while it is down
    uses: health.http
    needs: [fence-old-primary]
    retry: 1
    budget: 30s
    with:
      url: ${{ source.health_url }}
      samples: 2
"""


def test_a_resume_fences_what_the_run_left_open(fenced: Rehearsal) -> None:
    r = fenced
    anchor = "\n  - id: phase-standby-ready\n"
    r.playbook.write_text(r.playbook.read_text().replace(anchor, FAILING_STEP + anchor, 1))
    r.sandbox.client().set_replication_lag(30)
    r.sandbox.set_region("au-east", up=False)
    result = r.failover("--yes", "--accept-data-loss", "region lost; IC accepts the loss", timeout=240)
    assert result.returncode == ExitCode.STEP_FAILED, result.stdout[-3000:] + result.stderr[-3000:]
    (run_id,) = r.run_ids()
    assert "OPEN RISK" in r.drctl("status", run_id).stdout

    r.sandbox.set_region("au-east", up=True)
    before = len(_fencing_writes(r))
    resumed = r.drctl("resume", run_id, "--yes", timeout=240)
    assert _source(r) == (dict.fromkeys(SOURCE_APPS, "Stopped"), 0), resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert len(_fencing_writes(r)) == before + 3
    (again,) = r.facts("fence.again")
    assert again["via"] == "resume"
    assert "OPEN RISK" not in r.drctl("status", run_id).stdout
    assert json.loads(r.drctl("report", run_id, "--format", "json").stdout)["open_risks"] == []
