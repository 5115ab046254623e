"""kill -9 during the SQL failover, against a `drctl sandbox up` process, then `drctl resume`: no second failover."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from drctl.errors import ExitCode
from drctl.sandbox import SandboxClient
from tests.conftest import ROOT
from tests.e2e.conftest import fast_sample, wait_for

pytestmark = pytest.mark.slow


def drctl(args: list[str], env: dict[str, str], cwd: Path, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drctl", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **kw,  # type: ignore[call-overload]
    )


def test_a_run_killed_during_the_sql_failover_resumes_without_failing_over_twice(tmp_path: Path) -> None:
    playbook = tmp_path / "wallet.yaml"
    playbook.write_text(fast_sample())
    base = {
        k: v
        for k, v in os.environ.items()
        if k == "DRCTL_LOCK_DIR" or not k.startswith(("AZURE_", "DRCTL_", "REQUESTS_CA"))
    }
    base["PYTHONPATH"] = str(ROOT)
    up = drctl(
        [
            "sandbox",
            "up",
            "--from-playbook",
            str(playbook),
            "--state-dir",
            str(tmp_path / "sb"),
            "--detach",
            "--format",
            "json",
            "--fault",
            "kind=latency,op=sql.failover,seconds=3",
        ],
        base,
        tmp_path,
    )
    assert up.returncode == 0, up.stderr
    env = {**base, **json.loads(up.stdout)}
    try:
        admin = SandboxClient.from_env(env)
        run = subprocess.Popen(
            [sys.executable, "-m", "drctl", "failover", str(playbook), "--yes"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def failing_over() -> bool:
            return any(r["path"].endswith("/failover") for r in admin.requests(method="POST"))

        wait_for(failing_over, what="the failover POST to reach the sandbox")
        os.kill(run.pid, signal.SIGKILL)  # mid-operation: Azure goes on, drctl is gone
        run.wait(10)
        wait_for(
            lambda: admin.state()["failover_groups"]["fg-wallet"]["primary"] == "sql-wallet-aus",
            what="the sandbox to finish the failover it accepted",
        )
        (run_id,) = [p.name for p in (tmp_path / ".drctl" / "runs").iterdir()]
        resumed = drctl(["resume", run_id, "--yes"], env, tmp_path)
        assert resumed.returncode == ExitCode.OK, resumed.stdout[-3000:] + resumed.stderr[-2000:]
        failovers = [r for r in admin.requests(method="POST") if "/failoverGroups/" in r["path"]]
        assert len(failovers) == 1, failovers
        lines = [
            json.loads(x) for x in (tmp_path / ".drctl" / "runs" / run_id / "journal.jsonl").read_text().splitlines()
        ]
        checked = [e for e in lines if e["type"] == "step.checked" and e["step"] == "promote-database"]
        assert checked
        assert checked[0]["done"] is True
        verified = drctl(["runs", "verify", run_id], env, tmp_path)
        assert verified.returncode == 0, verified.stdout
        assert admin.state()["dns"]["wallet.example.com"]["served"][0]["values"] == ["20.70.20.20"]
    finally:
        drctl(["sandbox", "down", "--state-dir", str(tmp_path / "sb")], base, tmp_path)
