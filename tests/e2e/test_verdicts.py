"""Verdicts that can be trusted, end to end on the sandbox: the RTO as clients see it, one verdict in every view,
rehearsals marked, and a run that resumes only where it began (issue 9, items 3 to 6)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from drctl.errors import ExitCode
from tests.e2e.conftest import Rehearsal
from tests.e2e.conftest import bare_drctl as drctl

ZONE = "wallet.example.com"


def one_hour_ttls(r: Rehearsal) -> None:
    """Records as a team that never lowered them has them: TTL 3600 at the source's values."""
    client = r.sandbox.client()
    client.set_dns_record(ZONE, "A", "api", ["20.53.10.10"], ttl=3600)
    client.set_dns_record(ZONE, "CNAME", "portal", ["app-wallet-portal-aue.azurewebsites.net"], ttl=3600)


def verdict_of(journal: list[dict[str, Any]]) -> dict[str, Any]:
    finished = journal[-1]
    assert finished["type"] == "run.finished"
    return dict(finished["verdict"])


def objectives(verdict: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["name"]: o for o in verdict["objectives"]}


def assert_every_view_says(r: Rehearsal, run_id: str, verdict: dict[str, Any]) -> None:
    """status, runs and every report form show the journaled verdict, and nothing that contradicts it."""
    status = r.drctl("status", run_id, "--format", "json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["verdict"] == verdict
    text = r.drctl("status", run_id).stdout
    state = next(line for line in text.splitlines() if line.startswith("State: "))
    assert state.startswith(f"State: {verdict['headline']}")
    assert "RTO achieved" not in text
    runs = json.loads(r.drctl("runs", "--format", "json").stdout)["runs"]
    row = next(x for x in runs if x["run_id"] == run_id)
    assert row["state"] == verdict["result"]
    report = json.loads(r.drctl("report", run_id, "--format", "json").stdout)
    assert report["verdict"]["headline"] == verdict["headline"]
    assert report["verdict"]["exit_code"] == verdict["exit_code"]
    assert {o["name"]: o["met"] for o in report["verdict"]["objectives"]} == {
        o["name"]: o["met"] for o in verdict["objectives"]
    }
    markdown = r.drctl("report", run_id).stdout
    assert f"| Outcome | {verdict['headline']} (exit {verdict['exit_code']}) |" in markdown
    junit = r.drctl("report", run_id, "--format", "junit").stdout
    assert f'name="verdict" value="{verdict["headline"]}"' in junit


def test_records_at_ttl_3600_breach_the_rto_although_the_authority_answered_in_seconds(
    rehearsal: Rehearsal,
) -> None:
    r = rehearsal
    one_hour_ttls(r)

    result = r.failover("--yes")

    assert result.returncode == ExitCode.OBJECTIVE_BREACHED, result.stdout[-3000:] + result.stderr[-2000:]
    last = result.stdout.strip().splitlines()[-1]
    assert "run OBJECTIVE BREACHED (exit 4)" in last
    assert "RTO NOT MET: 1h00m" in last
    assert "succeeded" not in last
    assert "achieved" not in last
    assert "RTO BREACHED" in result.stdout  # said at the swap, not only at the end
    journal = r.journal()
    verdict = verdict_of(journal)
    rto = objectives(verdict)["RTO"]
    assert rto["client_lag_seconds"] == 3600
    assert rto["authoritative_seconds"] < 120
    assert rto["achieved_seconds"] == rto["authoritative_seconds"] + 3600
    assert journal[-1]["rto_achieved_seconds"] == rto["achieved_seconds"]
    assert journal[-1]["exit_code"] == 4
    assert_every_view_says(r, r.run_ids()[-1], verdict)


def test_a_run_declared_70_minutes_ago_ends_breached_never_succeeded(rehearsal: Rehearsal) -> None:
    r = rehearsal
    declared = (datetime.now(UTC) - timedelta(minutes=70)).isoformat()

    result = r.failover("--yes", "--declared-at", declared)

    assert result.returncode == ExitCode.OBJECTIVE_BREACHED, result.stdout[-3000:] + result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert any("RTO BREACHED" in line for line in lines)
    assert "run OBJECTIVE BREACHED (exit 4)" in lines[-1]
    assert "succeeded" not in lines[-1]
    assert "achieved" not in lines[-1]
    verdict = verdict_of(r.journal())
    assert objectives(verdict)["RTO"]["achieved_seconds"] > 70 * 60
    assert_every_view_says(r, r.run_ids()[-1], verdict)


def test_plan_preflight_fails_a_ttl_that_cannot_switch_clients_within_the_rto(rehearsal: Rehearsal) -> None:
    r = rehearsal
    one_hour_ttls(r)

    result = r.drctl("plan", str(r.playbook), "--preflight", "--format", "json")

    assert result.returncode == ExitCode.STEP_FAILED, result.stdout[-2000:] + result.stderr[-2000:]
    checks = {c["step"]: c for c in json.loads(result.stdout)["preflight"]}
    findings = checks["dns-swap"]["findings"]
    assert {f["severity"] for f in findings} == {"error"}
    assert all("lower the TTL to 300" in f["message"] for f in findings)
    assert all("past the RTO 1h" in f["message"] for f in findings)
    assert r.mutations() == []


def test_a_failed_failback_reads_the_same_in_status_runs_and_the_report(rehearsal: Rehearsal) -> None:
    r = rehearsal
    # the sandbox is as before any incident: failing back (target -> source) finds nothing to fail back
    result = r.drctl("failback", str(r.playbook), "--yes")

    assert result.returncode == ExitCode.STEP_FAILED, result.stdout[-3000:] + result.stderr[-2000:]
    verdict = verdict_of(r.journal())
    rto = objectives(verdict)["RTO"]
    assert (rto["achieved_seconds"], rto["met"]) == (None, False)
    assert verdict["headline"] == "FAILED"
    assert_every_view_says(r, r.run_ids()[-1], verdict)


def test_a_sandbox_run_resumes_only_on_a_sandbox_of_the_same_estate_and_closes_without_credentials(
    rehearsal: Rehearsal,
) -> None:
    r = rehearsal
    work = r.workdir
    fault = "kind=lro_failure,op=sql.failover,times=50"
    first = drctl(work, "failover", str(r.playbook), "--sandbox", "--yes", "--sandbox-fault", fault)
    assert first.returncode == ExitCode.STEP_FAILED, first.stdout[-3000:] + first.stderr[-2000:]
    assert "REHEARSAL" in first.stdout
    run_id = r.run_ids()[-1]
    began = r.journal(run_id)[0]["environment"]
    assert (began["kind"], began["embedded"], began["faults"]) == ("sandbox", True, [fault])
    assert began["estate_sha256"]

    # the shell points nowhere (or at Azure): resume refuses, says how, and asks for no credential
    refused = drctl(work, "resume", run_id, "--yes")
    assert refused.returncode == ExitCode.NOT_FOUND, refused.stdout[-2000:] + refused.stderr[-2000:]
    assert "rehearsal on a sandbox" in refused.stderr
    assert f"drctl resume {run_id} --sandbox" in refused.stderr
    assert "credential" not in refused.stderr.lower()

    # the hint works as printed: a sandbox seeded the same way, with the same faults
    again = drctl(work, "resume", run_id, "--sandbox", "--yes")
    assert again.returncode == ExitCode.STEP_FAILED, again.stdout[-3000:] + again.stderr[-2000:]
    resumed = [e for e in r.journal(run_id) if e["type"] == "run.resumed"]
    assert resumed[-1]["environment"]["estate_sha256"] == began["estate_sha256"]
    assert resumed[-1]["environment"]["faults"] == [fault]

    # status and report read the journal alone; abort needs no playbook secret, credential or sandbox
    status = drctl(work, "status", run_id)
    assert status.returncode == 0, status.stderr
    assert "REHEARSAL" in status.stdout
    report = drctl(work, "report", run_id)
    assert report.returncode == 0, report.stderr
    assert "REHEARSAL" in report.stdout
    aborted = drctl(work, "resume", run_id, "--abort", "--reason", "rehearsal over")
    assert aborted.returncode == ExitCode.ABORTED, aborted.stdout[-2000:] + aborted.stderr[-2000:]
    assert verdict_of(r.journal(run_id))["result"] == "aborted"
