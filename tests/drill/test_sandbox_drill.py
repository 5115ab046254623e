"""End to end: ``drctl drill`` of the sample playbook against the sandbox, through the real Azure SDK, real DNS,
HTTP and SMTP. The original primary is primary again at the end, DNS points back with TTL 300, messages went
only to drill audiences and say [DRILL], and every figure of the report is the journal's."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import xmlschema

from drctl.errors import ExitCode
from drctl.sandbox import Sandbox, estate_from_playbook
from tests.conftest import ROOT
from tests.e2e.conftest import Rehearsal, fast_sample

pytestmark = pytest.mark.slow

SAMPLE_DRILL = "drill:\n  hold: 10m\n  probe_interval: 1m\n"
#: the sample's drill with a hold of a second: the rest of the playbook is the sample's (with fewer, closer samples)
SHORT_DRILL = "drill:\n  hold: 1s\n  probe_interval: 500ms\n"


def short_drill(tmp_path: Path) -> Path:
    text = fast_sample()
    assert SAMPLE_DRILL in text
    playbook = tmp_path / "wallet.yaml"
    # health samples 100 ms apart, not a second: the drill runs each check twice
    assert "interval: 1s\n" in text
    playbook.write_text(text.replace(SAMPLE_DRILL, SHORT_DRILL).replace("interval: 1s\n", "interval: 100ms\n"))
    return playbook


@pytest.fixture
def rehearsal(tmp_path: Path) -> Iterator[Rehearsal]:
    playbook = short_drill(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    sandbox = Sandbox.start(estate_from_playbook(playbook), workdir=tmp_path / "sandbox")
    try:
        yield Rehearsal(sandbox, work, playbook)
    finally:
        sandbox.stop()


def events(r: Rehearsal, kind: str) -> list[dict[str, Any]]:
    return [e for e in r.journal() if e["type"] == kind]


def test_a_drill_of_the_sample_fails_over_holds_and_fails_back_with_a_report_true_to_its_journal(
    rehearsal: Rehearsal,
) -> None:
    r = rehearsal
    assert r.primary() == "sql-wallet-aue"

    result = r.drctl("drill", str(r.playbook), "--yes", "--outside-window", "--reason", "a scheduled test drill")

    assert result.returncode == ExitCode.OK, result.stdout[-3000:] + result.stderr[-3000:]
    # the original primary is primary again, and DNS points back with the new TTL
    assert r.primary() == "sql-wallet-aue"
    assert r.answer("api.wallet.example.com", "A") == (["20.53.10.10"], 300)
    assert r.answer("portal.wallet.example.com", "CNAME") == (["app-wallet-portal-aue.azurewebsites.net"], 300)
    assert [(f["primary"], f["mode"]) for f in r.facts("sql.failover")] == [
        ("sql-wallet-aus", "planned"),
        ("sql-wallet-aue", "planned"),
    ]
    assert r.sandbox.client().data_loss() == []
    # messages: only to channels whose audiences include drill, every one marked as a drill
    hooks = r.sandbox.client().webhooks()
    assert hooks
    assert {h["path"].rsplit("/", 1)[-1] for h in hooks} == {"ops-slack"}  # exec-teams is production only
    assert all("[DRILL]" in json.dumps(h["body"]) for h in hooks)
    emails = r.sandbox.client().emails()
    assert emails
    assert all(e["subject"].startswith("[DRILL]") for e in emails)
    assert any("now serves from au-east" in e["subject"] for e in emails)  # the failback's own words
    sent = r.facts("notify.sent")
    assert {m["audience"] for m in sent} == {"drill"}
    assert len(sent) == len(hooks) + len(emails)
    # the hold probed the DR region's health endpoint, and the failback verified the source's
    probes = r.facts("drill.probe")
    assert len(probes) >= 3
    assert {p["url"] for p in probes} == {"https://api-aus.wallet.example.com/healthz"}
    assert all(p["ok"] for p in probes)

    run_dir = r.workdir / ".drctl" / "runs" / r.run_ids()[-1]
    report = json.loads((run_dir / "report.json").read_text())
    assert_report_is_the_journal(report, r.journal(), run_dir)
    assert report["verdict"]["headline"] == "PASSED"
    # a sandbox of its own (`drctl sandbox up`'s environment) is still a sandbox: drctl knows, and says rehearsal
    window = report["change_window"]
    assert (window["declared"], window["sandbox"], window["override_reason"]) == (True, True, "a scheduled test drill")
    xmlschema.XMLSchema(ROOT / "tests" / "reports" / "junit.xsd").validate(str(run_dir / "report.xml"))
    page = ET.fromstring((run_dir / "report.html").read_text())  # noqa: S314 - drctl's own output under test
    assert not [e for e in page.iter() if e.tag.rsplit("}", 1)[-1] in ("script", "link", "img")]


def assert_report_is_the_journal(report: dict[str, Any], journal: list[dict[str, Any]], run_dir: Path) -> None:
    """Every figure the report states, against the journal line it comes from."""
    started, finished = journal[0], journal[-1]
    assert finished["type"] == "run.finished"
    objectives = {o["name"]: o for o in report["verdict"]["objectives"]}
    assert objectives["RTO"]["achieved_seconds"] == finished["rto_achieved_seconds"]
    assert objectives["RTO"]["met"] is True
    # the RTO is when clients are served by the target: verified at the authoritative servers + the previous TTL
    rto = objectives["RTO"]
    assert rto["achieved_seconds"] == rto["authoritative_seconds"] + rto["client_lag_seconds"]
    assert rto["client_lag_seconds"] == 300
    journaled = {o["name"]: o for o in finished["verdict"]["objectives"]}
    assert objectives == journaled  # the report shows the journaled verdict, never a recomputed one
    # both directions were planned failovers: nothing lost by construction, whatever the exposure measured before
    assert (objectives["RPO"]["achieved_seconds"], objectives["RPO"]["evidence"]) == (0.0, "none by construction")
    # a drill against a sandbox is a rehearsal, in the journal and the report
    assert started["environment"]["kind"] == "sandbox"
    assert report["run"]["rehearsal"] is report["verdict"]["rehearsal"] is True
    assert report["rpo"]["exposure_seconds"] == finished["rpo_exposure_seconds"]
    assert report["run"]["playbook_sha256"] == started["playbook_sha256"]
    assert report["run"]["operator"] == started["operator"]
    assert report["run"]["exit_code"] == finished["exit_code"] == 0
    restored = [e for e in journal if e["type"] == "fact" and e["kind"] == "service.restored"]
    assert [e["step"] for e in restored] == ["failover:dns-swap", "failback:dns-swap"]
    failover, hold, failback = report["phases"]
    assert (failover["name"], hold["name"], failback["name"]) == ("failover", "hold", "failback")
    assert failover["restored_at"] == restored[0]["data"].get("at", restored[0]["at"])
    assert failback["restored_at"] == restored[1]["data"].get("at", restored[1]["at"])
    ended = {e["step"]: e for e in journal if e["type"] in ("step.succeeded", "step.failed")}
    assert [s["key"] for s in report["steps"]] == [s["id"] for s in started["steps"]]
    for step in report["steps"]:
        assert step["actual_seconds"] == ended[step["key"]]["duration_seconds"], step["key"]
        assert step["attempts"] == ended[step["key"]]["attempt"]
        assert step["finished_at"] == ended[step["key"]]["at"]
    changed = [e["data"] for e in journal if e["type"] == "fact" and e["kind"] == "dns.changed"]
    assert [(d["fqdn"], d["values"], d["ttl"], d["previous_ttl"], d["clients_switch_by"]) for d in report["dns"]] == [
        (c["fqdn"], c["values"], c["ttl"], c["previous_ttl"], c["clients_switch_by"]) for c in changed
    ]
    granted = [e for e in journal if e["type"] == "approval.granted"]
    assert [(a["step"], a["approver"], a["at"]) for a in report["approvals"]] == [
        (g["step"], g["approver"], g["at"]) for g in granted
    ]
    sent = [e for e in journal if e["type"] == "fact" and e["kind"] == "notify.sent"]
    assert [(m["channel"], m["message_id"], m["at"]) for m in report["messages"]] == [
        (s["data"]["channel"], s["data"]["message_id"], s["at"]) for s in sent
    ]
    probes = [e for e in journal if e["type"] == "fact" and e["kind"] == "drill.probe"]
    assert [(p["n"], p["status"]) for p in report["probes"]] == [(p["data"]["n"], p["data"]["status"]) for p in probes]
    lines = (run_dir / "journal.jsonl").read_bytes().splitlines()
    assert report["journal"]["lines"] == len(lines) == len(journal)
    assert report["journal"]["chain_verified"] is True
    assert report["journal"]["head_sha256"] == hashlib.sha256(lines[-1]).hexdigest()


def test_drill_sandbox_yes_rehearses_in_its_own_sandbox_where_change_windows_do_not_apply(tmp_path: Path) -> None:
    """The issue's "done when" command, on the sample with a short hold: no window open, no reason needed."""
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
    # the sandbox's state as it stopped: the original primary, DNS back at the source with TTL 300
    assert "failover group fg-wallet: primary sql-wallet-aue" in result.stderr
    assert "DNS api.wallet.example.com A 20.53.10.10 TTL 300" in result.stderr
    (run_dir,) = (tmp_path / ".drctl" / "runs").iterdir()
    for name in ("report.md", "report.html", "report.json", "report.xml"):
        assert (run_dir / name).exists()
    report = json.loads((run_dir / "report.json").read_text())
    assert report["verdict"]["headline"] == "PASSED"
    assert report["run"]["options"]["sandbox"] is True
    assert report["change_window"]["sandbox"] is True
