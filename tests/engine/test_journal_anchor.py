"""The journal's head, anchored outside the journal: cutting the end off or editing the last line is detected by
`runs verify`, `status` and `runs` show such a run as broken (never resumable, never succeeded), and resume refuses
it. Before the anchor, all of these verified as intact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drctl.engine import events as ev
from drctl.engine.anchor import head_path
from drctl.engine.history import Liveness, load_run, summaries
from drctl.engine.journal import Journal, Recorder, read_journal, verify
from drctl.engine.paths import StateDir
from drctl.errors import JournalError
from drctl.playbook.secrets import NO_SECRETS
from tests.engine.conftest import Ran, Workspace, plan_for, resume_run_in, run_plan
from tests.engine.test_journal import AT, write

STEPS = """\
  - {id: a, uses: test.record, with: {file: '{record}'}}
  - {id: b, uses: test.record, with: {file: '{record}'}}
"""


def finished_run(ws: Workspace) -> Ran:
    ran = run_plan(plan_for(ws.playbook(STEPS)), ws)
    assert ran.exit_code == 0
    assert verify(ran.result.journal).ok
    return ran


def drop_last_lines(path: Path, count: int) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-count]))


def edit_last_line(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    last = json.loads(lines[-1])
    assert last["type"] == "run.finished"
    last["failed_steps"] = []
    last["exit_code"] = 0
    last["ending"] = "succeeded"
    last["breached"] = []
    last["rto_achieved_seconds"] = 1.0  # the figure someone would like the auditor to read
    lines[-1] = json.dumps(last, separators=(",", ":")).encode() + b"\n"
    path.write_bytes(b"".join(lines))


def test_every_group_commit_anchors_the_head_beside_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    write(path, 4).close()
    head = json.loads(head_path(path).read_text())
    lines = path.read_bytes().splitlines()
    from drctl.engine.journal import line_hash

    assert head == {"v": 1, "lines": 4, "sha256": line_hash(lines[-1])}
    assert verify(path).message == "4 lines, hash chain intact, head anchored"


@pytest.mark.parametrize("count", [1, 3])
def test_removing_the_last_lines_is_detected(ws: Workspace, count: int) -> None:
    ran = finished_run(ws)
    path = ran.result.journal
    total = len(path.read_bytes().splitlines())
    drop_last_lines(path, count)
    verdict = verify(path)
    assert not verdict.ok
    assert f"ends at line {total - count} but its anchored head says {total} lines" in verdict.message


def test_editing_the_last_line_is_detected(ws: Workspace) -> None:
    ran = finished_run(ws)
    path = ran.result.journal
    total = len(path.read_bytes().splitlines())
    edit_last_line(path)
    verdict = verify(path)
    assert not verdict.ok
    assert verdict.message.startswith(f"line {total}: line {total} does not match the head anchored outside")


def test_a_removed_head_is_not_intact(ws: Workspace) -> None:
    ran = finished_run(ws)
    head_path(ran.result.journal).unlink()
    verdict = verify(ran.result.journal)
    assert not verdict.ok
    assert "head record beside the journal is missing" in verdict.message


def test_lines_written_after_the_last_anchor_are_a_crash_and_verify(tmp_path: Path) -> None:
    """A kill between the journal's fsync and the head's replacement leaves the head one commit behind."""
    path = tmp_path / "j.jsonl"
    write(path, 3).close()
    saved = head_path(path).read_bytes()
    journal = Journal.reopen(read_journal(path))
    Recorder(journal, NO_SECRETS).emit(ev.StepProgress(at=AT, step="s", text="line 4"))
    journal.close()
    head_path(path).write_bytes(saved)
    verdict = verify(path)
    assert verdict.ok
    assert "head anchored at line 3" in verdict.message


def test_status_and_runs_show_an_edited_run_as_broken_never_succeeded(ws: Workspace) -> None:
    ran = finished_run(ws)
    edit_last_line(ran.result.journal)
    state = StateDir(ws.state)
    loaded = load_run(state, ran.result.run_id)
    assert loaded.liveness is Liveness.BROKEN
    assert loaded.state_label.startswith("BROKEN journal")
    (summary,) = summaries(state)
    assert "succeeded" not in summary.state

    from drctl.cli.runs_view import render_runs
    from drctl.cli.status_view import next_action

    row = render_runs(state).splitlines()[1]
    assert "BROKEN journal" in row
    assert "succeeded" not in row
    assert "resume" not in next_action(loaded).split(";")[0]


def test_a_chain_broken_mid_journal_is_not_advised_for_resume(ws: Workspace) -> None:
    ran = finished_run(ws)
    path = ran.result.journal
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:2] + lines[3:5]))  # a crash-like end, but line 3 is gone
    loaded = load_run(StateDir(ws.state), ran.result.run_id)
    assert loaded.liveness is Liveness.BROKEN

    from drctl.cli.status_view import next_action

    advice = next_action(loaded)
    assert "drctl resume" not in advice
    assert "does not verify" in advice


def test_resume_refuses_a_journal_cut_short(ws: Workspace) -> None:
    ran = run_plan(plan_for(ws.playbook(STEPS)), ws)
    path = ran.result.journal
    drop_last_lines(path, 3)  # looks like a crash mid-run, but the head says otherwise
    with pytest.raises(JournalError):
        resume_run_in(ws, ran.result.run_id)


def test_a_head_that_cannot_be_written_leaves_no_stand_in_beside_the_journal(tmp_path: Path) -> None:
    """A full disk or a blocked rename fails the write; each failed attempt used to leave a ``.head.<pid>.tmp``."""
    from drctl.engine.anchor import Anchor, write_anchor

    journal = tmp_path / "journal.jsonl"
    journal.write_bytes(b"{}\n")
    head_path(journal).mkdir()  # the rename onto it fails, as an unwritable head would
    with pytest.raises(IsADirectoryError):
        write_anchor(journal, Anchor(1, "0" * 64), 0o600)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["journal.jsonl", "journal.jsonl.head"]
