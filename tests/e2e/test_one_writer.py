"""One writer per application: the same playbook run from two working directories on one machine gives one run and
one refusal (the lock used to live in each directory's ./.drctl, and both runs failed the application over)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from drctl.errors import ExitCode
from tests.e2e.conftest import Rehearsal, wait_for

pytestmark = pytest.mark.slow


def _journal(workdir: Path) -> list[dict[str, object]]:
    return _journal_in(workdir / ".drctl")


def test_two_directories_one_run_and_one_refusal(rehearsal: Rehearsal, tmp_path: Path) -> None:
    r = rehearsal
    first_dir, second_dir = r.workdir, tmp_path / "second-checkout"
    second_dir.mkdir()
    # the first run waits at the approval gate (no --yes, no terminal), holding the lock all the while
    first = r.start("failover", str(r.playbook))
    try:
        wait_for(lambda: any(e["type"] == "approval.requested" for e in _journal(first_dir)), what="the gate")
        r.workdir = second_dir
        second = r.failover("--yes")
        assert second.returncode == ExitCode.LOCKED, second.stderr[-3000:]
        holder = next(e for e in _journal(first_dir) if e["type"] == "run.started")
        assert f"run {holder['run_id']}" in second.stderr
        assert "since " in second.stderr
        assert "pid " in second.stderr
        assert not _journal(second_dir)

        r.workdir = first_dir
        answered = r.drctl("approve", holder["run_id"], "approve-failover", "--reason", "IC approves")
        assert answered.returncode == 0, answered.stderr
        _, err = first.communicate(timeout=180)
        assert first.returncode == ExitCode.OK, err[-3000:]
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    failovers = [m for m in r.mutations() if m["method"] == "POST" and "/failoverGroups/" in m["path"]]
    assert len(failovers) == 1, failovers
    starts = [m for m in r.mutations() if m["method"] == "POST" and m["path"].endswith("/start")]
    assert len(starts) == 2  # the two target web apps, once each


def test_a_second_run_is_refused_while_the_first_is_anywhere_on_the_machine(rehearsal: Rehearsal) -> None:
    """Across state directories given explicitly too ($DRCTL_STATE_DIR differs, the lock does not)."""
    r = rehearsal
    first = r.start("failover", str(r.playbook), DRCTL_STATE_DIR=str(r.workdir / "state-a"))
    try:
        wait_for(
            lambda: any(e["type"] == "approval.requested" for e in _journal_in(r.workdir / "state-a")),
            what="the gate",
        )
        started = time.monotonic()
        second = r.failover("--yes", DRCTL_STATE_DIR=str(r.workdir / "state-b"))
        assert second.returncode == ExitCode.LOCKED
        assert time.monotonic() - started < 60
        assert "--state-dir" in second.stderr  # where to follow the holder
        assert "state-a" in second.stderr
    finally:
        first.kill()
        first.wait()


def _journal_in(state: Path) -> list[dict[str, object]]:
    paths = list((state / "runs").glob("*/journal.jsonl"))
    if not paths:
        return []
    return [json.loads(line) for line in paths[0].read_text().splitlines() if line.strip()]
