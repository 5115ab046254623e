"""validate reports every problem it can find in one pass: a schema error does not hide the checks behind it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from drctl.planning.load import check_file

WritePlaybook = Callable[..., Path]


def _break(text: str, *edits: tuple[str, str]) -> str:
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def located(text: str, path: Path) -> list[tuple[int, str, str]]:
    return [(d.line, d.path, d.message) for d in check_file(path).diagnostics]


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_schema_reference_and_safety_errors_are_reported_together(
    sample_text: str, write_playbook: WritePlaybook
) -> None:
    text = _break(
        sample_text,
        ("  rto: 1h\n", "  rto: fast\n"),  # a section no step reads
        (
            "    timeout: 20m\n    budget: 5m\n    retry: {attempts: 2",
            "    timeout: soon\n    budget: 5m\n    retry: {attempts: 2",
        ),
        ("${{ target.health_url }}", "${{ target.helth_url }}"),  # a reference
        ("    needs: [target-health]\n    budget: 2m", "    needs: []\n    budget: 2m"),  # safety rule 1
    )
    found = located(text, write_playbook(text))
    paths = [p for _, p, _ in found]
    assert paths[:3] == ["objectives.rto", "steps[7].timeout", "steps[11].with.url"]
    assert paths[3:] == ["steps[12].needs", "steps[12].needs"]
    assert "before the target database is promoted" in found[3][2]
    assert found[0][0] == line_of(text, "  rto: fast")
    assert found[1][0] == line_of(text, "timeout: soon")


def test_a_malformed_guard_still_counts_as_a_guard(sample_text: str, write_playbook: WritePlaybook) -> None:
    # promote-database's timeout is unreadable, but it is still the sql.failover DNS waits for: no safety noise
    text = _break(
        sample_text,
        (
            "    timeout: 20m\n    budget: 5m\n    retry: {attempts: 2",
            "    timeout: soon\n    budget: 5m\n    retry: {attempts: 2",
        ),
    )
    assert [p for _, p, _ in located(text, write_playbook(text))] == ["steps[7].timeout"]


def test_a_guard_with_unreadable_parameters_is_given_the_benefit_of_the_doubt(
    sample_text: str, write_playbook: WritePlaybook
) -> None:
    # the target health check's URL does not resolve: whatever it was meant to be, rule 1 is not reported
    text = _break(sample_text, ("${{ target.health_url }}", "${{ target.helth_url }}"))
    assert [p for _, p, _ in located(text, write_playbook(text))] == ["steps[11].with.url"]


def test_an_unreadable_estate_stops_before_checks_that_read_it(sample_text: str, write_playbook: WritePlaybook) -> None:
    # every step resolves references against the regions: checking them against a guess would only mislead
    text = _break(
        sample_text, ("  rto: 1h\n", "  rto: fast\n"), ("    location: australiaeast\n", "    location: [1]\n")
    )
    paths = [p for _, p, _ in located(text, write_playbook(text))]
    assert paths == ["objectives.rto", "regions.au-east.location"]
