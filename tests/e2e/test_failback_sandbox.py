"""A failback rehearses on a sandbox seeded as a failover left the estate (issue 11, item 2): the playbook's
target holds the primary, its source is the warm standby. ``failback --sandbox``, ``plan --mode failback
--preflight --sandbox``, ``resume RUN --sandbox`` of a failback and ``sandbox up --mode failback`` all seed it so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from drctl.errors import ExitCode
from drctl.sandbox.estate import estate_sha256
from drctl.sandbox.playbook import estate_from_playbook, reverse_for
from tests.conftest import SAMPLE
from tests.e2e.conftest import bare_drctl as drctl

pytestmark = pytest.mark.slow


def test_reversed_seeding_is_the_estate_after_a_failover() -> None:
    estate = estate_from_playbook(SAMPLE, reverse=True)
    group = estate.sql.failover_groups[0]
    assert (group.primary, group.secondary) == ("sql-wallet-aus", "sql-wallet-aue")
    states = {w.name: w.state.value for w in estate.web_apps}
    assert states == {
        "app-wallet-api-aue": "Stopped",
        "app-wallet-portal-aue": "Stopped",
        "app-wallet-api-aus": "Running",
        "app-wallet-portal-aus": "Running",
    }
    assert {s.name: s.capacity for s in estate.scale_sets} == {
        "vmss-wallet-workers-aue": 1,
        "vmss-wallet-workers-aus": 6,
    }
    records = {r.name: r.values for r in estate.dns.zones[0].records}
    assert records == {"api": ["20.70.20.20"], "portal": ["app-wallet-portal-aus.azurewebsites.net"]}
    # the documents account failed over with the rest and replicates back to where it is declared
    (account,) = estate.storage_accounts
    assert (account.region, account.secondary_region, account.resource_group) == (
        "au-southeast",
        "au-east",
        "rg-wallet-aue",
    )
    # the forward estate is a different one: resume tells them apart by their digest
    assert estate_sha256(estate) != estate_sha256(estate_from_playbook(SAMPLE))


def test_only_a_failback_starts_from_the_failed_over_estate() -> None:
    assert [reverse_for(m) for m in ("failover", "drill", "failback")] == [False, False, True]


def journal(workdir: Path, run_id: str) -> list[dict[str, Any]]:
    path = workdir / ".drctl" / "runs" / run_id / "journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def only_run(workdir: Path) -> str:
    (run_id,) = [p.name for p in (workdir / ".drctl" / "runs").iterdir()]
    return run_id


def test_failback_on_the_embedded_sandbox_returns_home(tmp_path: Path) -> None:
    result = drctl(tmp_path, "failback", str(SAMPLE), "--sandbox", "--yes")

    assert result.returncode == ExitCode.OK, result.stdout[-3000:] + result.stderr[-2000:]
    assert "as failed over (target primary)" in result.stderr
    started = journal(tmp_path, only_run(tmp_path))[0]
    assert (started["mode"], started["source"], started["target"]) == ("failback", "au-southeast", "au-east")
    # the run moved everything back: the summary of the sandbox's state at the end
    assert "failover group fg-wallet: primary sql-wallet-aue" in result.stderr
    assert "DNS api.wallet.example.com A 20.53.10.10" in result.stderr


def test_failback_preflight_on_the_sandbox_finds_the_failed_over_estate(tmp_path: Path) -> None:
    result = drctl(tmp_path, "plan", str(SAMPLE), "--mode", "failback", "--preflight", "--sandbox", "--format", "json")

    assert result.returncode == ExitCode.OK, result.stdout[-3000:] + result.stderr[-2000:]
    checks = {c["step"]: c for c in json.loads(result.stdout)["preflight"]}
    assert checks["replica-integrity"]["worst"] == "ok"
    promote = checks["promote-database"]["findings"]
    assert [(f["current"], f["intended"]) for f in promote] == [
        ("primary sql-wallet-aus, sql-wallet-aue Secondary", "sql-wallet-aue Primary")
    ]


def test_a_failback_resumed_with_sandbox_gets_the_estate_it_began_with(tmp_path: Path) -> None:
    # every ARM read fails: the target assessment aborts the run within seconds, before anything changes
    fault = "kind=error,op=arm.read,times=null,status=400,code=Refused"
    first = drctl(tmp_path, "failback", str(SAMPLE), "--sandbox", "--yes", "--sandbox-fault", fault)
    assert first.returncode == ExitCode.STEP_FAILED, first.stdout[-3000:] + first.stderr[-2000:]
    run_id = only_run(tmp_path)
    began = journal(tmp_path, run_id)[0]["environment"]
    assert began["estate_sha256"] == estate_sha256(estate_from_playbook(SAMPLE, reverse=True))

    again = drctl(tmp_path, "resume", run_id, "--sandbox", "--yes")

    # not refused as another estate (exit 9): the same fault fails the same step again
    assert again.returncode == ExitCode.STEP_FAILED, again.stdout[-3000:] + again.stderr[-2000:]
    resumed = [e for e in journal(tmp_path, run_id) if e["type"] == "run.resumed"]
    assert resumed[-1]["environment"]["estate_sha256"] == began["estate_sha256"]


def test_sandbox_up_seeds_for_a_failback_with_mode(tmp_path: Path) -> None:
    state = tmp_path / "state"
    up = drctl(
        tmp_path,
        *("sandbox", "up", "--from-playbook", str(SAMPLE), "--mode", "failback", "--detach", "--format", "json"),
        *("--state-dir", str(state)),
    )
    assert up.returncode == 0, up.stderr
    try:
        from drctl.sandbox import SandboxClient

        env = json.loads(up.stdout)
        snapshot = SandboxClient.from_env(env).state()
        assert snapshot["failover_groups"]["fg-wallet"]["primary"] == "sql-wallet-aus"
        assert env["DRCTL_SANDBOX_ESTATE"] == estate_sha256(estate_from_playbook(SAMPLE, reverse=True))
    finally:
        down = drctl(tmp_path, "sandbox", "down", "--state-dir", str(state))
        assert down.returncode == 0, down.stderr


def test_sandbox_up_mode_needs_a_playbook(tmp_path: Path) -> None:
    result = drctl(tmp_path, "sandbox", "up", "--mode", "failback", "--state-dir", str(tmp_path / "s"))
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert "--mode goes with --from-playbook" in result.stderr
