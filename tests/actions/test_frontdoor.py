"""frontdoor.switch against the sandbox's Front Door: origin updates through the real azure-mgmt-cdn client (each
once, counted in the request log), then requests to the endpoint's public host name through drctl's HTTP client
(DRCTL_RESOLVE, the sandbox CA) until the target answers; and the fencer that disables a region's origin."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from drctl.actions.azure_bridge import FACT_INTENT
from drctl.actions.frontdoor.run import FENCER, SWITCH_IMPLEMENTATION
from drctl.actions.frontdoor.spec import FrontDoorSwitchParams
from drctl.actions.runtime import FACT_SERVICE_RESTORED, Outcome, TransientError
from drctl.actions.testkit import FakeClock, FakeSecrets, FakeServices
from drctl.errors import PlaybookError
from drctl.sandbox import control, estate_from_playbook
from drctl.sandbox.ops import WebAppState
from drctl.sandbox.testing import arm_client, running_sandbox
from tests.actions.conftest import SOURCE, TARGET, Estate
from tests.frontdoor_playbook import GROUP, PROFILE, frontdoor_playbook

RG = "rg-wallet-global"
ORIGINS = f"/providers/Microsoft.Cdn/profiles/{PROFILE}/originGroups/{GROUP}/origins/"

done = SWITCH_IMPLEMENTATION.done
preflight = SWITCH_IMPLEMENTATION.preflight
assert done is not None
assert preflight is not None

#: quick checks: one consecutive-answer streak of 3, 0.1 s apart
FAST = {"samples": 3, "interval": "100ms"}


class RealTime(FakeClock):
    """The wall clock behind the fake clock's interface: Front Door's propagation in the sandbox runs on real time,
    and the time ARM calls take must count in what the action measures."""

    def __init__(self) -> None:
        super().__init__()
        self._began = time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic() - self._began

    def advance(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))
        super().advance(seconds)


@pytest.fixture(scope="module")
def _module_estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    tmp = tmp_path_factory.mktemp("frontdoor")
    playbook = frontdoor_playbook(tmp)
    with running_sandbox(estate_from_playbook(playbook), workdir=tmp / "sandbox") as sb:
        env = sb.env()
        services = FakeServices.with_azure(env, subscription=sb.subscription_id)
        yield Estate(sb, playbook, services, FakeSecrets.for_playbook(playbook, env))
        services.close()


@pytest.fixture
def estate(_module_estate: Estate) -> Estate:
    """The pre-incident estate with the target's app started (its health answers 200) and a short propagation."""
    sb = _module_estate.sandbox
    sb.reset()
    for name in _module_estate.playbook.regions[TARGET].web_apps:
        control.set_web_app(sb.world, name, WebAppState.RUNNING)
    sb.add_faults({"kind": "front_door_propagation_delay", "seconds": 0.5})
    return _module_estate


def _origins(estate: Estate) -> dict[str, tuple[bool, int, bool]]:
    """origin -> (enabled in ARM, priority, enabled at the edge)."""
    group = estate.state()["front_door"]["profiles"][PROFILE]["origin_groups"][GROUP]
    return {name: (o["enabled"], o["priority"], o["edge"]["enabled"]) for name, o in group.items()}


def _ctx(estate: Estate, **kwargs: Any) -> Any:
    return estate.ctx(clock=RealTime(), **kwargs)


def test_switch_moves_each_origin_once_and_is_seen_through_the_endpoint_host(estate: Estate) -> None:
    ctx = _ctx(estate)
    outcome = SWITCH_IMPLEMENTATION.run(FrontDoorSwitchParams(**FAST), ctx)
    assert outcome.changed
    assert _origins(estate) == {"origin-aus": (True, 1, True), "origin-aue": (False, 1, False)}
    assert estate.mutations() == [("PATCH", p) for p in (_path(estate, "origin-aus"), _path(estate, "origin-aue"))]
    (changed,) = ctx.recorded("frontdoor.changed")
    assert changed["before"]["origin-aus"] == {"enabled_state": "Disabled", "priority": 2, "weight": 1000}
    assert changed["after"]["origin-aue"]["enabled_state"] == "Disabled"
    (verified,) = ctx.recorded("frontdoor.verified")
    assert verified["host"].endswith(".z01.azurefd.net")
    assert verified["region"] == TARGET
    # the edge routed on the old configuration for the propagation delay (0.5 s): measured, not assumed
    assert 0.5 <= verified["propagation_seconds"] < 5
    (restored,) = ctx.recorded(FACT_SERVICE_RESTORED)
    assert restored["at"] == verified["verified_at"]
    assert restored["propagation_seconds"] == verified["propagation_seconds"]
    assert datetime.fromisoformat(restored["at"]) > datetime.fromisoformat(changed["changed_at"])
    # the requests really went through the edge, and the last ones were answered by the target's origin
    edge = [r for r in estate.sandbox.world.request_log() if r.get("service") == "frontdoor"]
    assert [r["origin"] for r in edge[-3:]] == ["origin-aus"] * 3


def _path(estate: Estate, origin: str) -> str:
    return f"/subscriptions/{estate.sandbox.subscription_id}/resourceGroups/{RG}{ORIGINS}{origin}"


def test_done_check_is_false_before_and_true_after_and_a_second_run_changes_nothing(estate: Estate) -> None:
    p = FrontDoorSwitchParams(**FAST)
    ctx = _ctx(estate)
    assert done(p, ctx) is False
    SWITCH_IMPLEMENTATION.run(p, ctx)
    assert done(p, ctx.next_attempt()) is True
    before = len(estate.mutations())
    other = SWITCH_IMPLEMENTATION.run(p, _ctx(estate, run_id="another"))
    assert not other.changed
    assert len(estate.mutations()) == before


def test_a_crash_between_intent_and_answer_does_not_send_the_update_again(estate: Estate) -> None:
    """The process journaled its intent to enable the target's origin, sent it and died before the answer: the
    resumed step finds it enabled, sends only the source's update, and tells the change from the intent."""
    from azure.mgmt.cdn import CdnManagementClient
    from azure.mgmt.cdn.models import AFDOriginUpdateParameters, AFDOriginUpdatePropertiesParameters

    key = f"afd.origin {PROFILE}/{GROUP}/origin-aus -> Enabled p1"
    intent = {
        "key": key,
        "round": 1,
        "what": "set Front Door origin origin-aus Enabled",
        "attempt": 1,
        "at": datetime.now().astimezone().isoformat(),
        "before": {"enabled_state": "Disabled", "priority": 2, "weight": 1000},
    }
    cdn = arm_client(estate.sandbox, CdnManagementClient)
    properties = AFDOriginUpdatePropertiesParameters(enabled_state="Enabled", priority=1)
    cdn.afd_origins.begin_update(
        RG, PROFILE, GROUP, "origin-aus", AFDOriginUpdateParameters(properties=properties)
    ).result()
    sent_before = len(estate.mutations())
    ctx = _ctx(estate, attempt=2, facts=[(FACT_INTENT, intent)])
    outcome = SWITCH_IMPLEMENTATION.run(FrontDoorSwitchParams(**FAST), ctx)
    assert outcome.changed
    assert estate.mutations()[sent_before:] == [("PATCH", _path(estate, "origin-aue"))]
    (changed,) = ctx.recorded("frontdoor.changed")
    assert changed["before"]["origin-aus"]["enabled_state"] == "Disabled"
    assert changed["first_sent_at"] == intent["at"]


def test_verification_that_times_out_fails_the_step_without_claiming_the_switch(estate: Estate) -> None:
    estate.sandbox.add_faults({"kind": "front_door_propagation_delay", "seconds": 60})
    p = FrontDoorSwitchParams(samples=2, interval="200ms", verify_timeout="1s")
    ctx = _ctx(estate)
    with pytest.raises(TransientError, match="not claimed"):
        SWITCH_IMPLEMENTATION.run(p, ctx)
    assert ctx.recorded(FACT_SERVICE_RESTORED) == []
    assert ctx.recorded("frontdoor.verified") == []
    assert len(ctx.recorded("frontdoor.changed")) == 1
    # ARM has the change; the edge does not: the done-check does not call it done, and a resume sends nothing
    assert _origins(estate)["origin-aus"] == (True, 1, False)
    sent = len(estate.mutations())
    assert done(p, ctx.next_attempt()) is False
    assert len(estate.mutations()) == sent


def test_done_check_finishes_a_switch_whose_verification_a_crash_interrupted(estate: Estate) -> None:
    p = FrontDoorSwitchParams(samples=2, interval="200ms", verify_timeout="1s")
    estate.sandbox.add_faults({"kind": "front_door_propagation_delay", "seconds": 60})
    ctx = _ctx(estate)
    with pytest.raises(TransientError):
        SWITCH_IMPLEMENTATION.run(p, ctx)
    estate.sandbox.add_faults({"kind": "front_door_propagation_delay", "seconds": 0})
    resumed = ctx.next_attempt(clock=RealTime())
    sent = len(estate.mutations())
    result = done(p, resumed)
    assert isinstance(result, Outcome)
    assert [k for k in resumed.kinds() if k != "arm.calls"] == ["frontdoor.verified", FACT_SERVICE_RESTORED]
    assert len(estate.mutations()) == sent


def test_deprioritize_keeps_the_source_enabled_at_a_lower_priority(estate: Estate) -> None:
    p = FrontDoorSwitchParams(source="deprioritize", source_priority=3, **FAST)
    SWITCH_IMPLEMENTATION.run(p, _ctx(estate))
    assert _origins(estate) == {"origin-aus": (True, 1, True), "origin-aue": (True, 3, True)}
    with pytest.raises(ValueError, match="source_priority"):
        FrontDoorSwitchParams(source="deprioritize", source_priority=1)


def test_a_forced_switch_with_the_source_region_down_still_disables_its_origin(estate: Estate) -> None:
    sb = estate.sandbox
    sb.set_region(SOURCE, up=False)
    control.set_primary(sb.world, "fg-wallet", "sql-wallet-aus")
    SWITCH_IMPLEMENTATION.run(FrontDoorSwitchParams(**FAST), _ctx(estate))
    assert _origins(estate) == {"origin-aus": (True, 1, True), "origin-aue": (False, 1, False)}


def test_preflight_shows_current_against_intended(estate: Estate) -> None:
    findings = {f.subject: f for f in preflight(FrontDoorSwitchParams(), _ctx(estate))}
    target = findings["Front Door origin origin-aus"]
    assert (target.current, target.intended, target.severity) == ("Disabled, priority 2", "Enabled, priority 1", "ok")
    assert findings["Front Door origin origin-aue"].intended == "Disabled"
    assert findings["Front Door endpoint wallet-api"].intended.endswith("/healthz")
    SWITCH_IMPLEMENTATION.run(FrontDoorSwitchParams(**FAST), _ctx(estate))
    again = {f.subject: f for f in preflight(FrontDoorSwitchParams(), _ctx(estate))}
    # an enabled target origin in steady state lets health probes move clients before promotion
    assert again["Front Door origin origin-aus"].severity == "warning"


def test_the_fencer_disables_the_region_origin_once_and_says_why_when_it_cannot(estate: Estate) -> None:
    (item,) = FENCER.items(estate.scope, SOURCE)
    assert (item.kind, item.name, item.region) == ("frontdoor.origin", "origin-aue", SOURCE)
    estate.sandbox.add_faults({"kind": "error", "op": "afd.origin.update", "status": 409, "code": "Conflict"})
    ctx = _ctx(estate)
    refused = FENCER.fence(ctx, item)
    assert not refused.fenced
    assert "origin-aue" in refused.detail
    fenced = FENCER.fence(ctx.next_attempt(), item)
    assert fenced.fenced
    assert _origins(estate)["origin-aue"][0] is False
    sent = len(estate.mutations())
    again = FENCER.fence(_ctx(estate, run_id="later"), item)
    assert (again.fenced, again.detail) == (True, "already disabled")
    assert len(estate.mutations()) == sent


def test_validation_refuses_a_switch_that_does_not_follow_promotion_and_target_health(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError) as caught:
        frontdoor_playbook(tmp_path, needs=["approve-failover"])
    messages = " ".join(str(getattr(d, "message", d)) for d in caught.value.diagnostics)
    assert "could move before the target database is promoted" in messages
    frontdoor_playbook(tmp_path)  # after target-health: valid
