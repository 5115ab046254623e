from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drctl.actions.rpo import EvidenceError, ReplicaReport, from_app, from_storage, parse_report, worst

NOON = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_exposure_is_exact_when_both_regions_answer() -> None:
    source = ReplicaReport("au-east", "Primary", NOON)
    target = ReplicaReport("au-southeast", "Secondary", NOON - timedelta(seconds=42))
    found = from_app(source, target, t0=NOON + timedelta(minutes=5))
    assert found.seconds == 42
    assert not found.upper_bound


def test_exposure_is_an_upper_bound_from_t0_when_the_source_is_lost() -> None:
    target = ReplicaReport("au-southeast", "Secondary", NOON - timedelta(seconds=30))
    found = from_app(None, target, t0=NOON)
    assert found.seconds == 30
    assert found.upper_bound
    assert "source unreachable" in found.basis


def test_storage_last_sync_is_an_upper_bound_and_the_worst_evidence_wins() -> None:
    storage = from_storage("st1", NOON - timedelta(minutes=3), now=NOON)
    app = from_app(ReplicaReport("a", "Primary", NOON), ReplicaReport("b", "Secondary", NOON), t0=NOON)
    assert storage.seconds == 180
    assert worst([app, storage]) == storage
    assert worst([]) is None


def test_replication_reports_are_read_strictly() -> None:
    assert (
        parse_report({"last_committed_write": "2026-11-26T12:00:00Z", "role": "Primary"}, "a").last_committed_write
        == NOON
    )
    with pytest.raises(EvidenceError, match="no readable"):
        parse_report({"role": "Primary"}, "a")
    with pytest.raises(EvidenceError, match="without a time zone"):
        parse_report({"last_committed_write": "2026-11-26T12:00:00"}, "a")
