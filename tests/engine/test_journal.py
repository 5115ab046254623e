"""The journal: hash chain, verify naming the line that breaks it, torn tails, file modes, event round trips."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from drctl.engine import codec
from drctl.engine import events as ev
from drctl.engine.journal import GENESIS, Journal, Recorder, line_hash, read_journal, verify
from drctl.errors import JournalError
from drctl.playbook.secrets import NO_SECRETS
from tests.engine.conftest import Workspace, plan_for, run_plan

AT = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)


def write(path: Path, count: int) -> Journal:
    journal = Journal.create(path)
    recorder = Recorder(journal, NO_SECRETS)
    for n in range(count):
        recorder.emit(ev.StepProgress(at=AT, step="s", text=f"line {n + 1}"))
    return journal


def test_each_line_carries_the_hash_of_the_line_before_and_the_first_hashes_the_genesis(tmp_path: Path) -> None:
    write(tmp_path / "j.jsonl", 3).close()
    raw = (tmp_path / "j.jsonl").read_bytes().splitlines()
    assert json.loads(raw[0])["prev"] == GENESIS
    assert [json.loads(line)["prev"] for line in raw[1:]] == [line_hash(raw[0]), line_hash(raw[1])]
    assert [json.loads(line)["seq"] for line in raw] == [1, 2, 3]
    assert verify(tmp_path / "j.jsonl").ok


def test_verify_names_the_line_an_edit_breaks(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    write(path, 5).close()
    path.write_text(path.read_text().replace("line 3", "line three"))
    verdict = verify(path)
    assert not verdict.ok
    assert verdict.message.startswith("line 4: hash chain broken: 'prev' does not match line 3")


def test_verify_names_the_line_after_a_removed_one(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    write(path, 5).close()
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:2] + lines[3:]))
    assert verify(path).message.startswith("line 3: hash chain broken")


@pytest.mark.parametrize(
    "tail", [b'{"v":1,"seq":4,"ty', b"\x00\x00\x00\x00\n", b"garbage\n"], ids=["cut", "zeros", "junk"]
)
def test_a_torn_or_corrupted_last_line_is_reported_as_torn_and_the_lines_before_it_are_intact(
    tmp_path: Path, tail: bytes
) -> None:
    path = tmp_path / "j.jsonl"
    write(path, 3).close()
    with path.open("ab") as handle:
        handle.write(tail)
    contents = read_journal(path)
    assert contents.torn is not None
    assert contents.torn.line == 4
    assert len(contents.lines) == 3
    verdict = verify(path)
    assert not verdict.ok
    assert verdict.message.startswith("line 4: torn")
    assert "lines 1-3 verify" in verdict.message


def test_a_corrupted_line_before_the_last_is_a_break_not_a_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    write(path, 3).close()
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0] + b"garbage\n" + lines[2])
    assert verify(path).message.startswith("line 2: not a JSON object")


def test_a_failed_write_breaks_the_journal_for_good(tmp_path: Path) -> None:
    calls = {"n": 0}

    def flaky(fd: int, data: memoryview) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        return os.write(fd, data)

    journal = Journal.create(tmp_path / "j.jsonl", write=flaky)
    recorder = Recorder(journal, NO_SECRETS)
    recorder.emit(ev.StepProgress(at=AT, step="s", text="fine"))
    with pytest.raises(JournalError, match="No space left on device"):
        recorder.emit(ev.StepProgress(at=AT, step="s", text="lost"))
    with pytest.raises(JournalError):  # and stays broken: nothing half-recorded goes on
        recorder.emit(ev.StepProgress(at=AT, step="s", text="after"))
    assert calls["n"] == 2


def test_journal_files_are_0600_and_run_directories_0700(ws: Workspace) -> None:
    ran = run_plan(plan_for(ws.playbook("  - {id: a, uses: test.record, with: {file: '{record}'}}\n")), ws)
    journal = ran.result.journal
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    for directory in (ws.state, ws.state / "runs", journal.parent, journal.parent / "approvals"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700


def test_a_state_directory_that_cannot_be_created_stops_the_run_before_anything_runs(ws: Workspace) -> None:
    (ws.root / "not-a-directory").write_text("")
    ws.state = ws.root / "not-a-directory" / "state"
    with pytest.raises(JournalError, match="nothing was run"):
        run_plan(plan_for(ws.playbook("  - {id: a, uses: test.record, with: {file: '{record}'}}\n")), ws)
    assert not os.path.exists(ws.record)


def test_a_read_only_state_directory_stops_the_run_before_anything_runs(ws: Workspace) -> None:
    ws.state.mkdir()
    ws.state.chmod(0o500)
    if os.access(ws.state, os.W_OK):
        pytest.skip("running as a user whom permissions do not stop (root)")
    with pytest.raises(JournalError, match="nothing was run"):
        run_plan(plan_for(ws.playbook("  - {id: a, uses: test.record, with: {file: '{record}'}}\n")), ws)


def sample(cls: type[Any]) -> Any:
    """An instance of an event (or nested) class with every field filled."""
    import typing

    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        base = args[0] if typing.get_origin(hint) in (typing.Union, __import__("types").UnionType) else hint
        values[f.name] = _value(base)
    return cls(**values)


def _value(hint: Any) -> Any:
    import typing
    from enum import StrEnum

    origin = typing.get_origin(hint)
    if hint is datetime:
        return AT
    if hint is str:
        return "text"
    if hint is int:
        return 3
    if hint is float:
        return 1.5
    if hint is bool:
        return True
    if origin is tuple:
        return (_value(typing.get_args(hint)[0]),)
    if origin is dict:
        return {"k": [1, "v"]}
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return next(iter(hint))
    if dataclasses.is_dataclass(hint):
        return sample(hint)
    raise AssertionError(hint)


@pytest.mark.parametrize("kind", sorted(ev.event_types()))
def test_every_event_type_survives_the_journal_round_trip(kind: str) -> None:
    event = sample(ev.event_types()[kind])
    data = json.loads(json.dumps(codec.to_data(event)))
    assert data["type"] == kind
    assert codec.from_data(data) == event


def test_concurrent_writers_share_fsyncs_and_none_returns_before_its_own_line_is_durable(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    synced: list[int] = []  # the file's size at each fsync

    def fsync(fd: int) -> None:
        os.fsync(fd)
        synced.append(os.fstat(fd).st_size)

    recorder = Recorder(Journal.create(path, fsync=fsync), NO_SECRETS)
    start = threading.Barrier(40)
    late: list[int] = []

    def writer(n: int) -> None:
        start.wait()
        record = recorder.emit(ev.StepProgress(at=AT, step="s", text=f"writer {n}"))
        end_of_line = sum(len(line) + 1 for line in path.read_bytes().splitlines()[: record.seq])
        if not synced or synced[-1] < end_of_line:
            late.append(record.seq)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert late == []
    assert verify(path).ok
    assert verify(path).lines == 40
    assert len(synced) < 40  # some fsyncs covered several lines
