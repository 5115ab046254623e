"""standby.start_web_apps, standby.scale and standby.patch against the sandbox's warm standby, through the real
SDK. Each change is counted in the sandbox's request log: one request per change, none when already there."""

from __future__ import annotations

from typing import Any

import pytest

from drctl.actions.azure_bridge import FACT_INTENT
from drctl.actions.runtime import Finding, TransientError
from drctl.actions.standby.run import (
    PATCH_IMPLEMENTATION,
    RETURN_IMPLEMENTATION,
    SCALE_IMPLEMENTATION,
    START_IMPLEMENTATION,
)
from drctl.actions.standby.spec import PatchParams, ReturnParams, ScaleParams, ScaleTarget, StartWebAppsParams
from tests.actions.conftest import Estate

TARGET_APPS = ("app-wallet-api-aus", "app-wallet-portal-aus")
TARGET_VMSS, SOURCE_VMSS = "vmss-wallet-workers-aus", "vmss-wallet-workers-aue"


def _apps(estate: Estate) -> dict[str, str]:
    return {name: s["state"] for name, s in estate.state()["web_apps"].items() if name in TARGET_APPS}


def _capacity(estate: Estate, name: str = TARGET_VMSS) -> int:
    return int(estate.state()["scale_sets"][name]["capacity"])


def _findings(found: list[Finding]) -> list[tuple[str, str]]:
    return [(f.subject, f.severity) for f in found]


# --- standby.start_web_apps ------------------------------------------------------------------------------------


def test_start_starts_each_stopped_app_once(estate: Estate) -> None:
    ctx = estate.ctx()
    outcome = START_IMPLEMENTATION.run(StartWebAppsParams(), ctx)
    assert outcome.changed
    assert sorted(outcome.facts["started"]) == sorted(TARGET_APPS)
    assert _apps(estate) == dict.fromkeys(TARGET_APPS, "Running")
    assert sorted(path.rsplit("/", 2)[-2] for _, path in estate.mutations()) == sorted(TARGET_APPS)


def test_start_done_check_is_false_before_and_true_after(estate: Estate) -> None:
    assert START_IMPLEMENTATION.done is not None
    ctx = estate.ctx()
    assert START_IMPLEMENTATION.done(StartWebAppsParams(), ctx) is False
    START_IMPLEMENTATION.run(StartWebAppsParams(), ctx)
    assert START_IMPLEMENTATION.done(StartWebAppsParams(), ctx.next_attempt()) is True
    again = START_IMPLEMENTATION.run(StartWebAppsParams(), ctx.next_attempt())
    assert not again.changed
    assert len(estate.mutations()) == 2


def test_start_after_a_crash_does_not_send_a_start_whose_effect_shows(estate: Estate) -> None:
    """The process journaled its intent to start the API app, sent it, and died before the answer: the app runs."""
    api = TARGET_APPS[0]
    estate.sandbox.client().set_web_app_state(api, "Running")
    intent = {"key": f"web.start rg-wallet-aus/{api}", "round": 1, "what": f"start web app {api}", "attempt": 1}
    ctx = estate.ctx(attempt=2, facts=[(FACT_INTENT, {**intent, "at": "2026-03-03T02:10:00+00:00"})])
    outcome = START_IMPLEMENTATION.run(StartWebAppsParams(), ctx)
    assert outcome.facts["started"] == [TARGET_APPS[1]]
    assert [path.rsplit("/", 2)[-2] for _, path in estate.mutations()] == [TARGET_APPS[1]]


def test_start_preflight_on_a_healthy_and_a_broken_estate(estate: Estate) -> None:
    assert START_IMPLEMENTATION.preflight is not None
    stopped = START_IMPLEMENTATION.preflight(StartWebAppsParams(), estate.ctx())
    assert _findings(stopped) == [(f"web app {a}", "info") for a in TARGET_APPS]
    assert {f.current for f in stopped} == {"Stopped"}
    START_IMPLEMENTATION.run(StartWebAppsParams(), estate.ctx())
    running = START_IMPLEMENTATION.preflight(StartWebAppsParams(), estate.ctx())
    assert _findings(running) == [(f"web app {a}", "ok") for a in TARGET_APPS]
    assert len(estate.mutations()) == 2  # the run's two starts; preflights sent nothing


# --- standby.scale ---------------------------------------------------------------------------------------------


def test_scale_sizes_the_target_from_the_source_live_capacity(estate: Estate) -> None:
    estate.sandbox.client().set_capacity(SOURCE_VMSS, 10)  # the playbook says 6: the live figure wins
    ctx = estate.ctx()
    outcome = SCALE_IMPLEMENTATION.run(ScaleParams(min_ratio=0.8), ctx)
    result = outcome.facts["scale_sets"][TARGET_VMSS]
    assert (result["before"], result["after"], result["floor"]) == (1, 8, 8)
    assert (result["source_read"], result["live_source_capacity"], result["declared_source_capacity"]) == (
        "live",
        10,
        6,
    )
    assert _capacity(estate) == 8
    assert estate.mutations() == [("PATCH", estate.mutations()[0][1])]
    assert estate.mutations()[0][1].endswith(TARGET_VMSS)


def test_scale_falls_back_to_the_playbook_when_the_source_does_not_answer(estate: Estate) -> None:
    estate.sandbox.add_faults({"kind": "error", "op": "arm.read", "status": 404, "code": "ResourceNotFound"})
    outcome = SCALE_IMPLEMENTATION.run(ScaleParams(), estate.ctx())
    result = outcome.facts["scale_sets"][TARGET_VMSS]
    assert (result["source_read"], result["floor"]) == ("playbook", 5)  # 80 % of the declared 6, rounded up
    assert _capacity(estate) == 5


def test_scale_to_an_explicit_capacity(estate: Estate) -> None:
    SCALE_IMPLEMENTATION.run(ScaleParams(scale_sets=[ScaleTarget(name=TARGET_VMSS, capacity=3)]), estate.ctx())
    assert _capacity(estate) == 3


def test_scale_done_check_is_false_before_and_true_after(estate: Estate) -> None:
    assert SCALE_IMPLEMENTATION.done is not None
    ctx = estate.ctx()
    assert SCALE_IMPLEMENTATION.done(ScaleParams(), ctx) is False
    SCALE_IMPLEMENTATION.run(ScaleParams(), ctx)
    assert SCALE_IMPLEMENTATION.done(ScaleParams(), ctx.next_attempt()) is True
    again = SCALE_IMPLEMENTATION.run(ScaleParams(), ctx.next_attempt())
    assert not again.changed
    assert len(estate.mutations()) == 1


def test_scale_preflight_on_a_healthy_and_a_broken_estate(estate: Estate) -> None:
    assert SCALE_IMPLEMENTATION.preflight is not None
    (short,) = SCALE_IMPLEMENTATION.preflight(ScaleParams(), estate.ctx())
    assert (short.current, short.severity) == ("1", "info")
    estate.sandbox.client().set_capacity(TARGET_VMSS, 6)
    (ready,) = SCALE_IMPLEMENTATION.preflight(ScaleParams(), estate.ctx())
    assert (ready.current, ready.severity) == ("6", "ok")
    assert estate.mutations() == []


# --- standby.patch ---------------------------------------------------------------------------------------------


def _site(estate: Estate, name: str = TARGET_APPS[0]) -> str:
    return (
        f"/subscriptions/{estate.sandbox.subscription_id}/resourceGroups/rg-wallet-aus/providers/"
        f"Microsoft.Web/sites/{name}"
    )


def _tag_patch(estate: Estate, **kwargs: Any) -> PatchParams:
    return PatchParams.model_validate(
        {"resource_id": _site(estate), "api_version": "2022-03-01", "body": {"tags": {"dr": "serving"}}, **kwargs}
    )


def test_patch_sends_one_patch_and_verifies_it_reads_back(estate: Estate) -> None:
    ctx = estate.ctx()
    outcome = PATCH_IMPLEMENTATION.run(_tag_patch(estate), ctx)
    assert outcome.changed
    assert estate.mutations() == [("PATCH", _site(estate))]
    kinds = ctx.kinds()
    assert kinds.index(FACT_INTENT) < kinds.index("op.finished")


def test_patch_of_a_scale_set_capacity(estate: Estate) -> None:
    vmss = _site(estate).replace(
        "Microsoft.Web/sites/app-wallet-api-aus", f"Microsoft.Compute/virtualMachineScaleSets/{TARGET_VMSS}"
    )
    body = {"sku": {"capacity": 4}}
    params = PatchParams.model_validate({"resource_id": vmss, "api_version": "2024-07-01", "body": body})
    PATCH_IMPLEMENTATION.run(params, estate.ctx())
    assert _capacity(estate) == 4


def test_patch_done_check_is_false_before_and_true_after(estate: Estate) -> None:
    assert PATCH_IMPLEMENTATION.done is not None
    ctx = estate.ctx()
    assert PATCH_IMPLEMENTATION.done(_tag_patch(estate), ctx) is False
    PATCH_IMPLEMENTATION.run(_tag_patch(estate), ctx)
    assert PATCH_IMPLEMENTATION.done(_tag_patch(estate), ctx.next_attempt()) is True
    again = PATCH_IMPLEMENTATION.run(_tag_patch(estate), ctx.next_attempt())
    assert not again.changed
    assert len(estate.mutations()) == 1


def test_patch_whose_desired_state_never_reads_back_is_retried(estate: Estate) -> None:
    with pytest.raises(TransientError):
        PATCH_IMPLEMENTATION.run(_tag_patch(estate, verify={"tags": {"dr": "something else"}}), estate.ctx())
    assert len(estate.mutations()) == 1


def test_patch_preflight_on_a_healthy_and_a_broken_estate(estate: Estate) -> None:
    assert PATCH_IMPLEMENTATION.preflight is not None
    (before,) = PATCH_IMPLEMENTATION.preflight(_tag_patch(estate), estate.ctx())
    assert (before.severity, before.intended) == ("info", '{"tags": {"dr": "serving"}}')
    assert before.current == '{"tags": {"dr": null}}'
    PATCH_IMPLEMENTATION.run(_tag_patch(estate), estate.ctx())
    (after,) = PATCH_IMPLEMENTATION.preflight(_tag_patch(estate), estate.ctx())
    assert (after.severity, after.current) == ("ok", after.intended)
    assert len(estate.mutations()) == 1


# --- standby.return (tests/actions/test_standby_return.py has the rest) --------------------------------------------


def test_return_stops_the_apps_the_same_run_started(estate: Estate) -> None:
    from drctl.actions.base import Scope
    from drctl.playbook.enums import Mode

    forward = estate.ctx(step_id="failover:start")
    START_IMPLEMENTATION.run(StartWebAppsParams(), forward)
    seeded = [("standby.prior", {**d, "step": "failover:start"}) for d in forward.recorded("standby.prior")]
    back = estate.ctx(scope=Scope(estate.playbook, "au-southeast", "au-east"), mode=Mode.DRILL, run_facts_seeded=seeded)
    RETURN_IMPLEMENTATION.run(ReturnParams(), back)
    assert _apps(estate) == dict.fromkeys(TARGET_APPS, "Stopped")
    assert len(estate.mutations()) == 4  # two starts, two stops
