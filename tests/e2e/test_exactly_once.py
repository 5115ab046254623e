"""Exactly once across crashes: drctl killed at the worst moment, resumed, and the sandbox's request log counted.

Each test kills `drctl failover` at one specific moment (a long-running failover in flight, between the DNS
write and its verification, in the middle of the messages) and resumes it while Azure is still busy. The count
of mutating requests and messages in the sandbox is the test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from drctl.errors import ExitCode
from tests.e2e.conftest import Rehearsal, fast_sample, wait_for

pytestmark = pytest.mark.slow


def _fact_seen(r: Rehearsal, kind: str, step: str, **data: Any) -> bool:
    if not r.run_ids():
        return False
    try:
        events = r.journal()
    except ValueError:  # a line being written
        return False
    return any(
        e.get("type") == "fact"
        and e.get("kind") == kind
        and e.get("step") == step
        and all(str(e["data"].get(k, "")).startswith(str(v)) for k, v in data.items())
        for e in events
    )


def _stop(process: subprocess.Popen[str], how: str) -> None:
    """Take drctl down the way an operator's machine would: kill -9, Ctrl-C twice, or the terminal closing."""
    if how == "kill -9":
        os.kill(process.pid, signal.SIGKILL)
    elif how == "ctrl-c twice":
        os.kill(process.pid, signal.SIGINT)
        time.sleep(0.3)
        os.kill(process.pid, signal.SIGINT)
    else:
        os.kill(process.pid, signal.SIGHUP)
    process.communicate(timeout=60)


def _failover_posts(r: Rehearsal, action: str = "") -> list[dict[str, Any]]:
    return [
        m
        for m in r.mutations()
        if "/failovergroups/" in m["path"].lower() and m["path"].lower().endswith(action.lower() or "")
    ]


def _resume(r: Rehearsal, *args: str) -> subprocess.CompletedProcess[str]:
    resumed = r.drctl("resume", r.run_ids()[-1], "--yes", *args)
    assert resumed.returncode in (ExitCode.OK, ExitCode.OBJECTIVE_BREACHED), (
        resumed.stdout[-3000:] + resumed.stderr[-2000:]
    )
    return resumed


@pytest.mark.parametrize("how", ["kill -9", "ctrl-c twice", "SIGHUP"])
def test_a_failover_in_flight_when_drctl_dies_is_followed_on_resume_never_posted_again(
    rehearsal: Rehearsal, how: str
) -> None:
    r = rehearsal
    r.sandbox.add_faults([{"kind": "latency", "op": "sql.failover", "seconds": 8}])
    process = r.start("failover", str(r.playbook), "--yes")
    wait_for(lambda: bool(_failover_posts(r)), what="the failover POST to reach the sandbox")
    time.sleep(1)  # well inside the 8 s operation, after drctl had its answer
    _stop(process, how)
    if how != "SIGHUP":  # a SIGHUP that pauses lets the step in flight finish first
        assert r.primary() == "sql-wallet-aue", "resumed while Azure still fails over"
    _resume(r)
    assert len(_failover_posts(r)) == 1, _failover_posts(r)
    assert r.primary() == "sql-wallet-aus"
    (failover,) = r.facts("sql.failover")
    assert failover["mode"] == "planned"
    # a pause (SIGHUP) lets the process that started the operation follow it to its end before it stops
    ways = ("followed", "started") if how == "SIGHUP" else ("followed",)
    assert any(f["how"] in ways and f["state"] == "Succeeded" for f in r.facts("op.finished"))


def test_a_forced_failover_interrupted_by_a_crash_is_recorded_forced_with_its_gate(rehearsal: Rehearsal) -> None:
    r = rehearsal
    r.sandbox.client().set_replication_lag(30)
    r.sandbox.set_region("au-east", up=False)
    r.sandbox.add_faults([{"kind": "latency", "op": "sql.failover", "seconds": 6}])
    process = r.start("failover", str(r.playbook), "--yes")
    wait_for(
        lambda: bool(_failover_posts(r, "forceFailoverAllowDataLoss")),
        timeout=90,
        what="the forced failover POST to reach the sandbox",
    )
    time.sleep(1)
    _stop(process, "kill -9")
    _resume(r)
    assert len(_failover_posts(r, "forceFailoverAllowDataLoss")) == 1, _failover_posts(r)
    assert len(_failover_posts(r, "failover")) == 1, "one planned attempt before the crash, none after"
    (failover,) = r.facts("sql.failover")
    assert failover["mode"] == "forced", "the failover that took effect, whatever the resumed run found"
    assert failover["gate"] is not None
    assert failover["gate"]["passed"] is True
    assert len(r.sandbox.client().data_loss()) == 1


def test_a_web_app_start_cut_off_by_a_crash_is_watched_for_not_sent_again(rehearsal: Rehearsal) -> None:
    r = rehearsal
    r.sandbox.add_faults([{"kind": "latency", "op": "web.start", "seconds": 6}])
    process = r.start("failover", str(r.playbook), "--yes")

    def starting() -> bool:
        events = r.journal() if r.run_ids() else []
        return any(e.get("type") == "step.progress" and e["text"].startswith("starting web app") for e in events)

    wait_for(starting, timeout=90, what="a web app start on its way")
    time.sleep(1)  # sent: the sandbox holds the answer 6 s, then the app runs
    _stop(process, "kill -9")
    _resume(r)
    starts = [m for m in r.mutations() if m["path"].lower().endswith("/start")]
    per_app: dict[str, int] = {}
    for start in starts:
        per_app[start["path"].split("/")[-2]] = per_app.get(start["path"].split("/")[-2], 0) + 1
    assert per_app
    assert set(per_app.values()) == {1}, per_app


def test_a_scale_set_update_in_flight_at_a_crash_is_followed_not_sent_again(rehearsal: Rehearsal) -> None:
    r = rehearsal
    r.sandbox.add_faults([{"kind": "latency", "op": "vmss.update", "seconds": 8}])
    process = r.start("failover", str(r.playbook), "--yes")

    def updates() -> list[dict[str, Any]]:
        return [m for m in r.mutations() if m["method"] == "PATCH" and "virtualmachinescalesets" in m["path"].lower()]

    wait_for(lambda: bool(updates()), timeout=90, what="the scale set update to reach the sandbox")
    time.sleep(1)  # accepted; the update runs 8 s more
    _stop(process, "kill -9")
    _resume(r)
    assert len(updates()) == 1, updates()
    assert any(f["key"].startswith("vmss.scale") and f["how"] == "followed" for f in r.facts("op.finished"))


def test_a_crash_between_the_dns_write_and_its_verification_verifies_on_resume(rehearsal: Rehearsal) -> None:
    r = rehearsal
    r.sandbox.client().set_dns_propagation_delay(8)
    process = r.start("failover", str(r.playbook), "--yes")
    wait_for(
        lambda: bool(r.run_ids()) and len(r.facts("dns.changed")) == 2,
        timeout=90,
        what="both records written in ARM",
    )
    _stop(process, "kill -9")
    assert not r.facts("dns.verified"), "killed before the authoritative servers answered the new records"
    _resume(r)
    writes = [m for m in r.mutations() if "/dnszones/" in m["path"].lower()]
    assert len(writes) == 2, writes
    (verified,) = r.facts("dns.verified")
    assert verified["answers"], "the authoritative servers were asked"
    assert len(r.facts("service.restored")) == 1
    assert r.journal()[-1]["rto_achieved_seconds"] is not None, "the run reports the service restored"
    swap = [e for e in r.journal() if e.get("step") == "dns-swap" and e["type"] == "step.succeeded"]
    assert swap
    assert swap[-1]["facts"]["verification"]["servers"]


def _deliveries(r: Rehearsal, title_part: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for hook in r.sandbox.client().webhooks():
        body = hook.get("body") or {}
        title = str(body.get("title") or body.get("summary") or body.get("text") or "")
        if title_part in title:
            counts[hook["channel"]] = counts.get(hook["channel"], 0) + 1
    for mail in r.sandbox.client().emails():
        if title_part in mail["subject"]:
            counts["stakeholders"] = counts.get("stakeholders", 0) + 1
    return counts


def test_a_webhook_slower_than_ten_seconds_is_delivered_once_and_journaled_sent(rehearsal: Rehearsal) -> None:
    r = rehearsal
    r.sandbox.add_faults([{"kind": "latency", "op": "sink.webhook", "seconds": 12}])
    process = r.start("failover", str(r.playbook), "--yes")
    wait_for(
        lambda: any(
            _fact_seen(r, kind, "announce-start", channel="ops-slack")
            for kind in ("notify.sent", "notify.failed", "notify.unknown")
        ),
        timeout=90,
        what="the first message's outcome",
    )
    r.sandbox.client().clear_faults()
    out, err = process.communicate(timeout=180)
    assert process.returncode == ExitCode.OK, out[-3000:] + err[-2000:]
    assert _deliveries(r, "started") == {"ops-slack": 1, "exec-teams": 1, "stakeholders": 1}
    sent = [f for f in r.facts("notify.sent") if f["title"].endswith("started")]
    assert {f["channel"] for f in sent} == {"ops-slack", "exec-teams", "stakeholders"}
    hooks = [h for h in r.sandbox.client().webhooks() if h["idempotency_key"]]
    assert hooks, "every webhook carries its idempotency key"
    assert all(h["duplicate_of"] is None for h in hooks)


def test_messages_sent_before_a_crash_are_not_sent_again_and_one_in_doubt_is_not_resent(
    rehearsal: Rehearsal,
) -> None:
    r = rehearsal
    r.sandbox.add_faults([{"kind": "latency", "op": "sink.webhook", "seconds": 4}])
    process = r.start("failover", str(r.playbook), "--yes")
    wait_for(
        lambda: _deliveries(r, "started").get("ops-slack", 0) > 0,
        timeout=60,
        what="the first message delivered",
    )
    time.sleep(1)  # the second is on its way, held 4 s by the receiver
    _stop(process, "kill -9")
    r.sandbox.client().clear_faults()
    time.sleep(5)  # the receiver finishes what it was given
    _resume(r)
    counts = _deliveries(r, "started")
    assert counts["ops-slack"] == 1
    assert counts["stakeholders"] == 1
    assert counts.get("exec-teams", 0) <= 1
    unknown = [f for f in r.facts("notify.unknown") if f["channel"] == "exec-teams"]
    assert unknown, "the message in flight at the crash is recorded as in doubt"
    # and the run's later messages went out once each
    assert _deliveries(r, "complete") == {"ops-slack": 1, "exec-teams": 1, "stakeholders": 1}


def test_an_unplanned_storage_failover_hidden_by_a_crash_stays_unplanned_with_its_gate(tmp_path: Path) -> None:
    """The account's failover took effect while drctl was dead: the resumed run must not call it planned (which
    would report zero data loss) nor send it again; it records what the journal says it asked for."""
    from tests.e2e.test_rpo_gate import rehearsal_of, storage_failovers, with_storage_step

    with rehearsal_of(tmp_path, with_storage_step(fast_sample())) as r:
        r.sandbox.client().set_replication_lag(30, target="fg-wallet")
        r.sandbox.set_region("au-east", up=False)
        r.sandbox.add_faults([{"kind": "latency", "op": "storage.failover", "seconds": 6}])
        process = r.start("failover", str(r.playbook), "--yes")
        wait_for(lambda: bool(storage_failovers(r)), timeout=120, what="the storage failover POST")
        time.sleep(1)
        _stop(process, "kill -9")
        _resume(r)
        assert len(storage_failovers(r)) == 1, storage_failovers(r)
        (failover,) = r.facts("storage.failover")
        assert (failover["type"], failover.get("resumed")) == ("unplanned", True), "recorded from the journal"
        assert failover["gate"] is not None
        assert failover["gate"]["passed"] is True
        exposure = {f["resource"]: f for f in r.facts("rpo.exposure")}
        assert exposure["stwalletdocsaue"]["status"] == "bounded"
        assert exposure["stwalletdocsaue"]["seconds"] > 0
