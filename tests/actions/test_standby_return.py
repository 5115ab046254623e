"""Back to warm standby: the standby actions journal the state they found before their first change (crash windows
included), and ``standby.return`` puts a region back to it through the family's returner, verified, against the
sandbox through the real SDK. Each change is counted in the sandbox's request log."""

from __future__ import annotations

from typing import Any

import pytest

from drctl.actions.azure_bridge import FACT_INTENT
from drctl.actions.base import Scope
from drctl.actions.prior import EARLIER_PRIORS, FACT_PRIOR, EarlierPriors, PriorState
from drctl.actions.runtime import ActionError
from drctl.actions.standby.facts import FACT_NOTHING, FACT_RETURNED
from drctl.actions.standby.returning import StandbyReturner
from drctl.actions.standby.run import (
    PATCH_IMPLEMENTATION,
    RETURN_IMPLEMENTATION,
    SCALE_IMPLEMENTATION,
    START_IMPLEMENTATION,
)
from drctl.actions.standby.spec import PatchParams, ReturnParams, ScaleParams, StartWebAppsParams
from drctl.actions.testkit import FakeServices, FakeStepContext
from drctl.playbook.enums import Mode
from tests.actions.conftest import SOURCE, TARGET, Estate

TARGET_APPS = ("app-wallet-api-aus", "app-wallet-portal-aus")
TARGET_VMSS = "vmss-wallet-workers-aus"
GROUP = "rg-wallet-aus"


def _apps(estate: Estate) -> dict[str, str]:
    return {name: s["state"] for name, s in estate.state()["web_apps"].items() if name in TARGET_APPS}


def _capacity(estate: Estate) -> int:
    return int(estate.state()["scale_sets"][TARGET_VMSS]["capacity"])


def _priors(ctx: FakeStepContext) -> list[tuple[str, str, str, dict[str, Any]]]:
    return [(d["kind"], d["name"], d["region"], d["state"]) for d in ctx.recorded(FACT_PRIOR)]


def _back(estate: Estate) -> Scope:
    """The failback direction: the region the phase leaves (its source) is the DR region."""
    return Scope(estate.playbook, TARGET, SOURCE)


# --- the prior state, journaled before the first change -----------------------------------------------------


def test_start_journals_each_stopped_app_before_its_intent(estate: Estate) -> None:
    ctx = estate.ctx()
    START_IMPLEMENTATION.run(StartWebAppsParams(), ctx)
    assert sorted(_priors(ctx)) == [
        ("web_app", app, TARGET, {"state": "Stopped", "resource_group": GROUP}) for app in TARGET_APPS
    ]
    for app in TARGET_APPS:
        facts = ctx.facts
        prior = next(i for i, (k, d) in enumerate(facts) if k == FACT_PRIOR and d["name"] == app)
        intent = next(i for i, (k, d) in enumerate(facts) if k == FACT_INTENT and d["key"].endswith(f"/{app}"))
        assert prior < intent


def test_an_app_already_running_is_not_changed_and_records_nothing(estate: Estate) -> None:
    estate.sandbox.client().set_web_app_state(TARGET_APPS[0], "Running")
    ctx = estate.ctx()
    START_IMPLEMENTATION.run(StartWebAppsParams(), ctx)
    assert [name for _, name, _, _ in _priors(ctx)] == [TARGET_APPS[1]]


def test_a_crash_between_the_prior_and_the_intent_records_the_prior_once(estate: Estate) -> None:
    """The prior was journaled, then the process died before the intent: nothing was sent, and the resumed step
    finds the app as it was; it keeps the first record and starts the app once."""
    app = TARGET_APPS[0]
    first = estate.ctx(
        facts=[(FACT_PRIOR, {"kind": "web_app", "name": app, "region": TARGET, "state": {"state": "Stopped"}})]
    )
    resumed = first.next_attempt()
    START_IMPLEMENTATION.run(StartWebAppsParams(apps=[app]), resumed)
    assert resumed.recorded(FACT_PRIOR) == []
    assert len(resumed.journaled(FACT_PRIOR)) == 1
    assert estate.mutations() == [("POST", estate.mutations()[0][1])]


def test_a_resumed_step_never_records_the_changed_state_as_prior(estate: Estate) -> None:
    """An intent journaled (the start may have been sent) with no prior before it, as a journal written before
    priors were kept would have: whatever the app reads now may be the run's own change, so nothing is recorded."""
    app = TARGET_APPS[0]
    intent = {"key": f"web.start {GROUP}/{app}", "round": 1, "what": f"start web app {app}", "attempt": 1}
    ctx = estate.ctx(attempt=2, facts=[(FACT_INTENT, {**intent, "at": "2026-03-03T02:10:00+00:00"})])
    START_IMPLEMENTATION.run(StartWebAppsParams(apps=[app]), ctx)
    assert ctx.recorded(FACT_PRIOR) == []


def test_a_crash_after_the_scale_was_sent_records_no_second_prior(estate: Estate) -> None:
    ctx = estate.ctx()
    SCALE_IMPLEMENTATION.run(ScaleParams(), ctx)
    assert _priors(ctx) == [("scale_set", TARGET_VMSS, TARGET, {"capacity": 1, "resource_group": GROUP})]
    # the same step again, after a crash that lost its result: the set reads 5 now, which is not the prior
    again = ctx.next_attempt()
    SCALE_IMPLEMENTATION.run(ScaleParams(), again)
    assert again.recorded(FACT_PRIOR) == []
    assert len(estate.mutations()) == 1


def test_a_scale_set_at_its_floor_records_nothing(estate: Estate) -> None:
    estate.sandbox.client().set_capacity(TARGET_VMSS, 6)
    ctx = estate.ctx()
    SCALE_IMPLEMENTATION.run(ScaleParams(), ctx)
    assert ctx.recorded(FACT_PRIOR) == []


def _site(estate: Estate) -> str:
    return (
        f"/subscriptions/{estate.sandbox.subscription_id}/resourceGroups/{GROUP}/providers/"
        f"Microsoft.Web/sites/{TARGET_APPS[0]}"
    )


def test_patch_journals_the_prior_values_at_the_body_paths(estate: Estate) -> None:
    params = PatchParams.model_validate(
        {"resource_id": _site(estate), "api_version": "2022-03-01", "body": {"tags": {"dr": "serving"}}}
    )
    ctx = estate.ctx()
    PATCH_IMPLEMENTATION.run(params, ctx)
    assert _priors(ctx) == [("arm.patch", _site(estate), TARGET, {"api_version": "2022-03-01", "body": {"tags": {}}})]
    PATCH_IMPLEMENTATION.run(params, ctx.next_attempt())  # already there: no change, no second prior
    assert len(ctx.next_attempt().journaled(FACT_PRIOR)) == 1


# --- standby.return ------------------------------------------------------------------------------------------


def _failover_phase(estate: Estate) -> list[tuple[str, dict[str, Any]]]:
    """The drill's failover phase: its standby steps start the DR apps and scale its workers; their priors, as
    the failback phase's step reads them from the run (each with its step)."""
    seeded: list[tuple[str, dict[str, Any]]] = []
    for step, implementation, params in (
        ("failover:start-web-apps", START_IMPLEMENTATION, StartWebAppsParams()),
        ("failover:scale-workers", SCALE_IMPLEMENTATION, ScaleParams()),
    ):
        ctx = estate.ctx(step_id=step, mode=Mode.DRILL)
        implementation.run(params, ctx)
        seeded += [(FACT_PRIOR, {**d, "step": step}) for d in ctx.recorded(FACT_PRIOR)]
    assert _apps(estate) == dict.fromkeys(TARGET_APPS, "Running")
    assert _capacity(estate) == 5
    return seeded


def test_the_failback_phase_returns_the_dr_region_to_warm_standby(estate: Estate) -> None:
    seeded = _failover_phase(estate)
    forward = len(estate.mutations())
    ctx = estate.ctx(scope=_back(estate), mode=Mode.DRILL, step_id="failback:return", run_facts_seeded=seeded)
    assert RETURN_IMPLEMENTATION.done is not None
    assert RETURN_IMPLEMENTATION.done(ReturnParams(), ctx) is False
    outcome = RETURN_IMPLEMENTATION.run(ReturnParams(), ctx)
    assert outcome.changed
    assert _apps(estate) == dict.fromkeys(TARGET_APPS, "Stopped")
    assert _capacity(estate) == 1
    returned = {d["name"]: d for d in ctx.recorded(FACT_RETURNED)}
    assert set(returned) == {*TARGET_APPS, TARGET_VMSS}
    assert all(d["verified"] and d["region"] == TARGET and d["priors_run"] == "run-test" for d in returned.values())
    assert returned[TARGET_VMSS]["from"] == {"capacity": 5}
    assert returned[TARGET_VMSS]["to"] == {"capacity": 1, "resource_group": GROUP}
    assert returned[TARGET_APPS[0]]["from"] == {"state": "Running"}
    # one write per resource: two stops and one scale, each a mutation of its own (not the forward key's)
    back = estate.mutations()[forward:]
    assert sorted(m for m, _ in back) == ["PATCH", "POST", "POST"]
    assert sorted(p.rsplit("/", 1)[-1] for _, p in back if p.endswith("/stop")) == ["stop", "stop"]
    keys = [d["key"] for d in ctx.recorded(FACT_INTENT)]
    assert all(k.startswith("return.") for k in keys)
    assert len(keys) == 3


def test_a_second_return_and_the_done_check_send_nothing(estate: Estate) -> None:
    seeded = _failover_phase(estate)
    ctx = estate.ctx(scope=_back(estate), mode=Mode.DRILL, step_id="failback:return", run_facts_seeded=seeded)
    RETURN_IMPLEMENTATION.run(ReturnParams(), ctx)
    count = len(estate.mutations())
    assert RETURN_IMPLEMENTATION.done is not None
    again = ctx.next_attempt()  # the same run: the failover phase's priors still read
    assert RETURN_IMPLEMENTATION.done(ReturnParams(), again) is True
    # a fresh step (another run's failback over the same journal) finds each resource there already
    fresh = estate.ctx(scope=_back(estate), mode=Mode.DRILL, step_id="failback:return-2", run_facts_seeded=seeded)
    outcome = RETURN_IMPLEMENTATION.run(ReturnParams(), fresh)
    assert not outcome.changed
    assert len(estate.mutations()) == count
    assert all(d["detail"].startswith("already") for d in fresh.recorded(FACT_RETURNED))


def test_a_crash_after_the_stop_was_sent_does_not_send_it_again(estate: Estate) -> None:
    seeded = _failover_phase(estate)
    app = TARGET_APPS[0]
    # the stop was journaled and sent, and the process died before its answer: the app reads Stopped
    estate.sandbox.client().set_web_app_state(app, "Stopped")
    intent = {"key": f"return.web.stop {GROUP}/{app}", "round": 1, "what": f"stop web app {app}", "attempt": 1}
    resumed = estate.ctx(
        scope=_back(estate),
        mode=Mode.DRILL,
        step_id="failback:return",
        attempt=2,
        facts=[(FACT_INTENT, {**intent, "at": "2026-03-03T02:10:00+00:00"})],
        run_facts_seeded=seeded,
    )
    before = len(estate.mutations())
    RETURN_IMPLEMENTATION.run(ReturnParams(), resumed)
    stops = [p for _, p in estate.mutations()[before:] if p.endswith("/stop")]
    assert [p.rsplit("/", 2)[-2] for p in stops] == [TARGET_APPS[1]]
    assert _apps(estate) == dict.fromkeys(TARGET_APPS, "Stopped")
    assert _capacity(estate) == 1


def _tags(estate: Estate) -> dict[str, str]:
    """The site's tags as the real SDK reads them from ARM."""
    from drctl.azure import standby

    found = standby.get_resource(estate.services.get("azure"), _site(estate), "2022-03-01")
    return dict(found.get("tags") or {})


def test_a_patch_is_patched_back(estate: Estate) -> None:
    params = PatchParams.model_validate(
        {"resource_id": _site(estate), "api_version": "2022-03-01", "body": {"tags": {"dr": "serving"}}}
    )
    forward = estate.ctx(step_id="failover:tag")
    PATCH_IMPLEMENTATION.run(params, forward)
    seeded = [(FACT_PRIOR, {**d, "step": "failover:tag"}) for d in forward.recorded(FACT_PRIOR)]
    ctx = estate.ctx(scope=_back(estate), mode=Mode.DRILL, step_id="failback:return", run_facts_seeded=seeded)
    RETURN_IMPLEMENTATION.run(ReturnParams(), ctx)
    (returned,) = ctx.recorded(FACT_RETURNED)
    assert returned["verified"]
    assert returned["kind"] == "arm.patch"
    # tags replace whole in an ARM PATCH: the site has none again, not a "dr" tag set to something else
    assert returned["from"] == {"api_version": "2022-03-01", "body": {"tags": {"dr": "serving"}}}
    assert _tags(estate) == {}
    assert [m for m, _ in estate.mutations()] == ["PATCH", "PATCH"]


def test_nothing_journaled_leaves_the_region_as_it_is_and_says_so(estate: Estate) -> None:
    ctx = estate.ctx(scope=_back(estate), mode=Mode.FAILBACK)
    outcome = RETURN_IMPLEMENTATION.run(ReturnParams(), ctx)
    assert outcome.summary.startswith("nothing journaled: DR region left as it is")
    (nothing,) = ctx.recorded(FACT_NOTHING)
    assert nothing["region"] == TARGET
    assert estate.mutations() == []


def test_the_failover_phase_returns_nothing_of_the_region_it_leaves(estate: Estate) -> None:
    """A drill's failover phase leaves the primary, which none of its steps changed; an earlier run's priors for
    the primary are never read outside a failback, so the region that serves is never stopped."""
    services = _with_history(
        estate, EarlierPriors("earlier", (PriorState("web_app", "app-wallet-api-aue", SOURCE, {"state": "Stopped"}),))
    )
    ctx = estate.ctx(mode=Mode.DRILL, services=services)
    RETURN_IMPLEMENTATION.run(ReturnParams(), ctx)
    assert ctx.recorded(FACT_NOTHING)[0]["region"] == SOURCE
    assert estate.mutations() == []


class _History:
    def __init__(self, found: EarlierPriors | None) -> None:
        self.found = found
        self.asked: list[str] = []

    def latest(self, region: str) -> EarlierPriors | None:
        self.asked.append(region)
        return self.found if self.found and all(p.region == region for p in self.found.priors) else None


def _with_history(estate: Estate, found: EarlierPriors | None) -> FakeServices:
    history = _History(found)
    return FakeServices(
        {
            "azure": lambda: estate.services.get("azure"),
            "network": lambda: estate.services.get("network"),
            EARLIER_PRIORS: lambda: history,
        }
    )


def test_a_standalone_failback_returns_to_an_earlier_runs_priors(estate: Estate) -> None:
    """After a real failover the failback is a run of its own: the priors are in the failover run's journal."""
    seeded = _failover_phase(estate)
    priors = tuple(PriorState.from_fact(d) for _, d in seeded)
    services = _with_history(estate, EarlierPriors("20260303T020000Z-abcd", priors))
    ctx = estate.ctx(scope=_back(estate), mode=Mode.FAILBACK, services=services)
    outcome = RETURN_IMPLEMENTATION.run(ReturnParams(), ctx)
    assert "20260303T020000Z-abcd" in outcome.summary
    assert {d["priors_run"] for d in ctx.recorded(FACT_RETURNED)} == {"20260303T020000Z-abcd"}
    assert _apps(estate) == dict.fromkeys(TARGET_APPS, "Stopped")
    assert _capacity(estate) == 1


def test_a_kind_no_family_returns_is_not_returned_and_fails_the_step(estate: Estate) -> None:
    seeded = [(FACT_PRIOR, {"kind": "mystery", "name": "x", "region": TARGET, "state": {}, "step": "s"})]
    ctx = estate.ctx(scope=_back(estate), mode=Mode.DRILL, run_facts_seeded=seeded)
    with pytest.raises(ActionError, match="no action family returns 'mystery'"):
        RETURN_IMPLEMENTATION.run(ReturnParams(), ctx)
    (fact,) = ctx.recorded(FACT_RETURNED)
    assert fact["verified"] is False


def test_preflight_compares_each_resource_with_its_prior(estate: Estate) -> None:
    seeded = _failover_phase(estate)
    count = len(estate.mutations())
    ctx = estate.ctx(scope=_back(estate), mode=Mode.DRILL, run_facts_seeded=seeded)
    assert RETURN_IMPLEMENTATION.preflight is not None
    found = {
        f.subject: (f.current, f.intended, f.severity) for f in RETURN_IMPLEMENTATION.preflight(ReturnParams(), ctx)
    }
    assert found[f"scale_set {TARGET_VMSS}"] == ("capacity 5", "capacity 1", "info")
    assert found[f"web_app {TARGET_APPS[0]}"] == ("state Running", "state Stopped", "info")
    assert len(estate.mutations()) == count


def test_the_returner_serves_the_standby_kinds() -> None:
    assert StandbyReturner.kinds == ("web_app", "scale_set", "arm.patch")
