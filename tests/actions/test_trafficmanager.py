"""trafficmanager.switch and the Traffic Manager fencer against the sandbox: the real azure-mgmt-trafficmanager
client over HTTPS, and the profile's name verified with real DNS queries at the sandbox's DNS server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import pytest

from drctl.actions.azure_bridge import FACT_INTENT
from drctl.actions.base import Scope
from drctl.actions.fencing import FenceItem
from drctl.actions.runtime import FACT_SERVICE_RESTORED, Outcome, TransientError
from drctl.actions.testkit import FakeSecrets, FakeServices
from drctl.actions.trafficmanager.run import FENCER, SWITCH_IMPLEMENTATION
from drctl.actions.trafficmanager.spec import TmSwitchParams
from drctl.planning.load import check_file, load_playbook
from drctl.sandbox import estate_from_playbook
from drctl.sandbox.testing import running_sandbox
from tests.actions.conftest import SOURCE, TARGET, Estate
from tests.trafficmanager_playbook import (
    ENDPOINTS,
    FQDN,
    GROUP,
    PROFILE,
    TARGETS,
    with_switch_step,
    write_data,
)

run = SWITCH_IMPLEMENTATION.run
done = SWITCH_IMPLEMENTATION.done
preflight = SWITCH_IMPLEMENTATION.preflight
assert done is not None
assert preflight is not None
SOURCE_EP, TARGET_EP = ENDPOINTS[SOURCE], ENDPOINTS[TARGET]


@pytest.fixture(scope="module")
def _module_estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    where = tmp_path_factory.mktemp("tm-actions")
    loaded = load_playbook(write_data(where / "playbook.yaml", with_switch_step()))
    with running_sandbox(estate_from_playbook(loaded.playbook), workdir=where / "sandbox") as sb:
        env = sb.env()
        services = FakeServices.with_azure(env, subscription=sb.subscription_id)
        yield Estate(sb, loaded.playbook, services, FakeSecrets.for_playbook(loaded.playbook, env))
        services.close()


@pytest.fixture
def estate(_module_estate: Estate) -> Estate:
    _module_estate.sandbox.reset()
    return _module_estate


def _endpoints(estate: Estate) -> dict[str, tuple[str, int]]:
    found = estate.state()["traffic_manager"][PROFILE]["endpoints"]
    return {name: (e["status"], e["priority"]) for name, e in found.items()}


def _answer(estate: Estate) -> list[str]:
    query = dns.message.make_query(FQDN, "CNAME")
    response = dns.query.udp(query, "127.0.0.1", port=estate.sandbox.dns_port, timeout=2)
    return [r.to_text().rstrip(".") for rrset in response.answer for r in rrset]


def _endpoint_writes(estate: Estate) -> int:
    """The mutating requests to endpoints (a test's own profile PATCHes set the scene and are left out)."""
    return sum("Endpoints/" in path for _, path in estate.mutations())


def _tm_client(estate: Estate) -> Any:
    from azure.mgmt.trafficmanager import TrafficManagerManagementClient

    from drctl.sandbox.testing import arm_client

    return arm_client(estate.sandbox, TrafficManagerManagementClient)


def test_switch_enables_the_target_disables_the_source_and_verifies_the_name(estate: Estate) -> None:
    assert _answer(estate) == [TARGETS[SOURCE]]
    ctx = estate.ctx()
    outcome = run(TmSwitchParams(), ctx)
    assert outcome.changed
    assert _endpoints(estate) == {SOURCE_EP: ("Disabled", 1), TARGET_EP: ("Enabled", 2)}
    assert _answer(estate) == [TARGETS[TARGET]]
    # make before break: the target enabled first, one PATCH per endpoint, nothing else written
    base = f"/subscriptions/{estate.sandbox.subscription_id}/resourceGroups/{GROUP}/providers/Microsoft.Network"
    assert [(m, p.replace(base, "")) for m, p in estate.mutations()] == [
        ("PATCH", f"/trafficmanagerprofiles/{PROFILE}/ExternalEndpoints/{TARGET_EP}"),
        ("PATCH", f"/trafficmanagerprofiles/{PROFILE}/ExternalEndpoints/{SOURCE_EP}"),
    ]
    changed = ctx.recorded("trafficmanager.changed")
    assert [(c["endpoint"], c["previous_status"], c["status"]) for c in changed] == [
        (TARGET_EP, "Disabled", "Enabled"),
        (SOURCE_EP, "Enabled", "Disabled"),
    ]
    (verified,) = ctx.recorded("trafficmanager.verified")
    assert verified["values"] == [TARGETS[TARGET]]
    assert verified["servers"] == [f"127.0.0.1:{estate.sandbox.dns_port}"]
    assert verified["ttl"] == 60


def test_service_restored_is_the_verification_plus_the_profiles_ttl(estate: Estate) -> None:
    _tm_client(estate).profiles.update(GROUP, PROFILE, {"properties": {"dnsConfig": {"ttl": 25}}})
    ctx = estate.ctx()
    run(TmSwitchParams(), ctx)
    (restored,) = ctx.recorded(FACT_SERVICE_RESTORED)
    at, verified = datetime.fromisoformat(restored["at"]), datetime.fromisoformat(restored["authoritative_at"])
    assert at - verified == timedelta(seconds=25)
    assert restored["previous_ttl_seconds"] == 25
    assert restored["by"] == "trafficmanager.switch"
    assert ctx.kinds().index("trafficmanager.verified") < ctx.kinds().index(FACT_SERVICE_RESTORED)


def test_deprioritise_keeps_the_source_enabled_after_every_other_endpoint(estate: Estate) -> None:
    run(TmSwitchParams(source_endpoint="deprioritise"), estate.ctx())
    assert _endpoints(estate) == {SOURCE_EP: ("Enabled", 3), TARGET_EP: ("Enabled", 2)}
    assert _answer(estate) == [TARGETS[TARGET]]
    assert len(estate.mutations()) == 2


def test_done_check_reads_the_endpoints_and_the_journal(estate: Estate) -> None:
    ctx = estate.ctx()
    assert done(TmSwitchParams(), ctx) is False
    run(TmSwitchParams(), ctx)
    assert done(TmSwitchParams(), ctx.next_attempt()) is True
    # switched by someone else, nothing journaled: the done-check verifies the name and records the restore
    fresh = estate.ctx(run_id="another")
    answer = done(TmSwitchParams(), fresh)
    assert isinstance(answer, Outcome)
    assert fresh.recorded(FACT_SERVICE_RESTORED)
    assert len(estate.mutations()) == 2


def test_a_crash_after_the_writes_resends_nothing(estate: Estate) -> None:
    first = estate.ctx()
    run(TmSwitchParams(), first)
    assert len(estate.mutations()) == 2
    # the process died after sending both writes: its journal holds the intents only
    intents = [(kind, data) for kind, data in first.facts if kind == FACT_INTENT]
    resumed = estate.ctx(attempt=2, facts=intents)
    outcome = run(TmSwitchParams(), resumed)
    assert resumed.recorded(FACT_SERVICE_RESTORED)
    assert not outcome.changed
    assert len(estate.mutations()) == 2


def test_a_crash_between_intent_and_request_sends_it_once(estate: Estate) -> None:
    """The intent was journaled but the request never left: the resumed attempt watches for the effect for the
    settle time, does not see it, and sends each write once."""
    first = estate.ctx()
    intent = {"key": f"tm.endpoint {PROFILE}/{TARGET_EP} -> Enabled", "round": 1, "what": "x", "attempt": 1}
    resumed = estate.ctx(attempt=2, facts=[(FACT_INTENT, {**intent, "at": first.now().isoformat()})])
    run(TmSwitchParams(), resumed)
    assert len(estate.mutations()) == 2
    assert _endpoints(estate) == {SOURCE_EP: ("Disabled", 1), TARGET_EP: ("Enabled", 2)}


def test_a_name_that_never_answers_the_target_fails_without_claiming_restoration(estate: Estate) -> None:
    # a disabled profile answers NXDOMAIN whatever its endpoints
    _tm_client(estate).profiles.update(GROUP, PROFILE, {"properties": {"profileStatus": "Disabled"}})
    ctx = estate.ctx()
    with pytest.raises(TransientError, match="does not answer"):
        run(TmSwitchParams(verify_timeout="10s"), ctx)
    assert ctx.clock.monotonic() >= 10
    assert ctx.recorded(FACT_SERVICE_RESTORED) == []
    assert ctx.recorded("trafficmanager.verified") == []
    assert done(TmSwitchParams(verify_timeout="10s"), ctx.next_attempt()) is False
    assert _endpoint_writes(estate) == 2  # the endpoints were switched once; the retry writes nothing


def test_preflight_shows_current_and_intended_and_the_ttl(estate: Estate) -> None:
    found = preflight(TmSwitchParams(), estate.ctx(step_id="traffic-switch"))
    assert [(f.subject, f.current, f.intended, f.severity) for f in found] == [
        (
            f"Traffic Manager {PROFILE}/{TARGET_EP} ({TARGET})",
            "Disabled, priority 2, monitor Disabled",
            "Enabled",
            "ok",
        ),
        (f"Traffic Manager {PROFILE}/{SOURCE_EP} ({SOURCE})", "Enabled, priority 1, monitor Online", "Disabled", "ok"),
        (
            f"Traffic Manager {FQDN} TTL",
            "TTL 60 s, Priority, profile Enabled",
            "clients switch by the verification + 1m",
            "ok",
        ),
    ]
    # a TTL that makes clients switch past the RTO is an error
    _tm_client(estate).profiles.update(GROUP, PROFILE, {"properties": {"dnsConfig": {"ttl": 7200}}})
    found = preflight(TmSwitchParams(), estate.ctx(step_id="traffic-switch"))
    assert found[-1].severity == "error"
    assert _endpoint_writes(estate) == 0


def test_fencer_disables_the_source_endpoint_once(estate: Estate) -> None:
    scope = Scope(estate.playbook, SOURCE, TARGET)
    (item,) = FENCER.items(scope, SOURCE)
    assert item == FenceItem("trafficmanager.endpoint", SOURCE_EP, SOURCE)
    ctx = estate.ctx()
    outcome = FENCER.fence(ctx, item)
    assert outcome.fenced, outcome.detail
    assert _endpoints(estate)[SOURCE_EP] == ("Disabled", 1)
    again = FENCER.fence(ctx.next_attempt(), item)
    assert again.fenced
    assert again.detail == "already disabled"
    assert len(estate.mutations()) == 1


def test_fencer_reports_what_arm_refuses(estate: Estate) -> None:
    scope = Scope(estate.playbook, SOURCE, TARGET)
    (item,) = FENCER.items(scope, SOURCE)
    estate.sandbox.add_faults(
        {"kind": "error", "op": "tm.endpoint.update", "status": 403, "code": "AuthorizationFailed"}
    )
    refused = FENCER.fence(estate.ctx(), item)
    assert not refused.fenced
    assert "AuthorizationFailed" in refused.detail or "not authorised" in refused.detail
    estate.sandbox.add_faults({"kind": "error", "op": "arm.read", "status": 503, "times": None})
    unanswered = FENCER.fence(estate.ctx(), item)
    assert not unanswered.fenced
    assert unanswered.detail.startswith("not disabled")
    assert _endpoints(estate)[SOURCE_EP] == ("Enabled", 1)


def test_an_unguarded_switch_is_refused_by_validation(tmp_path: Path) -> None:
    guarded = check_file(write_data(tmp_path / "guarded.yaml", with_switch_step()))
    assert guarded.ok, [d.message for d in guarded.diagnostics]
    unguarded = check_file(write_data(tmp_path / "unguarded.yaml", with_switch_step(needs=["approve-failover"])))
    assert not unguarded.ok
    messages = [d.message for d in unguarded.diagnostics]
    assert any("Traffic could move before the target database is promoted" in m for m in messages), messages
