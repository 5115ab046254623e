"""``drctl sandbox up|status|down`` as real subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from drctl.errors import ExitCode
from drctl.sandbox import SandboxClient, demo_estate_data
from tests.conftest import ROOT, SAMPLE, drctl_command

pytestmark = pytest.mark.slow


def _run(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        drctl_command(*args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_up_detached_from_a_playbook_then_status_then_down(tmp_path: Path) -> None:
    state = tmp_path / "state"
    up = _run(
        "sandbox",
        "up",
        "--from-playbook",
        str(SAMPLE),
        "--detach",
        "--format",
        "json",
        "--state-dir",
        str(state),
        cwd=tmp_path,
    )
    assert up.returncode == 0, up.stderr
    env = json.loads(up.stdout)
    try:
        assert env["AZURE_AUTHORITY_HOST"] == env["DRCTL_ARM_ENDPOINT"]
        assert env["SLACK_OPS_WEBHOOK"].startswith(env["DRCTL_ARM_ENDPOINT"] + "/_sinks/webhook/")
        assert "api-aue.wallet.example.com:443=127.0.0.1:" in env["DRCTL_RESOLVE"]
        assert Path(env["REQUESTS_CA_BUNDLE"]).is_absolute()
        assert SandboxClient.from_env(env).state()["failover_groups"]["fg-wallet"]["primary"] == "sql-wallet-aue"
        assert (state / "sandbox.json").stat().st_mode & 0o777 == 0o600

        status = _run("sandbox", "status", "--state-dir", str(state), cwd=tmp_path)
        assert status.returncode == 0, status.stderr
        assert "sandbox wallet-platform running" in status.stdout
        for secret in (env["AZURE_CLIENT_SECRET"], env["DRCTL_SANDBOX_TOKEN"], env["SMTP_PASSWORD"]):
            assert secret not in status.stdout

        again = _run("sandbox", "up", "--state-dir", str(state), cwd=tmp_path)
        assert again.returncode == ExitCode.SANDBOX
        assert "already running" in again.stderr
    finally:
        down = _run("sandbox", "down", "--state-dir", str(state), cwd=tmp_path)
    assert down.returncode == 0
    assert "sandbox stopped" in down.stdout
    assert not (state / "sandbox.json").exists()
    gone = _run("sandbox", "status", "--state-dir", str(state), cwd=tmp_path)
    assert gone.returncode == ExitCode.SANDBOX
    assert "no sandbox is running" in gone.stderr


def test_up_in_the_foreground_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    estate = tmp_path / "estate.yaml"
    estate.write_text(yaml.safe_dump(demo_estate_data()))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        drctl_command(
            "sandbox",
            "up",
            "--estate",
            str(estate),
            "--fault",
            "kind=latency,op=web.start,seconds=2",
            "--format",
            "dotenv",
        ),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        state_file = tmp_path / ".drctl" / "sandbox" / "sandbox.json"
        deadline = time.monotonic() + 30
        while not state_file.exists():
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        saved = json.loads(state_file.read_text())
        faults = SandboxClient.from_env(saved["env"]).faults()
        assert faults[0]["rule"] == {"kind": "latency", "op": "web.start", "seconds": 2.0}
    finally:
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=20)
    assert child.returncode == 0, err
    assert "DRCTL_SANDBOX_TOKEN=" in out
    assert "export" not in out
    assert not state_file.exists()


def test_a_malformed_estate_exits_11_naming_the_file_line_and_field(tmp_path: Path) -> None:
    data = demo_estate_data()
    data["scale_sets"][0]["capacity"] = -3
    estate = tmp_path / "broken.yaml"
    estate.write_text(yaml.safe_dump(data, sort_keys=False))
    result = _run("sandbox", "up", "--estate", str(estate), "--state-dir", str(tmp_path / "s"), cwd=tmp_path)
    assert result.returncode == ExitCode.SANDBOX
    assert "broken.yaml:" in result.stderr
    assert "scale_sets[0].capacity" in result.stderr
    unknown = _run("sandbox", "up", "--fault", "kind=meteor", "--state-dir", str(tmp_path / "s"), cwd=tmp_path)
    assert unknown.returncode == ExitCode.SANDBOX
    assert "unknown fault kind 'meteor'" in unknown.stderr


def test_status_and_down_with_a_stale_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (state / "sandbox.json").write_text(json.dumps({"pid": dead.pid, "env": {}}))
    status = _run("sandbox", "status", "--state-dir", str(state), cwd=tmp_path)
    assert status.returncode == ExitCode.SANDBOX
    assert "stale state file" in status.stderr
    down = _run("sandbox", "down", "--state-dir", str(state), cwd=tmp_path)
    assert down.returncode == 0
    assert "stale" in down.stdout
    assert not (state / "sandbox.json").exists()


def test_help_imports_nothing_heavy(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "drctl", "sandbox", "--help"],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    heavy = {
        m
        for m in imported
        if m.split(".")[0] in ("azure", "cryptography", "aiosmtpd", "dns") or m.startswith("drctl.sandbox")
    }
    assert heavy == set()
