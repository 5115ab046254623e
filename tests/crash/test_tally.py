"""The crash harness's counting, on hand-made request logs and captures: it must see every duplicate it is
there to catch, and must not cry wolf on a correct run (a periodic message in its next period is not one)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from tests.crash.harness import fast_sample
from tests.crash.points import CATALOGUE, KillPoint, random_point
from tests.crash.tally import Expectations, count_once, expectations, judge_end, resource_of

SUB = "/subscriptions/s/resourceGroups"


@pytest.fixture
def expected(tmp_path: Path) -> Expectations:
    path = tmp_path / "wallet.yaml"
    path.write_text(fast_sample())
    return expectations(path)


def arm(method: str, op: str, path: str) -> dict[str, Any]:
    return {"service": "arm", "method": method, "op": op, "path": SUB + path, "status": 200}


def dns_query(name: str, rtype: str) -> dict[str, Any]:
    return {"service": "dns", "method": "QUERY", "op": "dns.query", "path": f"{name}.wallet.example.com. {rtype}"}


CORRECT = [
    arm("POST", "web.start", "/rg-wallet-aus/providers/Microsoft.Web/sites/app-wallet-api-aus/start"),
    arm("POST", "web.start", "/rg-wallet-aus/providers/Microsoft.Web/sites/app-wallet-portal-aus/start"),
    arm(
        "PATCH",
        "vmss.update",
        "/rg-wallet-aus/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-wallet-workers-aus",
    ),
    arm(
        "POST",
        "sql.failover",
        "/rg-wallet-aus/providers/Microsoft.Sql/servers/sql-wallet-aus/failoverGroups/fg-wallet/failover",
    ),
    arm("GET", "arm.read", "/rg-wallet-aus/providers/Microsoft.Sql/servers/sql-wallet-aus/failoverGroups/fg-wallet"),
    arm("PUT", "dns.write", "/rg-wallet-dns/providers/Microsoft.Network/dnsZones/wallet.example.com/A/api"),
    arm("PUT", "dns.write", "/rg-wallet-dns/providers/Microsoft.Network/dnsZones/wallet.example.com/CNAME/portal"),
    dns_query("api", "A"),
    dns_query("portal", "CNAME"),
]
T0 = "2026-12-03T09:00:00.000Z"
STARTS = [
    {"type": "step.started", "step": "announce-start", "at": T0},
    {"type": "step.started", "step": "status-updates", "at": "2026-12-03T09:00:01+00:00"},
]
TITLES = {
    "announce-start": "P1 failover: wallet-platform au-east -> au-southeast started",
    "status-updates": "P1 update: wallet-platform failover running",
    "phase-standby-ready": "failover: database promoted and standby running in au-southeast",
    "announce-complete": "failover complete: wallet-platform now serves from au-southeast",
}
STAKEHOLDERS = ["wallet-stakeholders@wallet.example.com", "service-desk@wallet.example.com"]


def slack(title: str, at: str = "2026-12-03T09:00:02.000Z") -> dict[str, Any]:
    return {
        "channel": "ops-slack",
        "time": at,
        "body": {"text": title + "\nbody", "blocks": [{"text": {"text": title}}]},
    }


def teams(title: str) -> dict[str, Any]:
    return {"channel": "exec-teams", "time": "2026-12-03T09:00:02.000Z", "body": {"title": title, "text": "x"}}


def mail(title: str, at: str = "2026-12-03T09:00:02.000Z") -> dict[str, Any]:
    return {"subject": title, "rcpt_tos": STAKEHOLDERS, "time": at}


def correct_messages() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    webhooks = [slack(t) for t in TITLES.values()] + [teams(t) for t in TITLES.values()]
    emails = [mail(TITLES[s]) for s in ("announce-start", "status-updates", "announce-complete")]
    return webhooks, emails


def test_a_correct_run_counts_exactly_once(expected: Expectations) -> None:
    webhooks, emails = correct_messages()
    verdict = count_once(expected, CORRECT, webhooks, emails, STARTS)
    assert verdict.ok, verdict.lines()


def test_a_second_failover_post_and_a_resent_message_are_duplicates(expected: Expectations) -> None:
    webhooks, emails = correct_messages()
    requests = [*CORRECT, CORRECT[3], CORRECT[0]]
    verdict = count_once(expected, requests, [*webhooks, teams(TITLES["announce-start"])], emails, STARTS)
    assert verdict.duplicates == {
        "sql.failover fg-wallet": 2,
        "web.start app-wallet-api-aus": 2,
        "message announce-start -> exec-teams": 2,
    }
    assert not verdict.exactly_once
    assert "duplicate sql.failover fg-wallet: 2 times (answered 200, 200)" in verdict.lines()


def test_a_periodic_message_counts_once_per_period(expected: Expectations) -> None:
    webhooks, emails = correct_messages()
    later = mail(TITLES["status-updates"], at="2026-12-03T09:30:05.000Z")  # the next 30-minute period
    assert count_once(expected, CORRECT, webhooks, [*emails, later], STARTS).ok
    again = mail(TITLES["status-updates"], at="2026-12-03T09:10:00.000Z")  # same period: sent twice
    verdict = count_once(expected, CORRECT, webhooks, [*emails, again], STARTS)
    assert verdict.duplicates == {"message status-updates -> stakeholders": 2}


def test_a_resent_message_is_a_duplicate_even_with_one_idempotency_key_and_says_so(expected: Expectations) -> None:
    webhooks, emails = correct_messages()
    copy = {**mail(TITLES["announce-complete"]), "message_id": "<k1@drctl>"}
    verdict = count_once(expected, CORRECT, webhooks, [*emails[:2], copy, copy], STARTS)
    assert verdict.duplicates == {"message announce-complete -> stakeholders": 2}
    assert verdict.lines() == ["duplicate message announce-complete -> stakeholders: 2 times (one idempotency key)"]


def test_missing_and_unexpected_changes_are_reported(expected: Expectations) -> None:
    webhooks, emails = correct_messages()
    storage = arm("POST", "storage.failover", "/rg-wallet-aue/providers/Microsoft.Storage/storageAccounts/st1/failover")
    verdict = count_once(expected, [*CORRECT[1:], storage], webhooks[1:], emails, STARTS)
    assert verdict.missing == ["web.start app-wallet-api-aus", "message announce-start -> ops-slack"]
    assert verdict.unexpected == {"storage.failover st1": 1}


def test_a_message_drctl_reports_in_doubt_is_not_a_silent_loss(expected: Expectations) -> None:
    webhooks, emails = correct_messages()
    doubt = {"type": "fact", "kind": "notify.unknown", "step": "announce-start", "data": {"channel": "ops-slack"}}
    verdict = count_once(expected, CORRECT, webhooks[1:], emails, [*STARTS, doubt])
    assert verdict.missing == []
    assert verdict.in_doubt == ["message announce-start -> ops-slack"]
    assert verdict.exactly_once
    # the same loss without the journal saying so is a silent loss
    assert count_once(expected, CORRECT, webhooks[1:], emails, STARTS).missing == [
        "message announce-start -> ops-slack"
    ]


def test_resources_are_named_from_the_request_path() -> None:
    assert [resource_of(r) for r in CORRECT if r["service"] == "arm" and r["method"] != "GET"] == [
        "app-wallet-api-aus",
        "app-wallet-portal-aus",
        "vmss-wallet-workers-aus",
        "fg-wallet",
        "A/api",
        "CNAME/portal",
    ]


def end_state() -> dict[str, Any]:
    return {
        "failover_groups": {"fg-wallet": {"primary": "sql-wallet-aus"}},
        "web_apps": {"app-wallet-api-aus": {"state": "Running"}, "app-wallet-portal-aus": {"state": "Running"}},
        "scale_sets": {"vmss-wallet-workers-aus": {"capacity": 5, "provisioning_state": "Succeeded"}},
        "dns": {
            "wallet.example.com": {
                "served": [
                    {"type": "A", "name": "api", "values": ["20.70.20.20"]},
                    {"type": "CNAME", "name": "portal", "values": ["app-wallet-portal-aus.azurewebsites.net"]},
                ]
            }
        },
    }


FINISHED = [
    {"type": "fact", "step": "dns-swap", "kind": "dns.verified"},
    {"type": "fact", "step": "dns-swap", "kind": "service.restored"},
    {"type": "run.finished", "ending": "succeeded"},
]


def test_a_right_end_is_judged_right(expected: Expectations) -> None:
    assert judge_end(expected, end_state(), FINISHED, CORRECT) == []


def test_dns_marked_done_without_checking_the_authoritative_servers_is_a_wrong_end(expected: Expectations) -> None:
    """The crash defect of issue 10: after a kill between the write and the check, resume called it done."""
    unchecked = [r for r in CORRECT if r["service"] != "dns"]
    wrong = judge_end(expected, end_state(), [FINISHED[-1]], unchecked)
    assert wrong == [
        "dns-swap has no dns.verified fact",
        "dns-swap has no service.restored fact",
        "DNS A/api never checked at the authoritative server after its write",
        "DNS CNAME/portal never checked at the authoritative server after its write",
    ]


def test_a_wrong_estate_is_a_wrong_end(expected: Expectations) -> None:
    state = end_state()
    state["failover_groups"]["fg-wallet"]["primary"] = "sql-wallet-aue"
    state["scale_sets"]["vmss-wallet-workers-aus"]["capacity"] = 1
    wrong = judge_end(expected, state, FINISHED[:2], CORRECT)
    assert wrong == [
        "fg-wallet primary is sql-wallet-aue, not sql-wallet-aus",
        "scale set vmss-wallet-workers-aus: capacity 1 (Succeeded) < 5",
        "the journal ends with fact",
    ]


def test_kill_points_are_reproducible_from_the_seed_and_aim_at_open_windows() -> None:
    first = [random_point(random.Random(7), set()) for _ in range(3)]
    assert first == [random_point(random.Random(7), set()) for _ in range(3)]
    rng = random.Random(11)
    done = {step for _, _, step, _ in CATALOGUE if step} | {"status-updates", "announce-start", "phase-standby-ready"}
    later = [random_point(rng, done - {"announce-complete"}) for _ in range(200)]
    aimed = {(p.trigger, p.value) for p in later if p.trigger in ("request", "event")}
    assert aimed == {("request", "sink.webhook"), ("request", "sink.smtp"), ("event", "fact:notify.sent")}
    assert {p.signal for p in later} == {"SIGKILL", "SIGINT2", "SIGHUP"}
    assert KillPoint("request", "sql.failover").kind == "inside LRO sql.failover"
    assert KillPoint("event", "fact:dns.changed").kind == "DNS written, not verified"
