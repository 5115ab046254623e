"""storage.replica_check and storage.failover against the sandbox's geo-redundant account, through the real SDK:
planned with both regions up, unplanned with the source region lost behind the account's own RPO gate."""

from __future__ import annotations

from typing import Any

import pytest

from drctl.actions.azure_bridge import FACT_INTENT
from drctl.actions.runtime import FACT_RPO_EXPOSURE, AbortRun, ActionError, TransientError
from drctl.actions.storage.run import CHECK_IMPLEMENTATION, FAILOVER_IMPLEMENTATION
from drctl.actions.storage.spec import StorageCheckParams, StorageFailoverParams
from drctl.actions.testkit import Answer
from drctl.core.identity import Identity
from drctl.playbook.enums import Mode
from tests.actions.conftest import SOURCE, TARGET, Estate

ACCOUNT = "stwalletdocsaue"
#: the sandbox's geo-replication lag for an account: its last sync time trails the primary's writes by this
LAG = 300.0
DAVE = Identity("dave", "bridge")

done = FAILOVER_IMPLEMENTATION.done
preflight = FAILOVER_IMPLEMENTATION.preflight
assert done is not None
assert preflight is not None


def _account(estate: Estate) -> dict[str, Any]:
    found: dict[str, Any] = estate.state()["storage_accounts"][ACCOUNT]
    return found


def _failover_requests(estate: Estate) -> list[dict[str, Any]]:
    return [r for r in estate.arm_requests(mutating=True) if r["path"].split("?")[0].endswith("/failover")]


# --- storage.replica_check -----------------------------------------------------------------------------------


def test_check_measures_each_account_from_its_last_sync_time(estate: Estate) -> None:
    ctx = estate.ctx()
    outcome = CHECK_IMPLEMENTATION.run(StorageCheckParams(), ctx)
    assert not outcome.changed
    (evidence,) = ctx.recorded("rpo.evidence")
    (exposure,) = evidence["resources"]
    assert exposure["resource"] == ACCOUNT
    assert exposure["seconds"] == pytest.approx(LAG, abs=5)
    assert estate.mutations() == []


def test_check_exposure_grows_with_the_run_clock_and_can_be_enforced(estate: Estate) -> None:
    ctx = estate.ctx()
    CHECK_IMPLEMENTATION.run(StorageCheckParams(max_exposure="10m", enforce_rpo=True), ctx)
    # ten minutes on, with no newer sync seen, the bound is past the limit
    ctx.clock.advance(600)
    with pytest.raises(ActionError):
        CHECK_IMPLEMENTATION.run(StorageCheckParams(max_exposure="10m", enforce_rpo=True), ctx)
    outcome = CHECK_IMPLEMENTATION.run(StorageCheckParams(max_exposure="10m"), ctx)
    assert "OVER" in outcome.summary


def test_check_has_neither_done_check_nor_preflight() -> None:
    assert CHECK_IMPLEMENTATION.done is None
    assert CHECK_IMPLEMENTATION.preflight is None


# --- storage.failover ------------------------------------------------------------------------------------------


def test_failover_planned_with_both_regions_up(estate: Estate) -> None:
    ctx = estate.ctx()
    outcome = FAILOVER_IMPLEMENTATION.run(StorageFailoverParams(mode="planned"), ctx)
    assert outcome.changed
    assert outcome.facts == {"failed_over": [ACCOUNT], "types": {ACCOUNT: "planned"}}
    (request,) = _failover_requests(estate)
    assert request["query"].get("failoverType") == "Planned"
    assert len(estate.mutations()) == 1
    account = _account(estate)
    assert (account["primary_region"], account["secondary_region"]) == (TARGET, SOURCE)  # still geo-redundant
    (loss,) = ctx.recorded(FACT_RPO_EXPOSURE)
    assert (loss["seconds"], loss["failover"]) == (0.0, "planned")
    assert estate.state()["data_loss"] == []


def test_failover_done_check_is_false_before_and_true_after(estate: Estate) -> None:
    params = StorageFailoverParams()
    ctx = estate.ctx()
    assert done(params, ctx) is False
    FAILOVER_IMPLEMENTATION.run(params, ctx)
    resumed = ctx.next_attempt()
    assert done(params, resumed) is True
    assert resumed.recorded("storage.failover") == []
    assert len(estate.mutations()) == 1


def test_failover_planned_waits_while_the_primary_is_lost(estate: Estate) -> None:
    estate.down(SOURCE)
    with pytest.raises(TransientError):
        FAILOVER_IMPLEMENTATION.run(StorageFailoverParams(mode="planned"), estate.ctx())
    assert estate.mutations() == []


def test_failover_unplanned_with_the_source_lost_passes_its_gate_by_measurement(estate: Estate) -> None:
    estate.down(SOURCE)
    ctx = estate.ctx()
    outcome = FAILOVER_IMPLEMENTATION.run(StorageFailoverParams(mode="planned-then-unplanned"), ctx)
    assert outcome.facts["types"] == {ACCOUNT: "unplanned"}
    (request,) = _failover_requests(estate)
    assert "failoverType" not in request["query"]
    (assessment,) = ctx.recorded("source.assessment")
    assert assessment["verdict"] == "lost"
    (gate,) = ctx.recorded("rpo.gate")
    assert (gate["resource"], gate["passed"], gate["by"]) == (ACCOUNT, True, "measurement")
    assert gate["exposure_seconds"] == pytest.approx(LAG, abs=5)
    (loss,) = ctx.recorded(FACT_RPO_EXPOSURE)
    assert loss["failover"] == "unplanned"
    assert ctx.requests == []
    account = _account(estate)
    assert (account["primary_region"], account["secondary_region"]) == (TARGET, None)
    (lost,) = estate.state()["data_loss"]
    assert lost["storage_account"] == ACCOUNT


def test_failover_unplanned_over_its_gate_stops_when_the_loss_is_refused(estate: Estate) -> None:
    estate.down(SOURCE)
    ctx = estate.ctx(answers=[Answer(False, "documents cannot be lost", DAVE)])
    with pytest.raises(AbortRun):
        FAILOVER_IMPLEMENTATION.run(StorageFailoverParams(mode="unplanned", rpo_gate="1m"), ctx)
    (asked,) = ctx.requests
    assert (asked.topic, asked.require_reason) == ("data-loss", True)
    assert ctx.recorded("rpo.gate")[0]["passed"] is False
    assert estate.mutations() == []


def test_failover_unplanned_over_its_gate_goes_on_with_an_accepted_loss(estate: Estate) -> None:
    estate.down(SOURCE)
    ctx = estate.ctx(answers=[Answer(True, "documents are re-uploadable", DAVE)])
    outcome = FAILOVER_IMPLEMENTATION.run(StorageFailoverParams(mode="unplanned", rpo_gate="1m"), ctx)
    assert outcome.facts["types"] == {ACCOUNT: "unplanned"}
    (gate,) = ctx.recorded("rpo.gate")
    assert (gate["by"], gate["approver"], gate["reason"]) == ("approval", "dave", "documents are re-uploadable")
    assert len(estate.mutations()) == 1


def test_failover_in_a_drill_is_planned_whatever_the_playbook_says(estate: Estate) -> None:
    ctx = estate.ctx(mode=Mode.DRILL)
    outcome = FAILOVER_IMPLEMENTATION.run(StorageFailoverParams(mode="unplanned"), ctx)
    assert outcome.facts["types"] == {ACCOUNT: "planned"}
    assert ctx.recorded("rpo.gate") == []


def _hidden_unplanned_failover(estate: Estate) -> list[tuple[str, dict[str, Any]]]:
    """An unplanned failover Azure made, whose process died after journaling its gate and intent: the account is
    the target's, and the journal holds nothing after the intent."""
    estate.down(SOURCE)
    FAILOVER_IMPLEMENTATION.run(StorageFailoverParams(mode="unplanned"), estate.ctx(step_id="elsewhere"))
    estate.sandbox.client().clear_requests()
    gate = {
        "resource": ACCOUNT,
        "resource_kind": "storage-account",
        "gate_seconds": 900.0,
        "exposure_seconds": 310.0,
        "exposure_status": "bounded",
        "source": "lost",
        "passed": True,
        "by": "measurement",
    }
    intent = {
        "key": f"storage.failover.unplanned rg-wallet-aue/{ACCOUNT}",
        "round": 1,
        "what": f"unplanned failover of storage account {ACCOUNT}",
        "attempt": 1,
        "at": "2026-03-03T02:10:00+00:00",
    }
    return [("rpo.gate", gate), (FACT_INTENT, intent)]


def test_resumed_failover_the_crash_hid_stays_unplanned_with_its_gate(estate: Estate) -> None:
    ctx = estate.ctx(attempt=2, facts=_hidden_unplanned_failover(estate))
    outcome = FAILOVER_IMPLEMENTATION.run(StorageFailoverParams(mode="planned-then-unplanned"), ctx)
    assert outcome.facts["types"] == {ACCOUNT: "unplanned"}
    (fact,) = ctx.recorded("storage.failover")
    assert (fact["type"], fact["resumed"], fact["gate"]["exposure_seconds"]) == ("unplanned", True, 310.0)
    (loss,) = ctx.recorded(FACT_RPO_EXPOSURE)
    assert (loss["failover"], loss["seconds"]) == ("unplanned", 310.0)
    assert estate.mutations() == []


def test_done_check_leaves_an_open_failover_to_the_run(estate: Estate) -> None:
    ctx = estate.ctx(attempt=2, facts=_hidden_unplanned_failover(estate))
    # the intent has no end journaled: the step runs again and follows it (the test above), never done blindly
    assert done(StorageFailoverParams(mode="planned-then-unplanned"), ctx) is False
    assert ctx.recorded("storage.failover") == []


def test_done_check_of_a_finished_failover_the_crash_hid_records_it_unplanned(estate: Estate) -> None:
    journal = _hidden_unplanned_failover(estate)
    key = journal[-1][1]["key"]
    journal.append(("op.finished", {"key": key, "round": 1, "state": "Succeeded", "how": "started"}))
    ctx = estate.ctx(attempt=2, facts=journal)
    assert done(StorageFailoverParams(mode="planned-then-unplanned"), ctx) is True
    (fact,) = ctx.recorded("storage.failover")
    assert (fact["type"], fact["gate"]["by"]) == ("unplanned", "measurement")
    assert estate.mutations() == []


def test_failover_preflight_on_a_healthy_and_a_broken_estate(estate: Estate) -> None:
    (healthy,) = preflight(StorageFailoverParams(mode="planned"), estate.ctx())
    assert healthy.severity == "info"
    estate.down(SOURCE)
    (planned,) = preflight(StorageFailoverParams(mode="planned"), estate.ctx())
    assert planned.severity == "error"
    (either,) = preflight(StorageFailoverParams(mode="planned-then-unplanned"), estate.ctx())
    assert either.severity == "warning"
    assert estate.mutations() == []
