from __future__ import annotations

from drctl.actions.messages import compose, slack_payload, teams_payload, webhook_payload
from drctl.cli.facts_view import describe_fact
from drctl.net.http import redact_url
from drctl.net.resolve import connect_address, parse_overrides


def test_a_drill_message_is_always_marked_whatever_the_template_says() -> None:
    msg = compose(
        title="{mode} of {playbook}",
        message="{elapsed} of {rto}",
        facts={"mode": "drill", "playbook": "wallet", "elapsed": "5m", "rto": "1h"},
        drill=True,
        phase=None,
    )
    assert msg.title == "[DRILL] drill of wallet"
    assert msg.text == "5m of 1h"
    marked = compose(title="{drill_marker}P1", message="x", facts={}, drill=True, phase=None)
    assert marked.title == "[DRILL] P1"
    assert compose(title="{drill_marker}P1", message="x", facts={}, drill=False, phase=None).title == "P1"


def test_a_run_fact_not_known_yet_reads_as_such() -> None:
    assert compose(title="t", message="RPO {rpo_exposure}", facts={}, drill=False, phase=None).text == "RPO n/a"


def test_each_channel_gets_its_own_payload() -> None:
    msg = compose(title="T", message="M", facts={}, drill=False, phase="p")
    assert slack_payload(msg)["text"] == "T\nM"
    assert teams_payload(msg)["@type"] == "MessageCard"
    assert webhook_payload(msg, {"a": 1})["facts"] == {"a": "1"}


def test_webhook_urls_are_shown_without_their_secret_part() -> None:
    url = "https://hooks.slack.com/services/T000/B000/XXXXSECRET"
    assert redact_url(url) == "https://hooks.slack.com/services/..."
    assert "SECRET" not in redact_url("https://example.com/hook?token=SECRET")


def test_resolve_overrides_connect_a_name_elsewhere() -> None:
    env = {"DRCTL_RESOLVE": "api.example.com:443=127.0.0.1:8443, smtp.example.com:587=127.0.0.1:2525"}
    assert connect_address("API.example.com", 443, env) == ("127.0.0.1", 8443)
    assert connect_address("api.example.com", 80, env) == ("api.example.com", 80)
    assert parse_overrides("") == {}


def test_views_show_the_gist_of_a_fact_and_hide_the_call_log() -> None:
    assert describe_fact("arm.calls", {"calls": []}) is None
    line = describe_fact("rpo.exposure", {"seconds": 42, "source": "app", "basis": "b", "upper_bound": True})
    assert line == "RPO exposure at most 42s (app: b)"
    assert describe_fact("custom.kind", {"a": 1}) == "custom.kind: a=1"


def test_a_plan_fills_a_title_for_its_mode_and_describes_what_only_the_run_knows() -> None:
    from drctl.actions.messages import plan_title

    known = {"playbook": "wallet", "source": "east", "target": "west", "rto": "1h", "rpo": "15m"}
    template = "{drill_marker}P1 {mode}: {playbook} {source} -> {target} {status}, {elapsed} of {rto}"
    assert plan_title(template, known, mode="drill", phase=None) == (
        "[DRILL] P1 drill: wallet east -> west <run state>, <elapsed> of 1h"
    )
    assert plan_title(template, known, mode="failover", phase=None) == (
        "P1 failover: wallet east -> west <run state>, <elapsed> of 1h"
    )
    # a drill title is marked whatever the template says, as at run time
    assert plan_title("{mode} done", known, mode="drill", phase=None) == "[DRILL] drill done"
    assert plan_title("{phase}: {run_id}", known, mode="failback", phase="complete") == "complete: <run id>"


def test_a_plan_names_only_the_channels_each_mode_messages() -> None:
    from drctl.actions.messages import Recipient, for_mode, plan_intents

    recipients = [
        Recipient("ops-slack", "slack", frozenset({"production", "drill"})),
        Recipient("exec-teams", "teams", frozenset({"production"})),
    ]
    intents = plan_intents(recipients, "{drill_marker}{mode} started", {}, phase=None, cadence=", then every 30m")

    assert for_mode(intents, "drill") == ("message ops-slack (slack): '[DRILL] drill started', then every 30m",)
    assert for_mode(intents, "failover") == (
        "message ops-slack (slack), exec-teams (teams): 'failover started', then every 30m",
    )
    only_exec = plan_intents(recipients[1:], "t", {}, phase=None)
    assert for_mode(only_exec, "drill") == ("no message: none of its channels (exec-teams) takes the drill audience",)
    # an intent for every mode passes through whatever the mode
    assert for_mode(["scale vmss-a to 4", *intents], "failback")[0] == "scale vmss-a to 4"


def test_a_latency_never_reads_none() -> None:
    line = describe_fact("health.http", {"first_error": "connection refused", "p95_ms": None})
    assert line == "unhealthy: connection refused (p95 no response)"
    assert describe_fact("health.http", {"first_error": "status 503", "p95_ms": 6.4}) == (
        "unhealthy: status 503 (p95 6 ms)"
    )
