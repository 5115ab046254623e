from __future__ import annotations

from datetime import timedelta

import pytest

from drctl.durations import format_duration, parse_duration
from drctl.playbook.refs import ReferenceError_, env_names, expand_env, parse_reference, resolve


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("200ms", 0.2), ("1d", 86400), (" 2m 30s ", 150)],
)
def test_durations_read_as_authors_write_them(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "30", "5 minutes", "1x", "m5", "1h-5m", "h"])
def test_durations_without_a_unit_or_unreadable_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"), [(3600, "1h"), (3900, "1h05m"), (90, "1m30s"), (0.25, "250ms"), (0, "0s"), (-60, "-1m")]
)
def test_durations_format_compactly(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_a_whole_value_reference_keeps_its_type_and_text_interpolates() -> None:
    scope = {"source": {"web_apps": ["a", "b"], "sql": {"server": "s1"}}, "target": {"name": "t"}}
    assert resolve("${{ source.web_apps }}", scope) == ["a", "b"]
    assert resolve("server ${{source.sql.server}} in ${{ target.name }}", scope) == "server s1 in t"
    assert resolve({"x": ["${{ source.web_apps[1] }}"]}, scope) == {"x": ["b"]}


def test_a_reference_names_the_missing_part() -> None:
    with pytest.raises(ReferenceError_, match=r"'source\.sql' has no 'name'"):
        resolve("${{ source.sql.name }}", {"source": {"sql": {"server": "s"}}})
    with pytest.raises(ReferenceError_, match="must start with one of"):
        parse_reference("region.name")


def test_a_list_cannot_sit_inside_text() -> None:
    with pytest.raises(ReferenceError_, match="cannot sit inside text"):
        resolve("apps: ${{ source.apps }}", {"source": {"apps": ["a"]}})


def test_environment_references_are_found_expanded_and_reported_as_secrets() -> None:
    seen: list[str] = []
    value = {"url": "${HOOK}", "list": ["x-${TOKEN}"]}
    assert env_names(value) == {"HOOK", "TOKEN"}
    assert expand_env(value, {"HOOK": "https://h", "TOKEN": "t0k"}, seen.append) == {
        "url": "https://h",
        "list": ["x-t0k"],
    }
    assert sorted(seen) == ["https://h", "t0k"]
    with pytest.raises(KeyError, match="HOOK"):
        expand_env(value, {})
