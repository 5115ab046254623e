"""The mission: fail the wallet platform over on the sandbox through the real SDK, safely, with the source up
and with it lost, and with the faults a DR engineer fears."""

from __future__ import annotations

import json

import pytest

from drctl.errors import ExitCode
from tests.e2e.conftest import Rehearsal, wait_for

pytestmark = pytest.mark.slow


def assert_failed_over(r: Rehearsal) -> None:
    assert r.primary() == "sql-wallet-aus"
    assert r.answer("api.wallet.example.com", "A") == (["20.70.20.20"], 300)
    assert r.answer("portal.wallet.example.com", "CNAME") == (["app-wallet-portal-aus.azurewebsites.net"], 300)
    snapshot = r.sandbox.snapshot()
    assert snapshot["web_apps"]["app-wallet-api-aus"]["state"] == "Running"
    assert snapshot["web_apps"]["app-wallet-portal-aus"]["state"] == "Running"
    assert snapshot["scale_sets"]["vmss-wallet-workers-aus"]["capacity"] >= 5  # 80 % of the source's 6


def test_a_planned_failover_of_the_sample_playbook_moves_everything_and_tells_everyone(rehearsal: Rehearsal) -> None:
    r = rehearsal
    result = r.failover("--yes")
    assert result.returncode == ExitCode.OK, result.stdout[-3000:] + result.stderr[-3000:]
    assert_failed_over(r)
    assert r.sandbox.client().data_loss() == []
    (failover,) = r.facts("sql.failover")
    assert failover["mode"] == "planned"
    # DNS: the previous TTL is journaled, and when clients really switch
    changed = {c["fqdn"]: c for c in r.facts("dns.changed")}
    assert changed["api.wallet.example.com"]["previous_ttl"] == 300  # the appendix's steady state
    assert changed["api.wallet.example.com"]["previous_values"] == ["20.53.10.10"]
    assert changed["api.wallet.example.com"]["clients_switch_by"] > changed["api.wallet.example.com"]["changed_at"]
    assert r.facts("service.restored")
    assert r.facts("rpo.exposure")[0]["seconds"] <= 15 * 60
    # every ARM call of the run is journaled with its correlation id
    calls = [c for fact in r.facts("arm.calls") for c in fact["calls"]]
    assert any(c["method"] == "POST" and c["path"].endswith("/failover") for c in calls)
    assert all(c["correlation_id"] for c in calls)
    # messages: Slack, Teams and e-mail, with run facts filled in and no secret
    hooks = r.sandbox.client().webhooks()
    slack = [h for h in hooks if h["path"].endswith("/ops-slack")]
    teams = [h for h in hooks if h["path"].endswith("/exec-teams")]
    assert any("P1 failover: wallet-platform au-east -> au-southeast started" in str(h["body"]) for h in slack)
    assert any("now serves from au-southeast" in str(h["body"]) for h in teams)
    emails = r.sandbox.client().emails()
    assert any("wallet-stakeholders@wallet.example.com" in e["rcpt_tos"] for e in emails)
    assert any("complete" in e["subject"] for e in emails)
    finished = r.journal()[-1]
    assert finished["type"] == "run.finished"
    assert finished["service_restored"] is True
    # the RTO is when clients are served by the target: the authoritative answer plus the previous TTL (300 s)
    (restored,) = r.facts("service.restored")
    assert restored["previous_ttl_seconds"] == 300
    rto = next(o for o in finished["verdict"]["objectives"] if o["name"] == "RTO")
    assert rto["achieved_seconds"] == finished["rto_achieved_seconds"] >= 300
    assert (rto["met"], finished["verdict"]["headline"], finished["exit_code"]) == (True, "PASSED", 0)
    assert "clients served by the target at T+5m" in result.stdout.splitlines()[-1]
    # no secret in output or journal
    secrets = [v for k, v in r.sandbox.env().items() if k in ("AZURE_CLIENT_SECRET", "SMTP_PASSWORD")]
    secrets.append(r.sandbox.env()["SLACK_OPS_WEBHOOK"].rsplit("/", 1)[0] + "/ops-slack")
    for secret in secrets:
        assert secret not in result.stdout + result.stderr
        assert secret not in r.journal_text()


def test_with_the_source_region_lost_the_failover_is_forced_within_the_rpo_gate(rehearsal: Rehearsal) -> None:
    r = rehearsal
    r.sandbox.client().set_replication_lag(30)
    r.sandbox.set_region("au-east", up=False)
    result = r.failover("--yes")
    assert result.returncode == ExitCode.OK, result.stdout[-3000:] + result.stderr[-3000:]
    assert_failed_over(r)
    (failover,) = r.facts("sql.failover")
    assert failover["mode"] == "forced"
    assert r.facts("sql.planned_failed"), "planned first, forced only when planned cannot work"
    (gate,) = r.facts("rpo.gate")
    assert gate["passed"] is True
    assert gate["by"] == "measurement"
    exposure = r.facts("rpo.exposure")[-1]
    assert exposure["upper_bound"] is True  # the source cannot be asked: an honest upper bound
    (loss,) = r.sandbox.client().data_loss()
    assert loss["lost_seconds"] == pytest.approx(30, abs=15)
    # the source's assessment failed, as it should, without stopping the run
    assert "assess-source" in r.journal()[-1]["advisory_failures"]


def test_replication_lag_over_the_rpo_stops_a_forced_failover_until_someone_accepts_the_loss(
    rehearsal: Rehearsal,
) -> None:
    r = rehearsal
    r.sandbox.client().set_replication_lag(20 * 60)
    r.sandbox.set_region("au-east", up=False)
    process = r.start("failover", str(r.playbook), "--yes")  # --yes does not accept data loss

    def asking() -> bool:
        return bool(r.run_ids()) and any(
            e.get("type") == "approval.requested" and e.get("step") == "promote-database" for e in r.journal()
        )

    wait_for(asking, what="the RPO gate to ask")
    assert r.primary() == "sql-wallet-aue", "nothing is forced while the gate waits"
    run_id = r.run_ids()[-1]
    approved = r.drctl("approve", run_id, "promote-database", "--reason", "CEO accepts 20 minutes of loss")
    assert approved.returncode == 0, approved.stdout + approved.stderr
    out, err = process.communicate(timeout=120)
    assert process.returncode == ExitCode.OBJECTIVE_BREACHED, out[-2000:] + err[-2000:]  # the RPO was breached
    assert_failed_over(r)
    (gate,) = r.facts("rpo.gate")
    assert gate["by"] == "approval"
    assert gate["reason"] == "CEO accepts 20 minutes of loss"
    rpo = next(o for o in r.journal()[-1]["verdict"]["objectives"] if o["name"] == "RPO")
    assert rpo["met"] is False  # a forced failover that cannot show it stayed within the RPO


def test_a_rejected_data_loss_aborts_and_changes_nothing_more(rehearsal: Rehearsal) -> None:
    r = rehearsal
    r.sandbox.client().set_replication_lag(20 * 60)
    r.sandbox.set_region("au-east", up=False)
    process = r.start("failover", str(r.playbook), "--yes")
    wait_for(
        lambda: (
            bool(r.run_ids())
            and any(e.get("type") == "approval.requested" and e.get("step") == "promote-database" for e in r.journal())
        ),
        what="the RPO gate to ask",
    )
    r.drctl("approve", r.run_ids()[-1], "promote-database", "--reject", "--reason", "wait for the region")
    process.communicate(timeout=60)
    assert process.returncode == ExitCode.ABORTED
    assert r.primary() == "sql-wallet-aue"
    assert r.answer("api.wallet.example.com", "A") == (["20.53.10.10"], 300)
    assert r.sandbox.client().data_loss() == []


def test_accept_data_loss_answers_the_gate_in_advance_with_its_reason(rehearsal: Rehearsal) -> None:
    r = rehearsal
    r.sandbox.client().set_replication_lag(20 * 60)
    r.sandbox.set_region("au-east", up=False)
    result = r.failover("--yes", "--accept-data-loss", "region lost for hours; IC approved at 02:10")
    assert result.returncode == ExitCode.OBJECTIVE_BREACHED, result.stdout[-2000:] + result.stderr[-2000:]
    assert_failed_over(r)
    (gate,) = r.facts("rpo.gate")
    assert gate["reason"] == "region lost for hours; IC approved at 02:10"
    assert r.journal()[0]["options"]["accept_data_loss"] == "region lost for hours; IC approved at 02:10"


def test_throttling_a_failing_long_running_operation_and_a_stale_etag_are_survived(rehearsal: Rehearsal) -> None:
    r = rehearsal
    r.sandbox.add_faults(
        [
            {"kind": "throttle", "op": "web.start", "times": 2, "retry_after": 1},
            {"kind": "lro_failure", "op": "sql.failover", "times": 1},
            {"kind": "error", "op": "dns.write", "times": 1, "status": 412, "code": "PreconditionFailed"},
        ]
    )
    result = r.failover("--yes")
    assert result.returncode == ExitCode.OK, result.stdout[-3000:] + result.stderr[-3000:]
    assert_failed_over(r)
    events = r.journal()
    assert any(e.get("type") == "attempt.failed" and e.get("step") == "promote-database" for e in events)
    assert r.facts("dns.conflict"), "the 412 was noticed, the record re-read, and the change re-decided"


def test_a_record_someone_else_pointed_elsewhere_is_never_overwritten(rehearsal: Rehearsal) -> None:
    r = rehearsal
    r.sandbox.client().set_dns_record("wallet.example.com", "A", "api", ["203.0.113.7"], ttl=60)
    result = r.failover("--yes")
    assert result.returncode == ExitCode.STEP_FAILED
    assert "203.0.113.7" in result.stdout
    assert "does not overwrite" in result.stdout
    assert r.answer("api.wallet.example.com", "A") == (["203.0.113.7"], 60)


def test_with_the_token_endpoint_down_the_run_stops_before_anything_changes(rehearsal: Rehearsal) -> None:
    r = rehearsal
    r.sandbox.add_faults([{"kind": "token_endpoint_down"}])
    result = r.failover("--yes", timeout=180)
    assert result.returncode == ExitCode.AZURE, result.stderr[-2000:]
    assert "cannot authenticate to Azure" in result.stderr
    assert r.mutations() == []
    assert r.run_ids() == [], "no run was journaled: nothing was started"
    assert r.sandbox.client().webhooks() == []


def test_plan_preflight_reads_the_estate_and_never_changes_it(rehearsal: Rehearsal) -> None:
    r = rehearsal
    result = r.drctl("plan", str(r.playbook), "--preflight", "--format", "json")
    assert result.returncode == 0, result.stderr[-2000:]
    checks = {c["step"]: c for c in json.loads(result.stdout)["preflight"]}
    dns = checks["dns-swap"]["findings"][0]
    assert dns["current"] == "20.53.10.10 TTL 300"
    assert dns["severity"] == "ok"  # the steady-state TTL leaves the RTO room for clients to switch
    assert checks["promote-database"]["findings"][0]["current"].startswith("primary sql-wallet-aue")
    assert checks["announce-start"]["note"], "steps without a preflight are listed, never skipped silently"
    assert r.mutations() == []
    assert r.sandbox.client().webhooks() == []
    assert r.sandbox.client().emails() == []
