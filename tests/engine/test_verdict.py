"""The one verdict (engine/verdict.py), judged from events alone: RTO as clients see it, RPO of the failover that
took effect, and the result every view and the exit code use."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from drctl.engine import events as ev
from drctl.engine.verdict import judge, objective, verdict_of_journal

T0 = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
IDENTITY = ev.Identity(os_user="ops", host="laptop")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def started(
    *, environment: ev.Environment | None = None, sandbox: bool = False, mttr: float | None = None
) -> ev.RunStarted:
    step = ev.StepInfo(
        id="swap",
        name=None,
        uses="dns.swap",
        needs=(),
        budget_seconds=60,
        timeout_seconds=600,
        mutating=True,
        on_failure="abort",
        attempts=1,
    )
    return ev.RunStarted(
        at=T0,
        run_id="20260303T020000Z-abcd",
        playbook_name="wallet",
        playbook_path="/p.yaml",
        playbook_sha256="0" * 64,
        mode="failover",
        source="east",
        target="west",
        operator=IDENTITY,
        pid=1,
        drctl_version="0",
        t0=T0,
        declared=False,
        rto_seconds=3600,
        rpo_seconds=900,
        options={"sandbox": sandbox},
        steps=(step,),
        excluded_steps=(),
        critical_path=("swap",),
        critical_path_seconds=60,
        environment=environment,
        mttr_seconds=mttr,
    )


def fact(offset: float, kind: str, **data: Any) -> ev.Fact:
    return ev.Fact(at=at(offset), step="swap", kind=kind, data=data)


def restored(authoritative: float, ttl: float) -> ev.Fact:
    return fact(
        authoritative,
        "service.restored",
        at=at(authoritative + ttl).isoformat(),
        authoritative_at=at(authoritative).isoformat(),
        previous_ttl_seconds=ttl,
        by="dns.swap",
    )


def succeeded(*facts: ev.Fact, end: float = 20) -> list[ev.Event]:
    return [
        started(),
        ev.StepStarted(at=at(1), step="swap", attempt=1),
        *facts,
        ev.StepSucceeded(at=at(end), step="swap", attempt=1, summary="", changed=True, duration_seconds=end - 1),
        ev.RunFinished(at=at(end), ending=ev.RunEnding.SUCCEEDED, exit_code=0),
    ]


def test_the_rto_is_when_clients_are_served_not_when_the_authority_answers() -> None:
    verdict = judge(succeeded(restored(6, 3600)))

    rto = objective(verdict, "RTO")
    assert rto is not None
    assert (rto.achieved_seconds, rto.authoritative_seconds, rto.client_lag_seconds) == (3606, 6, 3600)
    assert (rto.met, rto.status) == (False, "not met")
    # every step succeeded, and it is not a success: a breach, exit 4
    assert (verdict.result, verdict.headline, verdict.exit_code) == ("breached", "OBJECTIVE BREACHED", 4)


def test_the_steady_state_ttl_meets_the_rto() -> None:
    verdict = judge(succeeded(restored(6, 300)))

    assert objective(verdict, "RTO") == ev.ObjectiveVerdict(
        "RTO",
        3600,
        306,
        True,
        "met",
        objective(verdict, "RTO").basis,  # type: ignore[union-attr]
        authoritative_seconds=6,
        client_lag_seconds=300,
        switch="DNS verified at the authoritative servers at T+6s + previous TTL 5m",
    )
    assert (verdict.result, verdict.exit_code) == ("passed", 0)


def test_a_failed_run_that_restored_nothing_has_no_rto_achieved() -> None:
    events = [
        started(),
        ev.StepStarted(at=at(1), step="swap", attempt=1),
        ev.StepFailed(
            at=at(7),
            step="swap",
            attempt=1,
            error="boom",
            error_type="ActionError",
            duration_seconds=6,
            on_failure="abort",
        ),
        ev.RunFinished(at=at(7), ending=ev.RunEnding.FAILED, exit_code=1, failed_steps=("swap",)),
    ]

    verdict = judge(events)

    rto = objective(verdict, "RTO")
    assert rto is not None
    assert (rto.achieved_seconds, rto.met) == (None, False)  # never "RTO achieved: 7s"
    assert (verdict.result, verdict.exit_code) == ("failed", 1)
    assert verdict.reasons[0] == "step swap failed: boom"


def test_a_lossless_planned_failover_meets_the_rpo_whatever_an_upper_bound_said() -> None:
    verdict = judge(
        succeeded(
            fact(2, "rpo.exposure", seconds=1800, upper_bound=True, source="storage"),
            fact(3, "sql.failover", failover_group="fg", mode="planned"),
            restored(6, 300),
        )
    )

    rpo = objective(verdict, "RPO")
    assert rpo is not None
    assert (rpo.achieved_seconds, rpo.met, rpo.evidence) == (0.0, True, "none by construction")
    assert verdict.result == "passed"


def test_a_forced_failover_is_judged_on_evidence_about_that_resource_only() -> None:
    storage_only = judge(
        succeeded(
            fact(2, "rpo.exposure", seconds=300, upper_bound=True, account="st"),
            fact(3, "sql.failover", failover_group="fg", mode="forced"),
            restored(6, 300),
        )
    )
    rpo = objective(storage_only, "RPO")
    assert rpo is not None
    assert (rpo.achieved_seconds, rpo.met, rpo.status) == (None, False, "unmeasured")
    assert storage_only.result == "breached"

    measured = judge(
        succeeded(
            fact(2, "rpo.exposure", seconds=120, failover_group="fg"),
            fact(3, "sql.failover", failover_group="fg", mode="forced"),
            restored(6, 300),
        )
    )
    rpo = objective(measured, "RPO")
    assert rpo is not None
    assert (rpo.achieved_seconds, rpo.met, rpo.evidence) == (120, True, "measured")


def test_no_evidence_and_no_failover_is_unmeasured_never_within() -> None:
    verdict = judge(succeeded(restored(6, 300)))

    rpo = objective(verdict, "RPO")
    assert rpo is not None
    assert (rpo.met, rpo.status, rpo.achieved_seconds) == (None, "unmeasured", None)
    assert "within" not in rpo.basis


def test_a_run_that_has_not_ended_is_not_finished_and_the_journaled_verdict_wins() -> None:
    interim = judge(succeeded()[:2])
    assert (interim.result, interim.exit_code) == ("not finished", None)

    events = succeeded(restored(6, 300))
    journaled = ev.RunVerdict(
        result="passed", headline="PASSED", exit_code=0, reasons=(), objectives=(), rehearsal=False
    )
    last = events[-1]
    assert isinstance(last, ev.RunFinished)
    events[-1] = ev.RunFinished(at=last.at, ending=last.ending, exit_code=0, verdict=journaled)
    assert verdict_of_journal(events) is journaled


def test_a_run_against_a_sandbox_is_a_rehearsal() -> None:
    sandbox = ev.Environment(kind="sandbox", embedded=True, estate_sha256="ab" * 32)
    events = succeeded(restored(6, 300))
    events[0] = started(environment=sandbox)
    assert judge(events).rehearsal
    events[0] = started(sandbox=True)  # a journal from before environments were recorded
    assert judge(events).rehearsal
    events[0] = started(environment=ev.Environment(kind="azure", arm_endpoint="https://management.azure.com"))
    assert not judge(events).rehearsal


def test_storage_evidence_never_vouches_for_a_forced_sql_failover() -> None:
    """The issue's case: the failover group forced, the only evidence a storage account's sync time (5 minutes,
    naming no resource, as the storage action writes it today): the RPO is unknown, never "met"."""
    verdict = judge(
        succeeded(
            fact(2, "rpo.exposure", seconds=327, upper_bound=True, source="storage", basis="last sync"),
            fact(3, "sql.failover", failover_group="fg-wallet", mode="forced"),
            restored(6, 300),
        )
    )
    rpo = objective(verdict, "RPO")
    assert rpo is not None
    assert (rpo.met, rpo.status) == (False, "unmeasured")
    assert (verdict.result, verdict.exit_code) == ("breached", 4)

    app = judge(
        succeeded(
            fact(
                2,
                "rpo.exposure",
                seconds=327,
                upper_bound=True,
                source="storage",
                measurements=[
                    {"seconds": 40, "source": "app", "upper_bound": False},
                    {"seconds": 327, "source": "storage"},
                ],
            ),
            fact(3, "sql.failover", failover_group="fg-wallet", mode="forced"),
            restored(6, 300),
        )
    )
    rpo = objective(app, "RPO")
    assert rpo is not None
    assert (rpo.achieved_seconds, rpo.met, rpo.evidence) == (40, True, "measured")


def test_recovery_is_not_over_while_clients_still_reach_the_old_region() -> None:
    """The steps end at T+20s, clients are served at T+306s: an MTTR of 20 s beside an RTO of 306 s was a figure that
    told the auditor recovery beat restoration. MTTR is T0 until both are done."""
    events = succeeded(restored(6, 300))
    events[0] = started(mttr=120)

    verdict = judge(events)

    mttr = objective(verdict, "MTTR")
    assert mttr is not None
    assert (mttr.achieved_seconds, mttr.met) == (306, False)
    assert "clients were served" in mttr.basis
    assert (verdict.result, verdict.exit_code) == ("breached", 4)


def test_without_a_restoration_moment_mttr_is_when_the_steps_ended() -> None:
    events = succeeded()
    events[0] = started(mttr=120)

    mttr = objective(judge(events), "MTTR")
    assert mttr is not None
    assert (mttr.achieved_seconds, mttr.met) == (20, True)


@pytest.mark.parametrize(
    ("data", "switch"),
    [
        (
            {"by": "frontdoor.switch", "propagation_seconds": 9.3},
            "Front Door seen routing to the target at its public host name, 9s after the change",
        ),
        (
            {"by": "trafficmanager.switch", "authoritative_at": "T+4", "previous_ttl_seconds": 60},
            "Traffic Manager's name verified at its name servers at T+4s + the profile's TTL 1m",
        ),
        ({"by": "some.switch"}, None),
    ],
)
def test_every_view_reads_how_the_traffic_switch_was_seen_from_the_verdict(
    data: dict[str, object], switch: str | None
) -> None:
    from drctl.engine.verdict import _switch

    authoritative = 4.0 if "authoritative_at" in data else None
    lag = float(data["previous_ttl_seconds"]) if "previous_ttl_seconds" in data else None  # type: ignore[arg-type]
    assert _switch(data, authoritative, lag) == switch


def two_switches(*facts: ev.Fact, front_door_ok: bool = True) -> list[ev.Event]:
    """A run with two entry points: the portal's DNS swap and the API's Front Door switch."""
    base = started()
    afd = ev.StepInfo(
        id="afd",
        name=None,
        uses="frontdoor.switch",
        needs=(),
        budget_seconds=60,
        timeout_seconds=600,
        mutating=True,
        on_failure="continue",
        attempts=1,
    )
    begin = dataclasses.replace(base, steps=(*base.steps, afd))
    afd_end: ev.Event = (
        ev.StepSucceeded(at=at(40), step="afd", attempt=1, summary="", changed=True, duration_seconds=39)
        if front_door_ok
        else ev.StepFailed(
            at=at(40),
            step="afd",
            attempt=1,
            error="not seen",
            error_type="TransientError",
            duration_seconds=39,
            on_failure="continue",
        )
    )
    return [
        begin,
        ev.StepStarted(at=at(1), step="swap", attempt=1),
        ev.StepStarted(at=at(1), step="afd", attempt=1),
        *facts,
        ev.StepSucceeded(at=at(20), step="swap", attempt=1, summary="", changed=True, duration_seconds=19),
        afd_end,
        ev.RunFinished(at=at(40), ending=ev.RunEnding.SUCCEEDED, exit_code=0),
    ]


def front_door_restored(offset: float) -> ev.Fact:
    return ev.Fact(
        at=at(offset),
        step="afd",
        kind="service.restored",
        data={"at": at(offset).isoformat(), "by": "frontdoor.switch", "propagation_seconds": offset - 2},
    )


def test_with_two_traffic_switches_clients_are_served_when_the_last_one_says_so() -> None:
    from drctl.engine.replay import RunView

    events = two_switches(restored(6, 10), front_door_restored(40))
    rto = objective(judge(events), "RTO")
    assert rto is not None
    # the DNS swap served the portal's clients at T+16s; the API's were still sent to the old region until T+40s
    assert rto.achieved_seconds == 40
    assert "afd was the last of 2 traffic switches" in rto.basis
    assert RunView.of(events).restored_at == at(40)  # the live view and status read the same moment


def test_a_traffic_switch_that_never_served_clients_leaves_the_service_not_restored() -> None:
    from drctl.engine.replay import RunView

    events = two_switches(restored(6, 10), front_door_ok=False)
    rto = objective(judge(events), "RTO")
    assert rto is not None
    assert (rto.achieved_seconds, rto.met) == (None, False)
    assert "afd did not see clients served" in rto.basis
    assert RunView.of(events).restored_at is None
