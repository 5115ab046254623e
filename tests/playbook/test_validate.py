"""Every class of bad playbook is refused with its file, line, column and field path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from drctl.errors import ExitCode, PlaybookError
from drctl.planning.load import check_file, load_playbook
from tests.conftest import PLAYBOOKS


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize("path", sorted(PLAYBOOKS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_playbook_is_valid_without_warnings(path: Path) -> None:
    result = check_file(path)
    assert result.ok, [str(d) for d in result.diagnostics]
    assert result.diagnostics == []


# (name, old text, new text, expected path, expected message part); the diagnostic must sit on the line of
# LINE_AT[name] when given, else on the line of the new text
CASES = [
    ("yaml syntax", "  rto: 1h\n", "  rto: [1h\n", "", "YAML syntax error"),
    (
        "unknown key",
        "    on_failure: continue   #",
        "    on_faliure: continue   #",
        "steps[2].on_faliure",
        "unknown key 'on_faliure' (did you mean 'on_failure'?)",
    ),
    (
        "wrong type",
        "      ttl: 300\n",
        "      ttl: fast\n",
        "steps[12].with.ttl",
        "expected a whole number, got 'fast'",
    ),
    (
        "unknown action",
        "uses: standby.scale",
        "uses: standby.scael",
        "steps[9].uses",
        "unknown action 'standby.scael' (did you mean 'standby.scale'?)",
    ),
    (
        "unresolved reference",
        "${{ target.health_url }}\n      samples: 5",
        "${{ target.helth_url }}\n      samples: 5",
        "steps[11].with.url",
        "unresolved reference '${{ target.helth_url }}'",
    ),
    ("duplicate id", "id: assess-target", "id: assess-source", "steps[4].id", "duplicate step id 'assess-source'"),
    (
        "unknown needs",
        "needs: [target-health]",
        "needs: [target-helth]",
        "steps[12].needs[0]",
        "unknown step 'target-helth' (did you mean 'target-health'?)",
    ),
    (
        "cyclic needs",
        "needs: [approve-failover]\n    retry: {attempts: 3",
        "needs: [promote-database]\n    retry: {attempts: 3",
        "steps[6].needs",
        "dependency cycle: replica-integrity -> promote-database -> replica-integrity",
    ),
    (
        "duration",
        "budget: 5m\n    retry: {attempts: 2",
        "budget: 5 minutes\n    retry: {attempts: 2",
        "steps[7].budget",
        "cannot read '5 minutes' as a duration",
    ),
    (
        "return to standby before the traffic switch",
        "needs: [dns-swap]   # scale down",
        "needs: [target-health]   # scale down",
        "steps[15].needs",
        "could run before the traffic switch dns-swap (drill and failback modes)",
    ),
    ("bare number duration", "  rpo: 15m", "  rpo: 15", "objectives.rpo", "a duration is text with a unit"),
    (
        "dns before promotion",
        "needs: [target-health]",
        "needs: [approve-failover]",
        "steps[12].needs",
        "DNS could move before the target database is promoted (failover, drill and failback modes)",
    ),
    (
        "secret in playbook",
        "${TEAMS_EXEC_WEBHOOK}",
        "https://outlook.office.com/webhook/abc",
        "notifications.channels.exec-teams.webhook",
        "secrets never live in a playbook",
    ),
    (
        "unknown channel",
        "channels: [ops-slack, exec-teams]\n",
        "channels: [ops-slack, exec-team]\n",
        "steps[10].with.channels[1]",
        "unknown channel 'exec-team'",
    ),
    (
        "unknown placeholder",
        "{rpo_exposure} against {rpo}. Next",
        "{rpo_exposur} against {rpo}. Next",
        "steps[1].with.message",
        "unknown placeholder {rpo_exposur}",
    ),
    (
        "bad record value",
        "api: 20.70.20.20",
        "api: 20.70.20",
        "regions.au-southeast.dns.api",
        "'20.70.20' is not an IP address",
    ),
    ("missing field", "  rpo: 15m\n", "", "objectives.rpo", "missing required field 'rpo'"),
    ("unknown channel type", "type: teams", "type: team", "notifications.channels.exec-teams", "unknown type 'team'"),
    ("unknown region", "  target: au-southeast", "  target: au-south", "direction.target", "unknown region 'au-south'"),
    ("bad change window", 'start: "02:00"', 'start: "2am"', "change_windows[0].start", "HH:MM"),
    (
        "bad time zone",
        "timezone: Australia/Sydney}",
        "timezone: Australia/Sidney}",
        "change_windows[0].timezone",
        "unknown time zone",
    ),
]


LINE_AT = {
    "yaml syntax": "  rto: [1h",
    "duplicate id": "- id: assess-source\n    name: Assess the DR",
    "dns before promotion": "needs: [approve-failover]\n    budget: 2m",
    "unknown placeholder": "      message: >-\n        {drill_marker}{steps_done}",
    "cyclic needs": "needs: [promote-database]",
    "missing field": "  rto: 1h",  # a missing key is placed at the mapping that lacks it
}


@pytest.mark.parametrize(("name", "old", "new", "path", "message"), CASES, ids=[c[0] for c in CASES])
def test_a_broken_playbook_is_refused_with_its_location(
    sample_text: str,
    write_playbook: Callable[[str], Path],
    name: str,
    old: str,
    new: str,
    path: str,
    message: str,
) -> None:
    assert old in sample_text, name
    broken = sample_text.replace(old, new, 1)
    file = write_playbook(broken)
    result = check_file(file)
    assert not result.ok
    errors = [d for d in result.diagnostics if d.severity == "error"]
    matching = [d for d in errors if d.path == path and message in d.message]
    assert matching, [str(d) for d in errors]
    found = matching[0]
    assert found.file == str(file)
    anchor = LINE_AT.get(name) or new.strip().split("\n")[0]
    expected_line = line_of(broken, anchor)
    if name == "yaml syntax":
        expected_line += 1  # the parser notices an unclosed flow sequence on the line after it
    assert found.line == expected_line
    assert str(found).startswith(f"{file}:{found.line}:{found.column}: {path + ': ' if path else ''}")


def test_yaml_syntax_errors_point_at_the_line(write_playbook: Callable[[str], Path]) -> None:
    result = check_file(write_playbook("version: 1\nname: x\nsteps:\n  - id: a\n   uses: wait\n"))
    assert len(result.diagnostics) == 1
    assert result.diagnostics[0].line == 5
    assert "YAML syntax error" in result.diagnostics[0].message


def test_duplicate_yaml_keys_are_refused_not_silently_overwritten(write_playbook: Callable[[str], Path]) -> None:
    result = check_file(write_playbook("version: 1\nname: a\nname: b\n"))
    assert [(d.line, d.message) for d in result.diagnostics] == [(3, "duplicate key 'name': each key may appear once")]


def test_yaml_1_1_surprises_stay_text(sample_text: str, write_playbook: Callable[[str], Path]) -> None:
    # unquoted 02:00 would be the integer 120 in YAML 1.1; here it is the time it looks like
    loaded = load_playbook(write_playbook(sample_text.replace('start: "02:00"', "start: 02:00")))
    assert loaded.playbook.change_windows[0].start == "02:00"


def test_every_problem_is_reported_at_once(sample_text: str, write_playbook: Callable[[str], Path]) -> None:
    broken = (
        sample_text.replace("      ttl: 300\n", "      ttl: fast\n")
        .replace("uses: standby.scale", "uses: standby.scael")
        .replace("needs: [target-health]", "needs: [target-helth]")
        .replace("  rto: 1h", "  rto: soon")
    )
    paths = {d.path for d in check_file(write_playbook(broken)).diagnostics}
    assert {"objectives.rto"} <= paths


def test_one_malformed_step_does_not_hide_problems_in_others(
    sample_text: str, write_playbook: Callable[[str], Path]
) -> None:
    broken = sample_text.replace(
        "budget: 5m\n    retry: {attempts: 2", "budget: soon\n    retry: {attempts: 2"
    ).replace("uses: standby.scale", "uses: standby.scael")
    paths = {d.path for d in check_file(write_playbook(broken)).diagnostics}
    assert paths == {"steps[7].budget", "steps[9].uses"}


def test_a_critical_path_longer_than_the_rto_is_a_warning(
    sample_text: str, write_playbook: Callable[[str], Path]
) -> None:
    result = check_file(write_playbook(sample_text.replace("rto: 1h", "rto: 10m")))
    assert result.ok
    assert [d.severity for d in result.diagnostics] == ["warning"]
    assert "longer than the RTO 10m" in result.diagnostics[0].message


def test_a_guard_that_continues_on_failure_guards_nothing(
    sample_text: str, write_playbook: Callable[[str], Path]
) -> None:
    needs = "    needs: [promote-database, start-web-apps, scale-workers]\n"
    text = sample_text.replace(
        f"{needs}    retry: {{attempts: 5", f"{needs}    on_failure: continue\n    retry: {{attempts: 5"
    )
    messages = [d.message for d in check_file(write_playbook(text)).diagnostics]
    assert any("before the target passes a health check" in m for m in messages), messages


def test_a_guard_left_out_of_a_mode_does_not_count_in_that_mode(
    sample_text: str, write_playbook: Callable[[str], Path]
) -> None:
    text = sample_text.replace("    uses: sql.failover\n", "    uses: sql.failover\n    when: [failover]\n")
    messages = [d.message for d in check_file(write_playbook(text)).diagnostics]
    assert any("promoted (drill and failback modes)" in m for m in messages), messages


def test_a_target_health_check_before_promotion_does_not_count(
    sample_text: str, write_playbook: Callable[[str], Path]
) -> None:
    text = sample_text.replace(
        "    needs: [promote-database, start-web-apps, scale-workers]\n    retry: {attempts: 5",
        "    needs: [start-web-apps]\n    retry: {attempts: 5",
    ).replace("needs: [target-health]", "needs: [target-health, promote-database]")
    messages = [d.message for d in check_file(write_playbook(text)).diagnostics]
    assert any("health check after its database is promoted" in m for m in messages), messages


def test_references_are_checked_in_the_failback_direction_too(
    sample_text: str, write_playbook: Callable[[str], Path]
) -> None:
    # only the source region declares replication_url: failback would have no target URL to read
    text = sample_text.replace("    replication_url: https://api-aus.wallet.example.com/replication\n", "")
    text = text.replace(
        "with: {replication_url_group: fg-wallet}", "with: {replication_url_group: fg-wallet, rpo_evidence: [app]}"
    )
    messages = [d.message for d in check_file(write_playbook(text)).diagnostics]
    assert any("needs replication_url in both regions" in m for m in messages), messages


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "this file is empty"),
        ("- a\n- b\n", "this file is a list"),
        ("version: 2\n", "Input should be 1"),
    ],
)
def test_files_that_are_not_playbooks_are_refused(
    write_playbook: Callable[[str], Path], content: str, message: str
) -> None:
    result = check_file(write_playbook(content))
    assert not result.ok
    assert any(message in d.message for d in result.diagnostics), [str(d) for d in result.diagnostics]


def test_unreadable_files_are_located_errors(tmp_path: Path) -> None:
    assert check_file(tmp_path / "missing.yaml").diagnostics[0].message == "no such file"
    assert "directory" in check_file(tmp_path).diagnostics[0].message
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"name: \xff\xfe\n")
    assert check_file(binary).diagnostics[0].message == "file is not UTF-8 text"


def test_load_playbook_raises_with_every_diagnostic(write_playbook: Callable[[str], Path]) -> None:
    with pytest.raises(PlaybookError) as caught:
        load_playbook(write_playbook("version: 1\n"))
    assert caught.value.exit_code == ExitCode.INVALID_PLAYBOOK
    assert len(caught.value.diagnostics) >= 5
