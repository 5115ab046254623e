"""kill -9 a real `drctl failover` at every journal boundary and in the middle of steps, then `drctl resume`:
the run completes, no step's change is made twice, nothing is repeated without its done-check, and
`drctl runs verify` passes."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from drctl.errors import ExitCode
from tests.cli.run_helpers import Sandbox, assert_never_repeated_blindly, wait_for

pytestmark = pytest.mark.slow

# a (mutating) -> b (mutating) and c in parallel -> d (mutating) -> e
STEPS = """\
  - {id: a, uses: test.record, with: {file: '{record}', mutating: true}}
  - {id: b, uses: test.record, needs: [a], with: {file: '{record}', mutating: true}}
  - {id: c, uses: test.record, needs: [a], with: {file: '{record}'}}
  - {id: d, uses: test.record, needs: [b, c], with: {file: '{record}', mutating: true}}
  - {id: e, uses: test.record, needs: [d], with: {file: '{record}'}}
"""
ALL = ["a", "b", "c", "d", "e"]
#: run.started, a started/succeeded, b and c started/succeeded, d and e started/succeeded, run.finished
LINES = 12


def resume_and_check(box: Sandbox, run_id: str) -> None:
    resumed = box.drctl("resume", run_id)
    assert resumed.returncode == ExitCode.OK, resumed.stdout + resumed.stderr
    assert_never_repeated_blindly(box.entries(), ALL)
    verified = box.drctl("runs", "verify", run_id)
    assert verified.returncode == 0, verified.stdout
    assert "hash chain intact" in verified.stdout
    journal = box.journal(run_id)
    assert journal[-1]["type"] == "run.finished"
    assert journal[-1]["ending"] == "succeeded"
    assert [e["type"] for e in journal].count("run.started") == 1  # one run, one chain, resumed in place


@pytest.mark.parametrize("line", range(1, LINES))
def test_a_run_killed_right_after_any_journal_line_resumes_without_repeating_a_change(
    tmp_path: Path, line: int
) -> None:
    box = Sandbox(tmp_path)
    box.write(STEPS)
    killed = box.drctl("failover", str(box.playbook), DRCTL_TEST_KILL_AFTER_LINE=str(line))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (run_id,) = box.run_ids()
    assert len(box.journal(run_id)) == line
    resume_and_check(box, run_id)


def kill_when(box: Sandbox, process: subprocess.Popen[str], event: str, step: str) -> None:
    wait_for(lambda: any(e["event"] == event and e["step"] == step for e in box.entries()))
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)


def test_a_run_killed_in_the_middle_of_a_mutating_step_checks_it_then_runs_it_again(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.write(
        STEPS.replace(
            "{file: '{record}', mutating: true}}\n  - {id: c",
            "{file: '{record}', mutating: true, sleep: 30s, slow_attempts: 1}}\n  - {id: c",
        )
    )
    process = box.start("failover", str(box.playbook))
    kill_when(box, process, "run", "b")  # b is sleeping: its change is not made
    (run_id,) = box.run_ids()
    resume_and_check(box, run_id)
    b = [(e["event"], e["attempt"]) for e in box.entries() if e["step"] == "b"]
    assert b == [("run", 1), ("check", 1), ("run", 2), ("done", 2)]


def test_a_run_killed_after_a_change_but_before_journaling_it_never_makes_the_change_twice(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.write(
        STEPS.replace(
            "{file: '{record}', mutating: true}}\n  - {id: c",
            "{file: '{record}', mutating: true, hold: 30s}}\n  - {id: c",
        )
    )
    process = box.start("failover", str(box.playbook))
    kill_when(box, process, "done", "b")  # b's change is made; its success is not journaled yet
    (run_id,) = box.run_ids()
    assert "step.succeeded" not in [e["type"] for e in box.journal(run_id) if e.get("step") == "b"]
    resume_and_check(box, run_id)
    b = [(e["event"], e["attempt"]) for e in box.entries() if e["step"] == "b"]
    assert b == [("run", 1), ("done", 1), ("check", 1)]  # checked, found done, not run again
    journal = box.journal(run_id)
    # c may have been in flight too and is checked on its own line: look at b's
    assert {"type": "step.checked", "step": "b", "done": True}.items() <= next(
        e for e in journal if e["type"] == "step.checked" and e.get("step") == "b"
    ).items()


def test_an_unchecked_mutating_step_killed_mid_way_is_not_rerun_until_the_operator_says_so(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.write(
        "  - {id: a, uses: test.record_unchecked,"
        " with: {file: '{record}', mutating: true, sleep: 30s, slow_attempts: 1}}\n"
        "  - {id: b, uses: test.record, with: {file: '{record}'}}\n"
    )
    process = box.start("failover", str(box.playbook))
    kill_when(box, process, "run", "a")
    (run_id,) = box.run_ids()
    refused = box.drctl("resume", run_id)
    assert refused.returncode == ExitCode.NOT_FOUND
    assert "will not repeat a mutation blindly" in refused.stderr
    assert f"drctl resume {run_id} --rerun-unchecked a" in refused.stderr
    accepted = box.drctl("resume", run_id, "--rerun-unchecked", "a")
    assert accepted.returncode == ExitCode.OK, accepted.stderr
    assert [e["event"] for e in box.entries() if e["step"] == "a"] == ["run", "run", "done"]
