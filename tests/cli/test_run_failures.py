"""Real processes meeting real trouble: a journal that cannot be written, a second run of one playbook, a stale
lock, a torn journal line."""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from drctl.errors import ExitCode
from tests.cli.run_helpers import Sandbox, assert_never_repeated_blindly, wait_for
from tests.conftest import drctl_command

pytestmark = pytest.mark.slow

SIX = "".join(f"  - {{id: s{i}, uses: test.record, with: {{file: '{{record}}', mutating: true}}}}\n" for i in range(6))


def test_a_full_disk_stops_the_run_with_exit_7_and_nothing_further_runs(tmp_path: Path) -> None:
    # measure where line 6 of the journal starts, then let a file size limit cut the journal there
    probe = Sandbox(tmp_path / "probe")
    probe.root.mkdir()
    probe.write(SIX)
    assert probe.drctl("failover", str(probe.playbook)).returncode == 0
    (probe_run,) = probe.run_ids()
    lines = (probe.state / "runs" / probe_run / "journal.jsonl").read_bytes().splitlines(keepends=True)
    limit = sum(len(line) for line in lines[:5]) + 40  # line 6 is written in part, then EFBIG

    box = Sandbox(tmp_path / "full")
    box.root.mkdir()
    box.write(SIX)

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process

    result = subprocess.run(
        drctl_command("failover", str(box.playbook)),
        capture_output=True,
        text=True,
        cwd=box.root,
        env=box.env(PYTHONDONTWRITEBYTECODE="1"),
        preexec_fn=small_disk,
        timeout=60,
        check=False,
    )
    assert result.returncode == ExitCode.JOURNAL, result.stderr
    assert "cannot write the journal" in result.stderr
    assert "File too large" in result.stderr
    (run_id,) = box.run_ids()
    journal = box.state / "runs" / run_id / "journal.jsonl"
    intact = [json.loads(line) for line in journal.read_bytes().splitlines()[:5]]
    started = {e["step"] for e in intact if e["type"] == "step.started"}
    called = {e["step"] for e in box.entries() if e["event"] == "run"}
    assert called <= started  # no action ran whose start is not in the journal
    assert len(called) < 6
    verdict = box.drctl("runs", "verify", run_id)
    assert verdict.returncode == ExitCode.JOURNAL
    assert "line 6: torn" in verdict.stdout  # the half-written line, reported precisely
    resumed = box.drctl("resume", run_id)
    assert resumed.returncode == 0, resumed.stderr
    assert "cut off torn line 6" in resumed.stdout
    assert_never_repeated_blindly(box.entries(), [f"s{i}" for i in range(6)])
    assert box.drctl("runs", "verify", run_id).returncode == 0


def test_an_unusable_state_directory_exits_7_before_anything_runs(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.write(SIX)
    (tmp_path / "file").write_text("")
    result = box.drctl("failover", str(box.playbook), "--state-dir", str(tmp_path / "file" / "state"))
    assert result.returncode == ExitCode.JOURNAL
    assert "nothing was run" in result.stderr
    assert box.entries() == []


SLOW_FIRST = "  - {id: slow, uses: test.record, with: {file: '{record}', sleep: 60s}}\n"


def test_a_second_run_of_a_playbook_refuses_naming_the_first_and_a_dead_runs_lock_is_taken_over(
    tmp_path: Path,
) -> None:
    box = Sandbox(tmp_path)
    box.write(SLOW_FIRST)
    first = box.start("failover", str(box.playbook))
    try:
        wait_for(lambda: any(e["event"] == "run" for e in box.entries()))
        (first_run,) = box.run_ids()
        second = box.drctl("failover", str(box.playbook))
        assert second.returncode == ExitCode.LOCKED
        assert f"run {first_run} (pid {first.pid} on {socket.gethostname()}" in second.stderr
        assert len(box.run_ids()) == 1  # the refused run left no trace
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    box.write("  - {id: quick, uses: test.record, with: {file: '{record}'}}\n")  # same playbook name
    third = box.drctl("failover", str(box.playbook))
    assert third.returncode == 0, third.stderr
    run_id = next(r for r in box.run_ids() if r != first_run)
    taken = [e for e in box.journal(run_id) if e["type"] == "lock.taken_over"]
    assert taken[0]["previous"]["run_id"] == first_run
    assert taken[0]["previous"]["pid"] == first.pid
    assert "took over a stale lock" in third.stdout


def test_a_torn_last_line_is_reported_by_verify_and_cut_off_by_resume_without_losing_earlier_events(
    tmp_path: Path,
) -> None:
    box = Sandbox(tmp_path)
    box.write(SIX)
    killed = box.drctl("failover", str(box.playbook), DRCTL_TEST_KILL_AFTER_LINE="7")
    assert killed.returncode == -signal.SIGKILL
    (run_id,) = box.run_ids()
    journal = box.state / "runs" / run_id / "journal.jsonl"
    before = journal.read_bytes()
    journal.write_bytes(before + b'{"v":1,"seq":8,"type":"step.succ')
    verdict = box.drctl("runs", "verify", run_id)
    assert verdict.returncode == ExitCode.JOURNAL
    assert "line 8: torn (32 bytes" in verdict.stdout
    assert "lines 1-7 verify" in verdict.stdout
    status = box.drctl("status", run_id)
    assert "line 8 is torn" in status.stdout
    resumed = box.drctl("resume", run_id)
    assert resumed.returncode == 0, resumed.stderr
    assert "cut off torn line 8 (32 bytes" in resumed.stdout
    assert journal.read_bytes().startswith(before)  # every intact line kept as it was
    assert box.drctl("runs", "verify", run_id).returncode == 0
    assert_never_repeated_blindly(box.entries(), [f"s{i}" for i in range(6)])
