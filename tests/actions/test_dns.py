"""dns.swap against the sandbox's zone: If-Match writes through the real SDK, verification by DNS queries to the
sandbox's authoritative server, and the restore time clients see (change + previous TTL)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from drctl.actions.azure_bridge import FACT_INTENT
from drctl.actions.dns.run import SWAP_IMPLEMENTATION
from drctl.actions.dns.spec import DnsSwapParams
from drctl.actions.runtime import FACT_SERVICE_RESTORED, ActionError, Outcome, TransientError
from tests.actions.conftest import Estate

ZONE = "wallet.example.com"
TARGET_VALUES = {"api": ["20.70.20.20"], "portal": ["app-wallet-portal-aus.azurewebsites.net"]}

done = SWAP_IMPLEMENTATION.done
preflight = SWAP_IMPLEMENTATION.preflight
assert done is not None
assert preflight is not None


def _served(estate: Estate) -> dict[str, tuple[list[str], int]]:
    served = estate.state()["dns"][ZONE]["served"]
    return {r["name"]: (r["values"], r["ttl"]) for r in served}


def test_swap_moves_each_record_once_and_verifies_it_where_clients_ask(estate: Estate) -> None:
    ctx = estate.ctx()
    outcome = SWAP_IMPLEMENTATION.run(DnsSwapParams(), ctx)
    assert outcome.changed
    assert _served(estate) == {name: (values, 300) for name, values in TARGET_VALUES.items()}
    assert sorted(m for m, _ in estate.mutations()) == ["PUT", "PUT"]
    changed = {c["fqdn"]: c for c in ctx.recorded("dns.changed")}
    assert set(changed) == {f"api.{ZONE}", f"portal.{ZONE}"}
    assert changed[f"api.{ZONE}"]["previous_values"] == ["20.53.10.10"]
    assert changed[f"api.{ZONE}"]["previous_ttl"] == 300
    (verified,) = ctx.recorded("dns.verified")
    assert len(verified["answers"]) == 2
    (restored,) = ctx.recorded(FACT_SERVICE_RESTORED)
    # clients may keep the old answer for the previous TTL after the authoritative servers switch
    at, authoritative = datetime.fromisoformat(restored["at"]), datetime.fromisoformat(restored["authoritative_at"])
    assert at - authoritative == timedelta(seconds=300)
    assert restored["previous_ttl_known"] is True


def test_swap_done_check_is_false_before_and_true_after(estate: Estate) -> None:
    ctx = estate.ctx()
    assert done(DnsSwapParams(), ctx) is False
    SWAP_IMPLEMENTATION.run(DnsSwapParams(), ctx)
    assert done(DnsSwapParams(), ctx.next_attempt()) is True
    # run again in the same run, it reports the moves it made (with their previous TTLs) and writes nothing
    again = SWAP_IMPLEMENTATION.run(DnsSwapParams(), ctx.next_attempt())
    assert again.changed
    assert {c["previous_ttl"] for c in again.facts["records"]} == {300}
    # another run finds the records already there
    other = SWAP_IMPLEMENTATION.run(DnsSwapParams(), estate.ctx(run_id="another"))
    assert not other.changed
    assert all(c["already"] for c in other.facts["records"])
    assert len(estate.mutations()) == 2


def test_done_check_finishes_a_swap_whose_verification_a_crash_interrupted(estate: Estate) -> None:
    first = estate.ctx()
    SWAP_IMPLEMENTATION.run(DnsSwapParams(), first)
    # the process died after sending both writes: its journal holds the intents (with the previous TTLs) only
    intents = [(kind, data) for kind, data in first.facts if kind == FACT_INTENT]
    resumed = estate.ctx(attempt=2, facts=intents)
    answer = done(DnsSwapParams(), resumed)
    assert isinstance(answer, Outcome)
    assert answer.changed  # the records were moved by this run, before the crash
    assert {c["previous_ttl"] for c in resumed.recorded("dns.changed")} == {300}
    assert all(c["from_intent"] for c in resumed.recorded("dns.changed"))
    assert resumed.recorded("dns.verified")
    assert resumed.recorded(FACT_SERVICE_RESTORED)[0]["previous_ttl_known"] is True
    assert len(estate.mutations()) == 2


def test_swap_never_overwrites_a_record_someone_else_changed(estate: Estate) -> None:
    estate.sandbox.client().set_dns_record(ZONE, "A", "api", ["203.0.113.7"])
    with pytest.raises(ActionError) as caught:
        SWAP_IMPLEMENTATION.run(DnsSwapParams(records=["api"]), estate.ctx())
    assert "203.0.113.7" in str(caught.value)
    assert estate.mutations() == []


def test_swap_not_yet_visible_at_the_authoritative_servers_is_retried(estate: Estate) -> None:
    estate.sandbox.client().set_dns_propagation_delay(3600)
    ctx = estate.ctx()
    with pytest.raises(TransientError):
        SWAP_IMPLEMENTATION.run(DnsSwapParams(records=["api"], verify_timeout="10s"), ctx)
    assert ctx.clock.monotonic() >= 10  # it waited on the run clock, then gave the decision to the retry policy
    assert ctx.recorded(FACT_SERVICE_RESTORED) == []
    assert done(DnsSwapParams(records=["api"], verify_timeout="10s"), ctx.next_attempt()) is False
    assert len(estate.mutations()) == 1


def test_swap_preflight_on_a_healthy_and_a_broken_estate(estate: Estate) -> None:
    found = preflight(DnsSwapParams(), estate.ctx(step_id="dns-swap"))
    assert [(f.subject, f.severity) for f in found] == [(f"DNS api.{ZONE} A", "ok"), (f"DNS portal.{ZONE} CNAME", "ok")]
    # a TTL longer than the new one needs lead time; one that makes clients switch past the RTO is an error
    admin = estate.sandbox.client()
    admin.set_dns_record(ZONE, "A", "api", ["20.53.10.10"], ttl=600)
    admin.set_dns_record(ZONE, "CNAME", "portal", ["app-wallet-portal-aue.azurewebsites.net"], ttl=3600)
    found = preflight(DnsSwapParams(), estate.ctx(step_id="dns-swap"))
    assert [f.severity for f in found] == ["warning", "error"]
    assert estate.mutations() == []
