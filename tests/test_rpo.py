from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drctl.actions.rpo import (
    EvidenceError,
    ReplicaReport,
    account_resource,
    for_resource,
    from_app,
    from_storage,
    group_resource,
    loss_fact,
    parse_report,
    passes,
    unknown,
    worst,
)
from drctl.actions.source_loss import Assessment, Signal, decide, probe_signal, replication_signal

NOON = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
FG = group_resource("fg-wallet")


def test_exposure_is_measured_when_both_regions_answer() -> None:
    source = ReplicaReport("au-east", "Primary", NOON)
    target = ReplicaReport("au-southeast", "Secondary", NOON - timedelta(seconds=42))
    found = from_app(source, target, t0=NOON + timedelta(minutes=5), group="fg-wallet")
    assert (found.seconds, found.status, found.resource) == (42, "measured", FG)
    assert not found.upper_bound
    assert "measured" in found.text()


def test_exposure_is_an_upper_bound_from_t0_when_the_source_does_not_answer() -> None:
    target = ReplicaReport("au-southeast", "Secondary", NOON - timedelta(seconds=30))
    found = from_app(None, target, t0=NOON, group="fg-wallet")
    assert (found.seconds, found.status) == (30, "bounded")
    assert found.upper_bound
    assert "at most 30s" in found.text()


def test_evidence_about_one_resource_never_stands_for_another() -> None:
    storage = from_storage("stwallet", NOON - timedelta(minutes=5), now=NOON)
    assert storage.resource == account_resource("stwallet")
    mine = for_resource([storage], FG, why_unknown="the replication endpoint did not answer")
    assert mine.status == "unknown"
    assert mine.seconds is None
    assert not passes(mine, 15 * 60), "no evidence about the failover group is a no, whatever storage says"
    assert "within" not in mine.text()
    assert "unknown" in mine.text()
    assert for_resource([storage], account_resource("stwallet"), why_unknown="-") == storage


def test_a_gate_passes_on_its_own_only_on_a_figure_within_it() -> None:
    assert passes(from_storage("st", NOON - timedelta(minutes=5), now=NOON), 15 * 60)
    assert not passes(from_storage("st", NOON - timedelta(minutes=30), now=NOON), 15 * 60)
    assert not passes(unknown(FG, "nothing"), 10**9)


def test_the_worst_known_figure_wins_and_unknown_is_no_figure() -> None:
    storage = from_storage("st1", NOON - timedelta(minutes=3), now=NOON)
    app = from_app(ReplicaReport("a", "Primary", NOON), ReplicaReport("b", "Secondary", NOON), t0=NOON, group="fg")
    assert worst([app, storage, unknown(FG, "x")]) == storage
    assert worst([unknown(FG, "x")]) is None


def test_a_planned_failover_loses_nothing_by_construction_and_a_forced_one_keeps_its_label() -> None:
    bounded = from_storage("st1", NOON - timedelta(minutes=20), now=NOON)
    planned = loss_fact(account_resource("st1"), "planned", bounded)
    assert planned["seconds"] == 0
    assert planned["status"] == "synchronised"
    forced = loss_fact(FG, "forced", None)
    assert forced["seconds"] is None
    assert forced["status"] == "unknown"
    unplanned = loss_fact(account_resource("st1"), "unplanned", bounded)
    assert (unplanned["seconds"], unplanned["status"], unplanned["upper_bound"]) == (1200, "bounded", True)


def test_replication_reports_are_read_strictly_and_name_their_group() -> None:
    found = parse_report(
        {"last_committed_write": "2026-11-26T12:00:00Z", "role": "Primary", "failover_group": "fg"}, "a"
    )
    assert found.last_committed_write == NOON
    assert found.failover_group == "fg"
    with pytest.raises(EvidenceError, match="no readable"):
        parse_report({"role": "Primary"}, "a")
    with pytest.raises(EvidenceError, match="without a time zone"):
        parse_report({"last_committed_write": "2026-11-26T12:00:00"}, "a")


def test_a_timeout_is_unhealthy_never_lost() -> None:
    assert probe_signal("health", error="GET https://x/: timed out").says == "unclear"
    assert probe_signal("health", error="GET https://x/: connection refused").says == "lost"
    assert probe_signal("health", status=503).says == "alive", "an error answer is an answer: unhealthy, not lost"


def test_the_source_is_lost_only_when_arm_and_another_signal_say_so_and_nothing_says_otherwise() -> None:
    suspended = replication_signal("replication", "SUSPENDED", "Primary")
    refused = probe_signal("health", error="connection refused")
    slow = probe_signal("replication", error="timed out")
    neutral = Signal("arm", "source server", "answers a read", "neutral")
    assert decide([suspended, refused, neutral]) == "lost"
    assert decide([suspended]) == "unclear", "ARM alone is not a clear loss"
    assert decide([refused, probe_signal("replication", error="connection refused")]) == "unclear", (
        "drctl's own probes alone are not a clear loss"
    )
    assert decide([suspended, refused, slow]) == "unclear"
    assert decide([replication_signal("replication", "CATCH_UP", "Primary"), refused]) == "alive"
    found = Assessment("fg", (suspended, refused))
    assert found.as_fact()["verdict"] == "lost"
    assert "connection refused" in found.text()


def test_views_say_what_a_figure_is() -> None:
    from drctl.cli.facts_view import describe_fact

    unknown_loss = loss_fact(FG, "forced", None)
    assert describe_fact("rpo.exposure", unknown_loss) == "fg-wallet: forced failover, data loss UNKNOWN (no evidence)"
    planned = describe_fact("rpo.exposure", loss_fact(FG, "planned", None))
    assert planned == "fg-wallet: planned failover, nothing lost (synchronised)"
    gate = {"resource": "fg-wallet", "by": "source-alive", "passed": False, "gate_seconds": 900}
    assert describe_fact("rpo.gate", gate) == "not forcing fg-wallet: the source still answers"
