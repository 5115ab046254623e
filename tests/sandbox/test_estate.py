"""The estate file and faults are validated before anything starts, with errors naming file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from drctl.errors import ExitCode, SandboxError
from drctl.sandbox import demo_estate, demo_estate_data, load_estate, parse_faults
from drctl.sandbox.estate import parse_estate
from drctl.sandbox.faults import ErrorFault, LatencyFault
from drctl.sandbox.playbook import estate_from_playbook
from drctl.sandbox.process import parse_fault_flag
from tests.conftest import SAMPLE


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "estate.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_the_demo_estate_is_valid_and_round_trips_through_yaml(tmp_path: Path) -> None:
    estate = load_estate(_write(tmp_path, demo_estate_data()))
    assert estate == demo_estate()
    assert estate.hostnames() == [
        "api-aue.wallet.example.com",
        "api-ause.wallet.example.com",
        "smtp.wallet.example.com",
    ]


def test_a_missing_estate_file_is_a_sandbox_error(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="estate file not found") as err:
        load_estate(tmp_path / "nope.yaml")
    assert err.value.exit_code is ExitCode.SANDBOX


def test_invalid_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "estate.yaml"
    path.write_text("subscription_id: x\nregions: [unclosed\n")
    with pytest.raises(SandboxError, match=r"estate\.yaml:3:1: not valid YAML"):
        load_estate(path)


def test_an_unknown_field_is_reported_with_its_line_and_path(tmp_path: Path) -> None:
    data = demo_estate_data()
    data["web_apps"][1]["sate"] = "Running"
    with pytest.raises(SandboxError) as err:
        load_estate(_write(tmp_path, data))
    text = str(err.value)
    assert "web_apps[1].sate: Extra inputs are not permitted" in text
    line = next(i for i, text in enumerate((tmp_path / "estate.yaml").read_text().splitlines(), 1) if "sate:" in text)
    assert f"estate.yaml:{line}:" in text


def test_cross_references_are_checked_and_every_problem_reported(tmp_path: Path) -> None:
    data = demo_estate_data()
    data["sql"]["failover_groups"][0]["secondary"] = "sql-nowhere"
    data["web_apps"][0]["region"] = "mars"
    data["dns"]["zones"][0]["records"][0]["values"] = ["300.1.1.1"]
    with pytest.raises(SandboxError) as err:
        load_estate(_write(tmp_path, data))
    text = str(err.value)
    assert "(3 problems)" in text
    assert "sql.failover_groups[0].secondary: unknown SQL server 'sql-nowhere'" in text
    assert "web_apps[0].region: unknown region 'mars'" in text
    assert "dns.zones[0].records[0].values: not IPv4 addresses: 300.1.1.1" in text


def test_an_unknown_fault_kind_in_the_estate_names_the_known_kinds() -> None:
    data = demo_estate_data()
    data["faults"] = [{"kind": "meteor_strike"}]
    with pytest.raises(SandboxError, match=r"faults\[0\]: unknown fault kind 'meteor_strike'; known kinds: latency"):
        parse_estate(yaml.safe_dump(data), source="e.yaml")


def test_fault_rules_parse_and_reject_unknown_operations() -> None:
    rules = parse_faults(
        [
            {"kind": "latency", "op": "sql.failover", "seconds": 3},
            {"kind": "error", "op": "web.start", "times": 2, "status": 503},
        ]
    )
    assert isinstance(rules[0], LatencyFault)
    assert rules[0].seconds == 3
    assert isinstance(rules[1], ErrorFault)
    assert rules[1].times == 2
    with pytest.raises(SandboxError, match=r"\[0\]\.op: unknown value 'sql.explode'; expected"):
        parse_faults([{"kind": "latency", "op": "sql.explode", "seconds": 1}])
    with pytest.raises(SandboxError, match=r"web\.start is not a long-running operation"):
        parse_faults({"kind": "lro_failure", "op": "web.start"})


def test_the_cli_fault_flag_takes_json_or_key_value_pairs() -> None:
    assert parse_fault_flag("kind=latency,op=sql.failover,seconds=2.5") == {
        "kind": "latency",
        "op": "sql.failover",
        "seconds": 2.5,
    }
    assert parse_fault_flag('{"kind": "token_endpoint_down"}') == {"kind": "token_endpoint_down"}
    with pytest.raises(SandboxError, match="key=value"):
        parse_fault_flag("latency")


def test_variables_may_only_use_known_placeholders() -> None:
    data = demo_estate_data()
    data["variables"] = {"HOOK": "{webhook_bass}/x"}
    with pytest.raises(SandboxError, match=r"variables\.HOOK: unknown placeholder \{webhook_bass\}"):
        parse_estate(yaml.safe_dump(data))


def test_a_playbook_seeds_source_primary_and_target_warm_standby() -> None:
    estate = estate_from_playbook(SAMPLE)
    group = estate.sql.failover_groups[0]
    assert (group.primary, group.secondary) == ("sql-wallet-aue", "sql-wallet-aus")
    states = {w.name: w.state.value for w in estate.web_apps}
    assert states["app-wallet-api-aue"] == "Running"
    assert states["app-wallet-api-aus"] == "Stopped"
    capacity = {s.name: s.capacity for s in estate.scale_sets}
    assert capacity == {"vmss-wallet-workers-aue": 6, "vmss-wallet-workers-aus": 1}
    records = {r.name: r for r in estate.dns.zones[0].records}
    assert records["api"].values == ["20.53.10.10"]
    assert records["api"].ttl == 300  # the operations appendix's steady-state TTL
    assert estate.regions["au-east"].app is not None
    assert estate.regions["au-east"].app.hosts == ["api-aue.wallet.example.com"]
    assert estate.regions["au-east"].app.replication_path == "/replication"
    # every ${VAR} a channel uses points at the sandbox
    assert estate.variables["SLACK_OPS_WEBHOOK"] == "{webhook_base}/ops-slack"
    assert estate.variables["SMTP_PASSWORD"] == "{smtp_password}"
    assert "smtp.wallet.example.com:587" in estate.smtp.hosts
