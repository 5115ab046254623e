"""SIGHUP (the terminal closed, the SSH session dropped) pauses the run, journaled as `hangup`, exit 10. Before, the
process died as if killed, without a journal line; and a terminal that has gone away must not turn the pause into
a traceback."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
from pathlib import Path

import pytest

from drctl.errors import ExitCode
from tests.cli.run_helpers import Sandbox, wait_for
from tests.conftest import drctl_command

pytestmark = pytest.mark.slow

GATE = """\
  - {id: gate, uses: gate.approval, with: {message: "Fail over?"}}
  - {id: after, uses: test.record, with: {file: '{record}'}}
"""


def test_a_hangup_at_a_terminal_pauses_the_run_journaled(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.write(GATE)
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        drctl_command("failover", str(box.playbook)),
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=box.root,
        env=box.env(),
    )
    os.close(follower)
    try:
        wait_for(
            lambda: (
                bool(box.run_ids()) and any(e["type"] == "approval.requested" for e in box.journal(box.run_ids()[0]))
            )
        )
        os.close(leader)  # the terminal goes away: reads and writes on it now fail
        leader = -1
        process.send_signal(signal.SIGHUP)
        process.wait(30)
    finally:
        if leader >= 0:
            os.close(leader)
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == ExitCode.PAUSED
    events = box.journal(box.run_ids()[0])
    (paused,) = [e for e in events if e["type"] == "run.paused"]
    assert paused["reason"] == "hangup"
    assert not any(e["type"] == "step.failed" for e in events)
