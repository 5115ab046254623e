"""The run commands as operators use them: exit codes, approving from another terminal, jsonl output, status
and runs, Ctrl-C and SIGTERM, and the prompt at a real terminal (a pty)."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drctl.errors import ExitCode
from tests.cli.run_helpers import Sandbox, wait_for
from tests.conftest import ROOT, drctl_command

pytestmark = pytest.mark.slow

OK = (
    "  - {id: a, uses: test.record, with: {file: '{record}'}}\n"
    "  - {id: b, uses: test.record, with: {file: '{record}'}}\n"
)


def journal_types(box: Sandbox, run_id: str) -> list[str]:
    return [e["type"] for e in box.journal(run_id)]


def test_a_successful_failover_prints_timestamped_lines_and_exits_0(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.write(OK)
    result = box.drctl("failover", str(box.playbook))
    assert result.returncode == 0, result.stderr
    (run_id,) = box.run_ids()
    assert f"run {run_id}: failover of kill-test, east -> west" in result.stdout
    assert "a: succeeded in" in result.stdout
    assert "run PASSED (exit 0)" in result.stdout
    assert f"journal: {box.state}/runs/{run_id}/journal.jsonl" in result.stderr


@pytest.mark.parametrize(
    ("steps", "args", "code"),
    [
        ("  - {id: a, uses: test.record, with: {file: '{record}', fail: true}}\n", [], ExitCode.STEP_FAILED),
        (
            "  - {id: a, uses: test.record, on_failure: pause, with: {file: '{record}', fail: true}}\n",
            [],
            ExitCode.PAUSED,
        ),
        (OK, ["--declared-at", (datetime.now(UTC) - timedelta(hours=2)).isoformat()], ExitCode.OBJECTIVE_BREACHED),
        (OK, ["--declared-at", (datetime.now(UTC) + timedelta(hours=2)).isoformat()], ExitCode.USAGE),
        (OK, ["--declared-at", "2026-03-03T02:00:00"], ExitCode.USAGE),
        ("  - {id: a, uses: test.record, with: {file: '{record}', say: '${NOT_SET}'}}\n", [], ExitCode.USAGE),
        ("  - {id: a, uses: test.recrod, with: {file: x}}\n", [], ExitCode.INVALID_PLAYBOOK),
    ],
    ids=[
        "step-failed",
        "paused",
        "rto-breached",
        "declared-in-future",
        "declared-without-zone",
        "missing-env",
        "invalid",
    ],
)
def test_exit_codes(tmp_path: Path, steps: str, args: list[str], code: ExitCode) -> None:
    box = Sandbox(tmp_path)
    box.write(steps)
    result = box.drctl("failover", str(box.playbook), *args)
    assert result.returncode == code, result.stdout + result.stderr
    if code in (ExitCode.USAGE, ExitCode.INVALID_PLAYBOOK):
        assert box.run_ids() == []
        assert box.entries() == []


def test_test_actions_exist_only_when_enabled(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.write(OK)
    assert box.drctl("validate", str(box.playbook)).returncode == 0
    plain = subprocess.run(
        drctl_command("validate", str(box.playbook)),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "DRCTL_ENABLE_TEST_ACTIONS"},
        check=False,
    )
    assert plain.returncode == ExitCode.INVALID_PLAYBOOK
    assert "unknown action 'test.record'" in plain.stdout


def test_not_found_runs_exit_9(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    assert box.drctl("status").returncode == ExitCode.NOT_FOUND
    assert box.drctl("resume", "20990101T000000Z-0000").returncode == ExitCode.NOT_FOUND
    assert box.drctl("runs", "verify", "nope").returncode == ExitCode.NOT_FOUND


GATE = (
    "  - {id: gate, uses: gate.approval, timeout: 2m, with: {message: 'Fail over?', require_reason: true}}\n"
    "  - {id: after, uses: test.record, with: {file: '{record}'}}\n"
)


def start_waiting_for_approval(box: Sandbox) -> tuple[subprocess.Popen[str], str]:
    box.write(GATE)
    process = box.start("failover", str(box.playbook))
    wait_for(lambda: bool(box.run_ids()) and "approval.requested" in journal_types(box, box.run_ids()[0]))
    return process, box.run_ids()[0]


def test_without_a_terminal_the_gate_waits_for_drctl_approve_from_another_terminal(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    process, run_id = start_waiting_for_approval(box)
    status = box.drctl("status")
    assert f'drctl approve {run_id} gate --reason "..."' in status.stdout  # what to do next
    no_reason = box.drctl("approve", run_id, "gate")
    assert no_reason.returncode == ExitCode.USAGE
    assert "requires a reason" in no_reason.stderr
    answer = box.drctl("approve", run_id, "gate", "--reason", "IC approved on the bridge")
    assert answer.returncode == 0, answer.stderr
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert f"drctl approve {run_id} gate" in out  # the run said how
    granted = next(e for e in box.journal(run_id) if e["type"] == "approval.granted")
    assert granted["via"] == "file"
    assert granted["reason"] == "IC approved on the bridge"
    assert granted["approver"]["os_user"]


def test_a_rejection_from_another_terminal_aborts_the_run_with_exit_5(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    process, run_id = start_waiting_for_approval(box)
    assert box.drctl("approve", run_id, "gate", "--reject", "--reason", "primary is back").returncode == 0
    process.communicate(timeout=30)
    assert process.returncode == ExitCode.ABORTED
    assert box.entries() == []


def test_jsonl_output_streams_the_journal_lines_redacted(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.write("  - {id: a, uses: test.record, with: {file: '{record}', say: 'key ${API_KEY}'}}\n")
    result = box.drctl("failover", str(box.playbook), "--output", "jsonl", API_KEY="k3y-v4lue-123")
    assert result.returncode == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["type"] == "run.started"
    assert lines[-1]["type"] == "run.finished"
    (run_id,) = box.run_ids()
    assert result.stdout == (box.state / "runs" / run_id / "journal.jsonl").read_text()
    assert "k3y-v4lue-123" not in result.stdout + result.stderr
    assert "[redacted:API_KEY]" in result.stdout


def test_status_and_runs_read_the_journals(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.write(
        "  - {id: a, uses: test.record, on_failure: pause, with: {file: '{record}', fail: true}}\n"
        + OK.replace("id: a", "id: c")
    )
    assert box.drctl("failover", str(box.playbook)).returncode == ExitCode.PAUSED
    (run_id,) = box.run_ids()
    status = box.drctl("status")
    assert f"Run {run_id}: failover of kill-test" in status.stdout
    assert "State: paused" in status.stdout
    assert f"Next: to decide about step a: drctl resume {run_id}" in status.stdout
    data = json.loads(box.drctl("status", run_id[:10], "--format", "json").stdout)
    assert data["state"] == "paused"
    assert data["steps"][0]["state"] == "failed"
    runs = box.drctl("runs")
    assert run_id in runs.stdout
    assert "kill-test" in runs.stdout
    assert "paused" in runs.stdout


def test_ctrl_c_pauses_a_run_without_a_terminal_with_exit_10_and_resume_completes_it(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.write(
        "  - {id: hold, uses: wait, with: {duration: 60s}}\n"
        "  - {id: after, uses: test.record, with: {file: '{record}'}}\n"
    )
    process = box.start("failover", str(box.playbook))
    wait_for(lambda: bool(box.run_ids()) and "step.started" in journal_types(box, box.run_ids()[0]))
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == ExitCode.PAUSED, err
    assert "pausing" in err
    assert "run paused (interrupt)" in out
    (run_id,) = box.run_ids()
    assert "step.interrupted" in journal_types(box, run_id)  # a wait stops at once and runs again later
    resumed = box.drctl("resume", run_id, "--skip", "hold", "--reason", "the hold is over")
    assert resumed.returncode == 0, resumed.stderr
    assert "hold: skipped by" in resumed.stdout
    assert [e["step"] for e in box.entries()] == ["after", "after"]


def test_a_second_ctrl_c_forces_exit_130_and_the_run_stays_resumable(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.write(
        "  - {id: change, uses: test.record, with: {file: '{record}', mutating: true, sleep: 60s, slow_attempts: 1}}\n"
    )
    process = box.start("failover", str(box.playbook))
    wait_for(lambda: any(e["event"] == "run" for e in box.entries()))
    process.send_signal(signal.SIGINT)  # pauses; the change in flight is not interruptible
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == ExitCode.INTERRUPTED, err
    (run_id,) = box.run_ids()
    journal = box.journal(run_id)
    assert journal[-1]["type"] == "run.interrupted"
    assert journal[-1]["in_flight"] == ["change"]
    resumed = box.drctl("resume", run_id)
    assert resumed.returncode == 0, resumed.stderr
    assert [e["event"] for e in box.entries()] == ["run", "check", "run", "done"]


def test_sigterm_pauses_the_run_with_exit_10(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.write("  - {id: hold, uses: wait, with: {duration: 60s}}\n")
    process = box.start("failover", str(box.playbook))
    wait_for(lambda: bool(box.run_ids()) and "step.started" in journal_types(box, box.run_ids()[0]))
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == ExitCode.PAUSED


def read_until(fd: int, text: str, timeout: float = 20) -> str:
    seen = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw {text!r} in {seen.decode(errors='replace')!r}")
        if select.select([fd], [], [], 0.1)[0]:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    return seen.decode(errors="replace")


@contextmanager
def at_a_terminal(box: Sandbox) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`drctl failover` with a pseudo-terminal on stdin and stderr (prompts), stdout piped; the pty's other end."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        drctl_command("failover", str(box.playbook)),
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=follower,
        cwd=box.root,
        env=box.env(),
        text=True,
    )
    os.close(follower)
    try:
        yield process, leader
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()


def test_at_a_terminal_the_operator_approves_at_the_prompt(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.write(GATE)
    with at_a_terminal(box) as (process, leader):
        read_until(leader, "Approve? [y/n]")
        os.write(leader, b"y\n")
        read_until(leader, "Reason: ")
        os.write(leader, b"checked the replica lag\n")
        process.wait(30)
    assert process.returncode == 0
    granted = next(e for e in box.journal(box.run_ids()[0]) if e["type"] == "approval.granted")
    assert (granted["via"], granted["reason"]) == ("prompt", "checked the replica lag")


def test_at_a_terminal_ctrl_c_lets_the_step_in_flight_finish_then_asks_and_going_on_completes_the_run(
    tmp_path: Path,
) -> None:
    box = Sandbox(tmp_path)
    box.write(
        "  - {id: change, uses: test.record, with: {file: '{record}', mutating: true, sleep: 2s}}\n"
        "  - {id: after, uses: test.record, with: {file: '{record}'}}\n"
    )
    with at_a_terminal(box) as (process, leader):
        wait_for(lambda: any(e["event"] == "run" for e in box.entries()))
        process.send_signal(signal.SIGINT)
        read_until(leader, "[c] continue / [a] abort? ")
        assert [e["event"] for e in box.entries()] == ["run", "done"]  # the step in flight finished first
        os.write(leader, b"c\n")
        process.wait(30)
    assert process.returncode == 0
    types = journal_types(box, box.run_ids()[0])
    assert types.index("run.paused") < types.index("decision.made") < types.index("run.finished")
    assert [e["step"] for e in box.entries() if e["event"] == "done"] == ["change", "after"]


@pytest.mark.parametrize(
    ("args", "heavy"),
    [
        (["--help"], "rich tenacity pydantic httpx drctl.engine drctl.actions.runtime"),
        (["validate", "playbooks/minimal.yaml"], "rich tenacity httpx drctl.engine.runner drctl.actions.runtime"),
        (["plan", "playbooks/minimal.yaml"], "rich tenacity httpx drctl.engine.runner drctl.actions.runtime"),
    ],
    ids=["help", "validate", "plan"],
)
def test_offline_commands_import_nothing_of_the_run_engine(args: list[str], heavy: str) -> None:
    probe = (
        "import sys\nfrom drctl.cli.main import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
        f"heavy = sorted(m for m in sys.modules if any(m == h or m.startswith(h + '.') for h in {heavy.split()!r}))\n"
        "print('HEAVY:' + ','.join(heavy), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=False)
    assert "HEAVY:\n" in result.stderr, result.stderr[-400:]
