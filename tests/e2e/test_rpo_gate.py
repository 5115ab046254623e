"""The RPO gate and the decision to force, on the sandbox through the real SDK: each test is a false statement
drctl used to make (issue 9), played as the adversary would play it. The count is the test: forced POSTs in the
sandbox's request log, and the data loss the sandbox records."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from drctl.errors import ExitCode
from tests.e2e.conftest import Rehearsal, fast_sample, rehearsal_of, wait_for

pytestmark = pytest.mark.slow

STORAGE_STEP = """
  - id: fail-over-storage
    name: Documents storage to the DR region
    uses: storage.failover
    needs: [approve-failover]
    budget: 2m
    with:
      mode: planned-then-unplanned
"""


def with_storage_step(text: str) -> str:
    anchor = "\n  - id: start-web-apps\n"
    assert anchor in text
    return text.replace(anchor, STORAGE_STEP + anchor, 1)


def forced_posts(r: Rehearsal) -> list[dict[str, Any]]:
    return [q for q in r.mutations() if "forcefailoverallowdataloss" in q["path"].lower()]


def storage_failovers(r: Rehearsal) -> list[dict[str, Any]]:
    return [
        q for q in r.mutations() if q["path"].lower().endswith("/failover") and "storageaccounts" in q["path"].lower()
    ]


def asking_or_ended(r: Rehearsal, process: subprocess.Popen[str], step: str) -> Callable[[], bool]:
    def check() -> bool:
        if process.poll() is not None:
            return True
        try:
            events = r.journal() if r.run_ids() else []
        except FileNotFoundError:  # the run's directory exists a moment before its journal
            return False
        return any(e.get("type") == "approval.requested" and e.get("step") == step for e in events)

    return check


def _has_fact(r: Rehearsal, kind: str) -> bool:
    try:
        return bool(r.facts(kind))
    except FileNotFoundError:
        return False


def test_a_slow_source_is_unhealthy_not_lost_and_is_never_forced(rehearsal: Rehearsal) -> None:
    """Health and replication endpoints slower than the 5 s probe timeout, the failover group 30 minutes behind,
    and one planned failover failing: drctl used to call the source lost, force, and lose 1800 s of writes."""
    r = rehearsal
    r.sandbox.client().set_replication_lag(1800, target="fg-wallet")
    r.sandbox.add_faults(
        [
            {"kind": "latency", "op": "app.health", "seconds": 6},
            {"kind": "latency", "op": "app.replication", "seconds": 6},
            {"kind": "lro_failure", "op": "sql.failover", "times": 1},
        ]
    )
    process = r.start("failover", str(r.playbook), "--yes")
    try:
        wait_for(
            lambda: process.poll() is not None or (bool(r.run_ids()) and _has_fact(r, "sql.failover")),
            timeout=240,
            what="the failover to end",
        )
        # the target must pass its health check before DNS moves: the slowness was the source's story
        r.sandbox.client().clear_faults()
        out, err = process.communicate(timeout=240)
    finally:
        if process.poll() is None:
            process.kill()
    assert forced_posts(r) == [], "nothing forced while ARM says the source replicates"
    assert r.sandbox.client().data_loss() == []
    assert process.returncode == ExitCode.OK, out[-3000:] + err[-3000:]
    (failover,) = r.facts("sql.failover")
    assert failover["mode"] == "planned"
    (assessment,) = r.facts("source.assessment")
    assert assessment["verdict"] == "alive"
    says = {s["what"]: s for s in assessment["signals"]}
    probes = [s for s in says.values() if s["origin"] == "probe"]
    assert probes, "drctl's own probes are part of the evidence"
    assert all(s["says"] == "unclear" and "timed out" in s["finding"] for s in probes), probes
    assert any(s["origin"] == "arm" and "CATCH_UP" in s["finding"] for s in says.values())
    assert "the source still answers" in out
    (gate,) = r.facts("rpo.gate")
    assert (gate["passed"], gate["by"]) == (False, "source-alive")
    (loss,) = r.facts("rpo.exposure")
    assert (loss["seconds"], loss["status"], loss["resource"]) == (0, "synchronised", "fg-wallet")


def test_storage_evidence_never_opens_the_gate_of_a_failover_group(tmp_path: Path) -> None:
    """Source region lost, the group 30 minutes behind, the target's replication endpoint not answering: the only
    figure left is the storage account's 5-minute lastSyncTime. It used to pass the SQL gate and lose 1800 s."""
    with rehearsal_of(tmp_path, fast_sample()) as r:
        r.sandbox.client().set_replication_lag(1800, target="fg-wallet")
        r.sandbox.set_region("au-east", up=False)
        r.sandbox.add_faults([{"kind": "error", "op": "app.replication", "times": None, "status": 500}])
        process = r.start("failover", str(r.playbook), "--yes")  # --yes never accepts data loss
        try:
            wait_for(asking_or_ended(r, process, "promote-database"), timeout=180, what="the RPO gate to ask")
            assert process.poll() is None, "the run must stop at the gate, not end"
            assert forced_posts(r) == []
            assert r.primary() == "sql-wallet-aue"
            (asked,) = [
                e for e in r.journal() if e.get("type") == "approval.requested" and e.get("step") == "promote-database"
            ]
            assert "fg-wallet: exposure unknown" in asked["prompt"]
            assert "not measured" in asked["prompt"]
            assert "within" not in asked["prompt"]
            (evidence,) = [f for f in r.facts("rpo.evidence") if f["purpose"] == "gate"]
            assert [(x["resource"], x["status"]) for x in evidence["resources"]] == [("fg-wallet", "unknown")]
            assert r.facts("source.assessment")[-1]["verdict"] == "lost"
            rejected = r.drctl("approve", r.run_ids()[-1], "promote-database", "--reject", "--reason", "no evidence")
            assert rejected.returncode == 0, rejected.stdout + rejected.stderr
            out, err = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == ExitCode.ABORTED, out[-2000:] + err[-2000:]
        assert forced_posts(r) == []
        assert r.sandbox.client().data_loss() == []
        checks = [f for f in r.facts("rpo.evidence") if f["purpose"] == "check"]
        storage = [x for f in checks for x in f["resources"] if x["resource_kind"] == "storage.account"]
        assert storage, "the storage figure is still journaled, as the account's own"
        assert all(x["status"] == "bounded" for x in storage)


def test_accepting_the_loss_of_an_unmeasured_group_keeps_it_unknown(tmp_path: Path) -> None:
    with rehearsal_of(tmp_path, fast_sample()) as r:
        r.sandbox.client().set_replication_lag(1800, target="fg-wallet")
        r.sandbox.set_region("au-east", up=False)
        r.sandbox.add_faults([{"kind": "error", "op": "app.replication", "times": None, "status": 500}])
        result = r.failover("--yes", "--accept-data-loss", "region gone; IC accepts the loss", timeout=240)
        assert result.returncode in (ExitCode.OK, ExitCode.OBJECTIVE_BREACHED), result.stdout[-3000:]
        (loss,) = r.sandbox.client().data_loss()
        assert loss["lost_seconds"] == pytest.approx(1800, abs=30)
        (gate,) = r.facts("rpo.gate")
        assert (gate["by"], gate["exposure_status"], gate["exposure_seconds"]) == ("approval", "unknown", None)
        (exposure,) = r.facts("rpo.exposure")
        assert (exposure["resource"], exposure["failover"], exposure["status"]) == ("fg-wallet", "forced", "unknown")
        assert exposure["seconds"] is None, "an unknown loss is never given a figure, least of all a storage one"
        assert "within" not in result.stdout.split("promote-database", 1)[-1].split("\n", 3)[0]


def test_a_planned_failover_loses_nothing_whatever_a_storage_bound_says(tmp_path: Path) -> None:
    """A storage account 30 minutes behind: its upper bound used to turn a lossless planned failover into
    'RPO not met' (exit 4)."""
    with rehearsal_of(tmp_path, fast_sample()) as r:
        r.sandbox.client().set_replication_lag(1800, target="stwalletdocsaue")
        result = r.failover("--yes")
        assert result.returncode == ExitCode.OK, result.stdout[-3000:] + result.stderr[-3000:]
        finished = r.journal()[-1]
        assert finished["breached"] == []
        assert finished["rpo_exposure_seconds"] == 0
        (loss,) = r.facts("rpo.exposure")
        assert (loss["resource"], loss["status"], loss["seconds"]) == ("fg-wallet", "synchronised", 0)
        storage = [x for f in r.facts("rpo.evidence") for x in f["resources"] if x["resource"] == "stwalletdocsaue"]
        assert storage
        assert storage[0]["status"] == "bounded"
        assert storage[0]["seconds"] >= 1800
        assert r.sandbox.client().data_loss() == []


def test_without_evidence_about_the_group_nothing_says_within(tmp_path: Path) -> None:
    text = fast_sample()
    text = "\n".join(line for line in text.splitlines() if "replication_url:" not in line) + "\n"
    with rehearsal_of(tmp_path, text) as r:
        strict = r.drctl("validate", "--strict", str(r.playbook))
        assert strict.returncode == ExitCode.INVALID_PLAYBOOK, strict.stdout + strict.stderr
        assert "can force a failover of fg-wallet without RPO evidence about it" in strict.stdout + strict.stderr
        plan = r.drctl("plan", str(r.playbook))
        assert "no RPO evidence about fg-wallet" in plan.stdout
        result = r.failover("--yes")
        assert result.returncode == ExitCode.OK, result.stdout[-3000:] + result.stderr[-3000:]
        check = next(
            e for e in r.journal() if e.get("type") == "step.succeeded" and e.get("step") == "replica-integrity"
        )
        assert "exposure unknown" in check["summary"]
        assert "within" not in check["summary"]
        assert "not measured" in check["summary"]


def test_storage_fails_over_planned_while_both_regions_answer(tmp_path: Path) -> None:
    with rehearsal_of(tmp_path, with_storage_step(fast_sample())) as r:
        plan = r.drctl("plan", str(r.playbook), "--preflight", "--format", "json")
        assert plan.returncode == 0, plan.stderr[-2000:]
        checks = {c["step"]: c for c in json.loads(plan.stdout)["preflight"]}
        (finding,) = checks["fail-over-storage"]["findings"]
        assert "planned failover possible" in finding["current"]
        assert r.mutations() == []
        result = r.failover("--yes")
        assert result.returncode == ExitCode.OK, result.stdout[-3000:] + result.stderr[-3000:]
        (post,) = storage_failovers(r)
        assert post["query"].get("failoverType") == "Planned"
        account = r.sandbox.snapshot()["storage_accounts"]["stwalletdocsaue"]
        assert account["primary_region"] == "au-southeast"
        assert r.sandbox.client().data_loss() == []
        (moved,) = r.facts("storage.failover")
        assert moved["type"] == "planned"
        losses = {f["resource"]: f for f in r.facts("rpo.exposure")}
        assert losses["stwalletdocsaue"]["status"] == "synchronised"
        assert losses["stwalletdocsaue"]["seconds"] == 0


def test_with_the_region_lost_storage_fails_over_unplanned_behind_its_own_gate(tmp_path: Path) -> None:
    with rehearsal_of(tmp_path, with_storage_step(fast_sample())) as r:
        r.sandbox.client().set_replication_lag(30, target="fg-wallet")
        r.sandbox.set_region("au-east", up=False)
        result = r.failover("--yes")
        assert result.returncode == ExitCode.OK, result.stdout[-3000:] + result.stderr[-3000:]
        (post,) = storage_failovers(r)
        assert "failoverType" not in post["query"], "no type: the customer-managed (unplanned) failover"
        account = r.sandbox.snapshot()["storage_accounts"]["stwalletdocsaue"]
        assert account["primary_region"] == "au-southeast"
        gates = {g["resource"]: g for g in r.facts("rpo.gate")}
        assert gates["stwalletdocsaue"]["by"] == "measurement"
        assert gates["stwalletdocsaue"]["exposure_status"] == "bounded"
        assert gates["fg-wallet"]["by"] == "measurement", "each resource passed its own gate"
        losses = {d["kind"]: d for d in r.sandbox.client().data_loss()}
        assert losses["storage.failover"]["lost_seconds"] == pytest.approx(300, abs=30)
        exposure = {f["resource"]: f for f in r.facts("rpo.exposure")}
        assert exposure["stwalletdocsaue"]["status"] == "bounded"
        assert exposure["stwalletdocsaue"]["seconds"] >= losses["storage.failover"]["lost_seconds"]


def test_a_storage_account_behind_its_gate_waits_for_a_person(tmp_path: Path) -> None:
    with rehearsal_of(tmp_path, with_storage_step(fast_sample())) as r:
        r.sandbox.client().set_replication_lag(30 * 60, target="stwalletdocsaue")
        r.sandbox.set_region("au-east", up=False)
        process = r.start("failover", str(r.playbook), "--yes")
        try:
            wait_for(asking_or_ended(r, process, "fail-over-storage"), timeout=180, what="the storage gate to ask")
            assert process.poll() is None
            assert storage_failovers(r) == []
            r.drctl("approve", r.run_ids()[-1], "fail-over-storage", "--reject", "--reason", "wait for the region")
            process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == ExitCode.ABORTED
        assert storage_failovers(r) == []
        assert not [d for d in r.sandbox.client().data_loss() if d["kind"] == "storage.failover"]


def test_mode_forced_with_the_source_alive_asks_a_person_first(tmp_path: Path) -> None:
    """A playbook that says `mode: forced`, both regions up and the group 5 s behind: the gate used to pass on
    its measurement and force a live primary without asking anyone."""
    text = fast_sample().replace("mode: planned-then-forced", "mode: forced")
    with rehearsal_of(tmp_path, text) as r:
        process = r.start("failover", str(r.playbook), "--yes")
        try:
            wait_for(asking_or_ended(r, process, "promote-database"), timeout=180, what="a person to be asked")
            assert process.poll() is None, "a live source is never forced on drctl's judgement"
            assert forced_posts(r) == []
            (asked,) = [
                e for e in r.journal() if e.get("type") == "approval.requested" and e.get("step") == "promote-database"
            ]
            assert "the source still answers" in asked["prompt"]
            assert "replicationState CATCH_UP" in asked["prompt"], "the evidence is in the question"
            r.drctl("approve", r.run_ids()[-1], "promote-database", "--reject", "--reason", "it is alive")
            process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == ExitCode.ABORTED
        assert forced_posts(r) == []
        assert r.sandbox.client().data_loss() == []
        assert r.primary() == "sql-wallet-aue"


def test_a_region_whose_control_plane_is_gone_is_lost_by_arm_evidence_too(rehearsal: Rehearsal) -> None:
    r = rehearsal
    r.sandbox.client().set_replication_lag(30, target="fg-wallet")
    r.sandbox.client().set_region("au-east", up=False, control_plane="unavailable")
    result = r.failover("--yes", timeout=300)
    assert result.returncode == ExitCode.OK, result.stdout[-3000:] + result.stderr[-3000:]
    assessment = r.facts("source.assessment")[-1]
    assert assessment["verdict"] == "lost"
    findings = {s["what"]: (s["finding"], s["says"]) for s in assessment["signals"]}
    assert findings["sql-wallet-aue in australiaeast (ARM)"] == ("region unavailable (503)", "lost")
    assert findings["replication of fg-wallet seen from sql-wallet-aus (ARM)"][1] == "lost"
    (failover,) = r.facts("sql.failover")
    assert failover["mode"] == "forced"
    (loss,) = r.sandbox.client().data_loss()
    (exposure,) = r.facts("rpo.exposure")
    assert exposure["status"] == "bounded"
    assert exposure["seconds"] >= loss["lost_seconds"] - 1, "an upper bound is never below what was lost"
