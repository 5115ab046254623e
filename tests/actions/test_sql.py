"""sql.replica_check and sql.failover against the sandbox's failover group, through the real SDK.

The count of mutating ARM requests is the test of exactly once: a planned failover is one POST, a failover the
journal says was made is none."""

from __future__ import annotations

from typing import Any

import pytest

from drctl.actions.azure_bridge import FACT_INTENT
from drctl.actions.runtime import FACT_RPO_EXPOSURE, AbortRun, ActionError
from drctl.actions.sql.run import FAILOVER_IMPLEMENTATION, REPLICA_IMPLEMENTATION
from drctl.actions.sql.spec import FailoverParams, ReplicaCheckParams
from drctl.actions.testkit import Answer
from drctl.core.identity import Identity
from drctl.playbook.enums import Mode
from tests.actions.conftest import SOURCE, Estate

GROUP = "fg-wallet"
SOURCE_SERVER, TARGET_SERVER = "sql-wallet-aue", "sql-wallet-aus"
TIED = {"replication_url_group": GROUP}
CAROL = Identity("carol", "bridge", principal="carol@contoso.com")

done = FAILOVER_IMPLEMENTATION.done
preflight = FAILOVER_IMPLEMENTATION.preflight
assert done is not None
assert preflight is not None


# --- sql.replica_check ---------------------------------------------------------------------------------------


def test_replica_check_reads_roles_links_and_measures_the_group(estate: Estate) -> None:
    ctx = estate.ctx()
    outcome = REPLICA_IMPLEMENTATION.run(ReplicaCheckParams(**TIED), ctx)
    facts = outcome.facts
    assert facts["failover_group"] == GROUP
    assert facts["primary"] == SOURCE_SERVER
    assert facts["links"] == dict.fromkeys(("walletdb", "ledgerdb", "identitydb"), "CATCH_UP")
    assert facts["rpo_exposure_status"] == "measured"
    assert 0 <= facts["rpo_exposure_seconds"] <= facts["rpo_limit_seconds"] == 900
    (evidence,) = ctx.recorded("rpo.evidence")
    assert evidence["purpose"] == "check"
    assert GROUP in {r["resource"] for r in evidence["resources"]}
    assert estate.mutations() == []


def test_replica_check_without_evidence_tied_to_the_group_says_unknown(estate: Estate) -> None:
    outcome = REPLICA_IMPLEMENTATION.run(ReplicaCheckParams(), estate.ctx())
    assert outcome.facts["rpo_exposure_status"] == "unknown"
    assert outcome.facts["rpo_exposure_seconds"] is None
    with pytest.raises(ActionError):
        REPLICA_IMPLEMENTATION.run(ReplicaCheckParams(enforce_rpo=True), estate.ctx())


def test_replica_check_enforces_the_rpo_on_a_measured_breach(estate: Estate) -> None:
    estate.sandbox.client().set_replication_lag(600, GROUP)
    ctx = estate.ctx()
    with pytest.raises(ActionError):
        REPLICA_IMPLEMENTATION.run(ReplicaCheckParams(max_exposure="5m", enforce_rpo=True, **TIED), ctx)
    outcome = REPLICA_IMPLEMENTATION.run(ReplicaCheckParams(max_exposure="5m", **TIED), ctx)
    assert outcome.facts["rpo_exposure_seconds"] > 300  # reported, not enforced


def test_replica_check_fails_when_the_target_is_already_primary(estate: Estate) -> None:
    estate.sandbox.client().set_primary(GROUP, TARGET_SERVER)
    with pytest.raises(ActionError) as caught:
        REPLICA_IMPLEMENTATION.run(ReplicaCheckParams(**TIED), estate.ctx())
    assert TARGET_SERVER in str(caught.value)


def test_replica_check_with_the_source_lost_records_suspended_links(estate: Estate) -> None:
    estate.down(SOURCE)
    ctx = estate.ctx()
    REPLICA_IMPLEMENTATION.run(ReplicaCheckParams(**TIED), ctx)
    (assessment,) = ctx.recorded("source.assessment")
    assert assessment["verdict"] == "lost"
    assert ctx.recorded("replication.suspended")


def test_replica_preflight_on_a_healthy_and_a_broken_estate(estate: Estate) -> None:
    assert REPLICA_IMPLEMENTATION.preflight is not None
    (ok,) = REPLICA_IMPLEMENTATION.preflight(ReplicaCheckParams(**TIED), estate.ctx())
    assert ok.severity == "ok"
    (untied,) = REPLICA_IMPLEMENTATION.preflight(ReplicaCheckParams(enforce_rpo=True), estate.ctx())
    assert untied.severity == "warning"  # preflight reports, it never enforces
    estate.sandbox.client().set_primary(GROUP, TARGET_SERVER)
    (broken,) = REPLICA_IMPLEMENTATION.preflight(ReplicaCheckParams(**TIED), estate.ctx())
    assert broken.severity == "error"
    assert estate.mutations() == []


def test_replica_check_has_no_done_check() -> None:
    assert REPLICA_IMPLEMENTATION.done is None  # read-only: resume runs it again


# --- sql.failover ----------------------------------------------------------------------------------------------


def test_failover_planned_with_both_regions_up_is_one_request(estate: Estate) -> None:
    ctx = estate.ctx()
    outcome = FAILOVER_IMPLEMENTATION.run(FailoverParams(mode="planned"), ctx)
    assert outcome.changed
    assert estate.primary() == TARGET_SERVER
    assert len(estate.mutations()) == 1
    (fact,) = ctx.recorded("sql.failover")
    assert (fact["mode"], fact["primary"], fact["gate"]) == ("planned", TARGET_SERVER, None)
    (loss,) = ctx.recorded(FACT_RPO_EXPOSURE)
    assert (loss["seconds"], loss["failover"], loss["resource"]) == (0.0, "planned", GROUP)
    # exactly once: the intent is journaled before the request, its end after
    kinds = ctx.kinds()
    assert kinds.index(FACT_INTENT) < kinds.index("op.finished")
    assert estate.state()["data_loss"] == []


def test_failover_done_check_is_false_before_and_true_after(estate: Estate) -> None:
    params = FailoverParams(mode="planned")
    ctx = estate.ctx()
    assert done(params, ctx) is False
    FAILOVER_IMPLEMENTATION.run(params, ctx)
    resumed = ctx.next_attempt()
    assert done(params, resumed) is True
    assert resumed.recorded("sql.failover") == []  # journaled by the run: nothing to add
    assert len(estate.mutations()) == 1


def test_failover_run_again_after_success_sends_nothing(estate: Estate) -> None:
    ctx = estate.ctx()
    FAILOVER_IMPLEMENTATION.run(FailoverParams(mode="planned"), ctx)
    again = FAILOVER_IMPLEMENTATION.run(FailoverParams(mode="planned"), ctx.next_attempt())
    assert again.changed
    assert len(estate.mutations()) == 1


def test_failover_forced_with_the_source_lost_passes_the_gate_by_measurement(estate: Estate) -> None:
    estate.down(SOURCE)
    ctx = estate.ctx()
    outcome = FAILOVER_IMPLEMENTATION.run(FailoverParams(mode="planned-then-forced", **TIED), ctx)
    assert outcome.facts["mode"] == "forced"
    assert estate.primary() == TARGET_SERVER
    (gate,) = ctx.recorded("rpo.gate")
    assert (gate["passed"], gate["by"], gate["source"]) == (True, "measurement", "lost")
    (loss,) = ctx.recorded(FACT_RPO_EXPOSURE)
    assert loss["failover"] == "forced"
    assert loss["seconds"] == pytest.approx(gate["exposure_seconds"], abs=0.001)
    assert ctx.requests == []  # measured within the gate: nobody was asked
    assert estate.state()["data_loss"]


def test_failover_forced_over_the_gate_needs_a_person_and_stops_on_a_no(estate: Estate) -> None:
    estate.down(SOURCE)
    ctx = estate.ctx(answers=[Answer(False, "too much loss", CAROL)])
    with pytest.raises(AbortRun):
        FAILOVER_IMPLEMENTATION.run(FailoverParams(mode="forced", rpo_gate="1s", **TIED), ctx)
    (asked,) = ctx.requests
    assert (asked.topic, asked.require_reason) == ("data-loss", True)
    assert ctx.recorded("rpo.gate")[0]["passed"] is False
    assert estate.mutations() == []
    assert estate.primary() == SOURCE_SERVER


def test_failover_forced_over_the_gate_goes_on_with_an_accepted_loss(estate: Estate) -> None:
    estate.down(SOURCE)
    ctx = estate.ctx(answers=[Answer(True, "ledger replays from the queue", CAROL)])
    outcome = FAILOVER_IMPLEMENTATION.run(FailoverParams(mode="forced", rpo_gate="1s", **TIED), ctx)
    assert outcome.facts["mode"] == "forced"
    gate = outcome.facts["gate"]
    assert (gate["by"], gate["approver"], gate["reason"]) == ("approval", "carol", "ledger replays from the queue")
    assert len(estate.mutations()) == 1


def test_failover_in_a_drill_is_planned_whatever_the_playbook_says(estate: Estate) -> None:
    ctx = estate.ctx(mode=Mode.DRILL)
    outcome = FAILOVER_IMPLEMENTATION.run(FailoverParams(mode="forced", **TIED), ctx)
    assert outcome.facts["mode"] == "planned"
    assert ctx.recorded("rpo.gate") == []


def test_failover_to_a_target_already_primary_without_an_intent_changes_nothing(estate: Estate) -> None:
    estate.sandbox.client().set_primary(GROUP, TARGET_SERVER)
    ctx = estate.ctx()
    outcome = FAILOVER_IMPLEMENTATION.run(FailoverParams(mode="planned"), ctx)
    assert not outcome.changed
    assert outcome.facts == {"already": True}
    assert ctx.recorded("sql.failover") == []
    assert estate.mutations() == []


def _hidden_forced_failover(estate: Estate) -> list[tuple[str, dict[str, Any]]]:
    """The journal of a process killed after Azure made the target primary by a forced failover it asked for, and
    before it journaled the failover: the gate decision, then the intent, nothing after."""
    estate.sandbox.client().set_primary(GROUP, TARGET_SERVER)
    gate = {
        "resource": GROUP,
        "resource_kind": "failover-group",
        "gate_seconds": 900.0,
        "exposure_seconds": 42.0,
        "exposure_status": "measured",
        "source": "lost",
        "passed": True,
        "by": "measurement",
    }
    intent = {
        "key": f"sql.failover.forced {GROUP} -> {TARGET_SERVER}",
        "round": 1,
        "what": f"forced failover of {GROUP} to {TARGET_SERVER}",
        "attempt": 1,
        "at": "2026-03-03T02:10:00+00:00",
    }
    return [("rpo.gate", gate), (FACT_INTENT, intent)]


def test_resumed_failover_the_crash_hid_stays_forced_with_its_gate(estate: Estate) -> None:
    ctx = estate.ctx(attempt=2, facts=_hidden_forced_failover(estate))
    outcome = FAILOVER_IMPLEMENTATION.run(FailoverParams(mode="planned-then-forced", **TIED), ctx)
    assert outcome.changed
    (fact,) = ctx.recorded("sql.failover")
    assert (fact["mode"], fact["resumed"], fact["gate"]["exposure_seconds"]) == ("forced", True, 42.0)
    (loss,) = ctx.recorded(FACT_RPO_EXPOSURE)
    assert (loss["failover"], loss["seconds"]) == ("forced", 42.0)
    assert estate.mutations() == []


def test_done_check_of_a_failover_the_crash_hid_records_it_forced(estate: Estate) -> None:
    ctx = estate.ctx(attempt=2, facts=_hidden_forced_failover(estate))
    assert done(FailoverParams(mode="planned-then-forced"), ctx) is True
    assert ctx.recorded("sql.failover")[0]["mode"] == "forced"
    assert ctx.recorded(FACT_RPO_EXPOSURE)[0]["seconds"] == 42.0
    assert estate.mutations() == []


def test_failover_preflight_on_a_healthy_and_a_broken_estate(estate: Estate) -> None:
    (healthy,) = preflight(FailoverParams(), estate.ctx())
    assert healthy.severity == "info"
    assert healthy.intended == f"{TARGET_SERVER} Primary"
    estate.sandbox.client().set_primary(GROUP, TARGET_SERVER)
    (broken,) = preflight(FailoverParams(), estate.ctx())
    assert broken.severity == "warning"
    assert estate.mutations() == []
