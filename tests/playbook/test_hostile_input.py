"""Input that could hurt: every case ends in a located error naming its limit, quickly, never a hang or a traceback."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from drctl.durations import MAX_SECONDS, parse_duration
from drctl.errors import ExitCode
from drctl.planning.load import MAX_BYTES, check_file
from drctl.playbook.yamlpos import MAX_ALIASED_VALUES, MAX_DEPTH
from tests.conftest import drctl_command

WritePlaybook = Callable[..., Path]


def messages(path: Path | str) -> list[str]:
    return [f"{d.line}:{d.column}: {d.path}: {d.message}" for d in check_file(path).diagnostics]


def test_an_alias_bomb_is_refused_before_it_expands(write_playbook: WritePlaybook) -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    path = write_playbook("\n".join(lines) + "\n")
    start = time.perf_counter()
    found = messages(path)
    assert time.perf_counter() - start < 5  # 9**9 values expanded would take minutes and gigabytes
    assert len(found) == 1
    assert f"more than {MAX_ALIASED_VALUES} values" in found[0]
    assert "alias bomb" in found[0]


def test_anchors_reused_for_defaults_still_work(sample_text: str, write_playbook: WritePlaybook) -> None:
    text = sample_text.replace("    retry: 3\n", "    retry: &retry {attempts: 3, backoff: 1s}\n", 1)
    text = text.replace("    retry: 3\n", "    retry: *retry\n", 1)
    assert "*retry" in text
    result = check_file(write_playbook(text))
    assert result.ok, [str(d) for d in result.diagnostics]


def test_nesting_deeper_than_a_playbook_is_refused_with_its_place(write_playbook: WritePlaybook) -> None:
    text = "".join("  " * i + "k:\n" for i in range(200)) + "  " * 200 + "k: 1\n"
    found = messages(write_playbook(text))
    where = f"{MAX_DEPTH + 2}:{2 * (MAX_DEPTH + 1) + 1}"
    assert found == [f"{where}: : values nest deeper than {MAX_DEPTH} levels: not a playbook"]


def test_a_device_is_refused_without_reading_it() -> None:
    start = time.perf_counter()
    found = messages("/dev/zero")
    assert time.perf_counter() - start < 2
    assert found == ["1:1: : is a device or special file, not a regular file: a playbook is read from a file"]


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "playbook.yaml"
    os.mkfifo(fifo)
    result = subprocess.run(
        drctl_command("validate", str(fifo)), check=False, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == ExitCode.INVALID_PLAYBOOK
    assert f"{fifo}:1:1: is a FIFO, not a regular file" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:
        f.truncate(MAX_BYTES + 1)  # sparse: the size alone must refuse it
    assert messages(big) == [f"1:1: : file is {MAX_BYTES + 1} bytes; a playbook is at most {MAX_BYTES}"]


def test_an_unclosed_bracket_names_where_it_was_opened(write_playbook: WritePlaybook) -> None:
    path = write_playbook("version: 1\nname: x\nsteps: [a, b\nobjectives: {}\n")
    (found,) = messages(path)
    assert found.startswith("4:11: : YAML syntax error: did not find expected ',' or ']'")
    assert found.endswith("started at line 3 column 8")


@pytest.mark.parametrize("text", ["99999999h", "31d", "9" * 400 + "h"])
def test_durations_beyond_what_a_run_can_schedule_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"a duration|longer than the 30d"):
        parse_duration(text)


def test_the_longest_duration_is_still_accepted() -> None:
    assert parse_duration("30d").total_seconds() == MAX_SECONDS


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    budget: 5m\n", "    budget: 99999999h\n", "budget: 99999999h is longer than the 30d a run can schedule"),
        ("    timeout: 20m\n", "    timeout: 0s\n", "timeout: must be longer than 0s"),
    ],
    ids=["huge budget", "zero timeout"],
)
def test_durations_a_run_cannot_honour_fail_validation_at_their_line(
    sample_text: str, write_playbook: WritePlaybook, old: str, new: str, expected: str
) -> None:
    assert old in sample_text
    text = sample_text.replace(old, new, 1)
    path = write_playbook(text)
    line = text[: text.index(new)].count("\n") + 1
    found = messages(path)
    assert len(found) == 1, found
    assert found[0].startswith(f"{line}:")
    assert expected in found[0]


def test_a_huge_budget_never_reaches_a_run(sample_text: str, write_playbook: WritePlaybook) -> None:
    path = write_playbook(sample_text.replace("    budget: 5m\n", "    budget: 99999999h\n", 1))
    result = subprocess.run(
        drctl_command("failover", str(path), "--yes"),
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=path.parent,
    )
    assert result.returncode == ExitCode.INVALID_PLAYBOOK, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert not (path.parent / ".drctl").exists()  # refused before a journal was created
