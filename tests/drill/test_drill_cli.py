"""``drctl drill``, ``drctl report`` and ``drctl runs [--due]`` as operators use them: real processes, a real
clock (a one-second hold), reports written at the end of the run, approvals answered from another terminal."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import xmlschema

from drctl.errors import ExitCode
from tests.conftest import ROOT, drctl_command
from tests.drill.conftest import Health

pytestmark = pytest.mark.slow

SCHEMA = xmlschema.XMLSchema(ROOT / "tests" / "reports" / "junit.xsd")
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

PLAYBOOK = """\
version: 1
name: cli-drill
objectives: {{rto: 1h, rpo: 15m}}
azure: {{subscription: "00000000-0000-0000-0000-000000000000"}}
direction: {{source: east, target: west}}
regions:
  east: {{location: australiaeast, resource_group: rg-east, health_url: "{base}/east"}}
  west: {{location: australiasoutheast, resource_group: rg-west, health_url: "{base}/west"}}
drill: {{hold: 1s, probe_interval: 500ms}}
{windows}steps:
{steps}"""

STEPS = """\
  - {{id: promote, uses: test.record, with: {{file: "{record}", mutating: true}}}}
  - {{id: cutover, uses: test.record, with: {{file: "{record}", fact: {{kind: service.restored, data: {{}}}}}}}}
"""


class Box:
    def __init__(self, root: Path, health: Health) -> None:
        self.root = root
        self.health = health
        self.record = root / "record.jsonl"
        self.state = root / "state"
        self.playbook = root / "drill.yaml"

    def write(self, steps: str = STEPS, windows: str = "") -> Path:
        body = steps.format(record=self.record)
        self.playbook.write_text(PLAYBOOK.format(base=self.health.base, windows=windows, steps=body))
        return self.playbook

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k == "DRCTL_LOCK_DIR" or not k.startswith("DRCTL_")}
        return env | {"DRCTL_ENABLE_TEST_ACTIONS": "1", "DRCTL_STATE_DIR": str(self.state), "PYTHONPATH": str(ROOT)}

    def drctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            drctl_command(*args),
            capture_output=True,
            text=True,
            cwd=self.root,
            env=self.env(),
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            drctl_command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.root,
            env=self.env(),
            stdin=subprocess.DEVNULL,
        )

    def run_ids(self) -> list[str]:
        runs = self.state / "runs"
        return sorted(p.name for p in runs.iterdir()) if runs.exists() else []

    def run_dir(self, run_id: str) -> Path:
        return self.state / "runs" / run_id

    def journal(self, run_id: str) -> list[dict[str, object]]:
        path = self.run_dir(run_id) / "journal.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def box(tmp_path: Path, health: Health) -> Box:
    return Box(tmp_path, health)


def closed_window() -> str:
    """A window two days from today (UTC): closed for as long as the test runs."""
    day = DAYS[(datetime.now(UTC).weekday() + 2) % 7]
    return f'change_windows:\n  - {{days: [{day}], start: "02:00", end: "03:00", timezone: UTC}}\n'


def test_a_drill_runs_both_directions_and_writes_every_report(box: Box) -> None:
    box.write()

    result = box.drctl("drill", str(box.playbook), "--yes")

    assert result.returncode == ExitCode.OK, result.stderr
    (run_id,) = box.run_ids()
    assert f"run {run_id}: drill of cli-drill, east -> west" in result.stdout
    assert "hold: succeeded" in result.stdout
    assert "failback:cutover: succeeded" in result.stdout
    run_dir = box.run_dir(run_id)
    assert f"reports: {run_dir}/report.{{md,html,json,xml}}" in result.stderr
    for name in ("report.md", "report.html", "report.json", "report.xml"):
        assert (run_dir / name).stat().st_mode & 0o777 == 0o600
    data = json.loads((run_dir / "report.json").read_text())
    assert data["verdict"]["headline"] == "PASSED"
    assert [p["name"] for p in data["phases"]] == ["failover", "hold", "failback"]
    # every 0.5 s of a 1 s hold: at 0, 0.5 and 1 s; on a busy machine a probe slower than 0.5 s ends past the hold's
    # end, and that probe is its last
    assert len(data["probes"]) in (2, 3)
    SCHEMA.validate(str(run_dir / "report.xml"))
    assert (run_dir / "report.md").read_text().splitlines()[2] == "## Verdict"

    junit = box.drctl("report", run_id[:12], "--format", "junit")
    assert junit.returncode == 0
    assert junit.stdout == (run_dir / "report.xml").read_text()
    target = box.root / "evidence.html"
    written = box.drctl("report", run_id, "--format", "html", "--output", str(target))
    assert written.returncode == 0
    assert target.read_text() == (run_dir / "report.html").read_text()
    assert box.drctl("report", "nope").returncode == ExitCode.NOT_FOUND

    listed = box.drctl("runs")
    assert listed.returncode == 0
    assert "VERDICT" in listed.stdout
    row = next(line for line in listed.stdout.splitlines() if line.startswith(run_id))
    assert " drill " in row
    assert " passed " in row
    assert "/1h ok" in row


def test_outside_its_change_windows_a_drill_refuses_unless_told_why(box: Box) -> None:
    box.write(windows=closed_window())

    refused = box.drctl("drill", str(box.playbook), "--yes")

    assert refused.returncode == ExitCode.USAGE
    assert "outside the playbook's change windows" in refused.stderr
    assert "the next opens" in refused.stderr
    assert "--outside-window --reason" in refused.stderr
    assert box.run_ids() == []
    no_reason = box.drctl("drill", str(box.playbook), "--yes", "--outside-window")
    assert no_reason.returncode == ExitCode.USAGE
    assert "--reason" in no_reason.stderr

    ran = box.drctl("drill", str(box.playbook), "--yes", "--outside-window", "--reason", "auditor on site")

    assert ran.returncode == ExitCode.OK, ran.stderr
    (run_id,) = box.run_ids()
    started = box.journal(run_id)[0]
    window = started["drill"]["window"]  # type: ignore[index]
    assert window["inside"] is False
    assert window["override_reason"] == "auditor on site"
    report = (box.run_dir(run_id) / "report.md").read_text()
    assert "OUTSIDE every window, by the operator's decision: auditor on site" in report


def test_approvals_in_both_directions_are_answered_by_step_id_and_reported(box: Box) -> None:
    steps = STEPS + '  - {{id: gate, uses: gate.approval, with: {{message: "Go on?", require_reason: true}}}}\n'
    box.write(steps)
    process = box.start("drill", str(box.playbook))
    try:
        for phase in ("failover", "failback"):
            run_id = _wait_for_request(box, f"{phase}:gate")
            answer = box.drctl("approve", run_id, "gate", "--reason", f"checked the {phase}")
            assert answer.returncode == 0, answer.stderr
        assert process.wait(60) == ExitCode.OK
    finally:
        if process.poll() is None:
            process.kill()
    (run_id,) = box.run_ids()
    data = json.loads((box.run_dir(run_id) / "report.json").read_text())
    approvals = [(a["step"], a["outcome"], a["reason"], a["via"]) for a in data["approvals"]]
    assert approvals == [
        ("failover:gate", "granted", "checked the failover", "file"),
        ("failback:gate", "granted", "checked the failback", "file"),
    ]
    assert all(a["approver"]["os_user"] and a["approver"]["host"] for a in data["approvals"])


def _wait_for_request(box: Box, step: str) -> str:
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for run_id in box.run_ids():
            if any(e.get("type") == "approval.requested" and e.get("step") == step for e in box.journal(run_id)):
                return run_id
        time.sleep(0.02)
    raise AssertionError(f"no approval requested for {step}")


def test_a_paused_drill_writes_no_report_but_report_rebuilds_an_interim_one(box: Box) -> None:
    steps = STEPS + '  - {{id: flaky, uses: test.record, on_failure: pause, with: {{file: "{record}", fail: true}}}}\n'
    box.write(steps)

    paused = box.drctl("drill", str(box.playbook), "--yes")

    assert paused.returncode == ExitCode.PAUSED
    (run_id,) = box.run_ids()
    assert not (box.run_dir(run_id) / "report.md").exists()
    interim = box.drctl("report", run_id)
    assert interim.returncode == 0
    assert "Interim report" in interim.stdout
    assert "NOT FINISHED" in interim.stdout
    rewritten = box.drctl("report", run_id, "--write")
    assert rewritten.returncode == 0
    assert (box.run_dir(run_id) / "report.md").exists()


def test_runs_due_answers_from_the_history(box: Box) -> None:
    empty = box.drctl("runs", "--due")
    assert empty.returncode == 0
    assert "no drill or RPO check on record" in empty.stdout

    steps = STEPS + (
        '  - {{id: replica, uses: test.record, with: {{file: "{record}", fact: {{kind: rpo.exposure, '
        "data: {{seconds: 3}}}}}}}}\n"
    )
    box.write(steps)
    assert box.drctl("drill", str(box.playbook), "--yes").returncode == 0

    due = box.drctl("runs", "--due")

    assert due.returncode == 0
    lines = due.stdout.splitlines()
    today = datetime.now(UTC)
    quarterly = next(line for line in lines if "RTO drill (quarterly)" in line)
    assert "cli-drill" in quarterly
    assert "due in " in quarterly
    monthly = next(line for line in lines if "RPO check (monthly)" in line)
    assert "due in " in monthly
    data = json.loads(box.drctl("runs", "--due", "--format", "json").stdout)
    assert data["schema"] == "drctl.due/v1"
    checks = {c["check"]: c for c in data["checks"]}
    assert checks["rto-drill"]["every_months"] == 3
    due_at = datetime.fromisoformat(checks["rto-drill"]["due"])
    assert today + timedelta(days=88) < due_at < today + timedelta(days=93)
    assert checks["rpo-check"]["overdue"] is False
