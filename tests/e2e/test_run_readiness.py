"""Everything a run needs that is not Azure's to say is checked before authentication (issue 11, item 4): a
missing ``${ENV}``, the settings, ``--declared-at``, a drill's change windows, a finished run to resume. Each is
refused with its documented exit code and one error that names every missing item, and no credential is built:
no token is asked for, no SDK noise is printed."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drctl.errors import ExitCode
from tests.conftest import ROOT
from tests.e2e.conftest import Rehearsal, fast_sample

pytestmark = pytest.mark.slow

CHANNEL_SECRETS = ("SLACK_OPS_WEBHOOK", "TEAMS_EXEC_WEBHOOK", "SMTP_USER", "SMTP_PASSWORD")


def run(workdir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drctl", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def without(env: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in names}


def token_requests(r: Rehearsal) -> list[dict[str, object]]:
    return [q for q in r.sandbox.client().requests() if q.get("op") == "token"]


def assert_refused_before_authentication(result: subprocess.CompletedProcess[str], code: ExitCode) -> None:
    assert result.returncode == code, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "DefaultAzureCredential" not in result.stderr
    assert "azure: ARM" not in result.stderr  # the line printed once a token is in hand
    assert len(result.stderr.splitlines()) <= 3, result.stderr  # the error and its hint, nothing else


def test_missing_secrets_are_all_named_before_any_token_is_asked_for(rehearsal: Rehearsal) -> None:
    r = rehearsal
    before = len(token_requests(r))

    result = run(r.workdir, without(r.env(), "SLACK_OPS_WEBHOOK", "SMTP_PASSWORD"), "failover", str(r.playbook))

    assert_refused_before_authentication(result, ExitCode.USAGE)
    assert "${SLACK_OPS_WEBHOOK} (used by notifications.channels.ops-slack.webhook)" in result.stderr
    assert "${SMTP_PASSWORD} (used by notifications.channels.stakeholders.smtp.password)" in result.stderr
    assert "nothing was run" in result.stderr
    assert len(token_requests(r)) == before
    assert r.run_ids() == []

    # no Azure settings either: the subscription's variable is one more item of the same list
    bare = without(r.env(), "AZURE_SUBSCRIPTION_ID", *CHANNEL_SECRETS)
    result = run(r.workdir, bare, "failback", str(r.playbook))
    assert_refused_before_authentication(result, ExitCode.USAGE)
    for name in ("AZURE_SUBSCRIPTION_ID", *CHANNEL_SECRETS):
        assert f"${{{name}}}" in result.stderr
    assert len(token_requests(r)) == before


def test_resume_checks_secrets_and_refuses_a_finished_run_before_authentication(rehearsal: Rehearsal) -> None:
    r = rehearsal
    r.sandbox.add_faults({"kind": "error", "op": "arm.read", "times": None, "status": 400, "code": "Refused"})
    failed = r.failover("--yes")
    assert failed.returncode == ExitCode.STEP_FAILED, failed.stdout[-3000:] + failed.stderr[-2000:]
    (run_id,) = r.run_ids()
    r.sandbox.clear_faults()
    journal = (r.workdir / ".drctl" / "runs" / run_id / "journal.jsonl").read_bytes()
    before = len(token_requests(r))

    missing = run(r.workdir, without(r.env(), "AZURE_SUBSCRIPTION_ID", "TEAMS_EXEC_WEBHOOK"), "resume", run_id)

    assert_refused_before_authentication(missing, ExitCode.USAGE)
    assert "${AZURE_SUBSCRIPTION_ID}" in missing.stderr
    assert "${TEAMS_EXEC_WEBHOOK}" in missing.stderr
    assert len(token_requests(r)) == before
    assert (r.workdir / ".drctl" / "runs" / run_id / "journal.jsonl").read_bytes() == journal

    done = r.drctl("resume", run_id, "--yes")
    assert done.returncode == ExitCode.OK, done.stdout[-3000:] + done.stderr[-2000:]

    # a finished run is refused from its journal alone: no setting, secret or sandbox is needed to say so
    bare = {
        k: v
        for k, v in os.environ.items()
        if k == "DRCTL_LOCK_DIR" or not k.startswith(("AZURE_", "DRCTL_", "REQUESTS_CA"))
    }
    bare = {**without(bare, *CHANNEL_SECRETS), "PYTHONPATH": str(ROOT)}
    bare["DRCTL_LOCK_DIR"] = os.environ["DRCTL_LOCK_DIR"]
    finished = run(r.workdir, bare, "resume", run_id)
    assert_refused_before_authentication(finished, ExitCode.NOT_FOUND)
    assert f"run {run_id} already succeeded" in finished.stderr


def unreachable_azure(workdir: Path) -> dict[str, str]:
    """Every secret and setting present, and an authority nobody answers: a run that asked for a token would
    exit 8, so exit 2 proves the refusal came first."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k == "DRCTL_LOCK_DIR" or not k.startswith(("AZURE_", "DRCTL_", "REQUESTS_CA"))
    }
    return {
        **env,
        **dict.fromkeys(CHANNEL_SECRETS, "https://hooks.invalid/x"),
        "AZURE_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000001",
        "AZURE_TENANT_ID": "00000000-0000-0000-0000-000000000002",
        "AZURE_CLIENT_ID": "00000000-0000-0000-0000-000000000003",
        "AZURE_CLIENT_SECRET": "not-a-secret",
        "AZURE_AUTHORITY_HOST": "https://127.0.0.1:9",
        "DRCTL_LOCK_DIR": os.environ["DRCTL_LOCK_DIR"],
        "DRCTL_STATE_DIR": str(workdir / ".drctl"),
        "PYTHONPATH": str(ROOT),
    }


def test_a_drill_outside_its_windows_is_refused_before_authentication(tmp_path: Path) -> None:
    # a one-minute window every day, twelve hours from now: never open while the test runs
    hour = (datetime.now(UTC).hour + 12) % 24
    days = "[mon, tue, wed, thu, fri, sat, sun]"
    window = f'{{days: {days}, start: "{hour:02d}:00", end: "{hour:02d}:01", timezone: UTC}}'
    text = fast_sample()
    old = '{days: [tue, thu], start: "02:00", end: "04:00", timezone: Australia/Sydney}'
    assert old in text
    playbook = tmp_path / "wallet.yaml"
    playbook.write_text(text.replace(old, window))

    result = run(tmp_path, unreachable_azure(tmp_path), "drill", str(playbook), "--yes")

    assert_refused_before_authentication(result, ExitCode.USAGE)
    assert "change window" in result.stderr
    assert not (tmp_path / ".drctl" / "runs").exists() or not list((tmp_path / ".drctl" / "runs").iterdir())


def test_a_declared_time_in_the_future_is_refused_before_authentication(tmp_path: Path) -> None:
    playbook = tmp_path / "wallet.yaml"
    playbook.write_text(fast_sample())
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()

    result = run(tmp_path, unreachable_azure(tmp_path), "failover", str(playbook), "--declared-at", later)

    assert_refused_before_authentication(result, ExitCode.USAGE)
    assert "is in the future" in result.stderr


def test_the_unreachable_authority_really_is_exit_8(tmp_path: Path) -> None:
    """The control for the two tests above: with nothing to refuse, the same shell fails at authentication."""
    playbook = tmp_path / "wallet.yaml"
    playbook.write_text(fast_sample())

    result = run(tmp_path, unreachable_azure(tmp_path), "failover", str(playbook), "--yes")

    assert result.returncode == ExitCode.AZURE, result.stdout[-2000:] + result.stderr[-2000:]
