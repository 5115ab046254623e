"""One run per playbook: a second start refuses naming the holder; a dead holder's lock is taken over; a lock
from another host is never taken."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from drctl.engine import codec
from drctl.engine import events as ev
from drctl.engine.identity import host
from drctl.engine.lock import RunLock, live_holder
from drctl.engine.paths import StateDir
from drctl.errors import LockHeld
from tests.engine.conftest import Workspace, plan_for, run_plan

STEP = "  - {id: a, uses: test.record, with: {file: '{record}'}}\n"


def holder(run_id: str, pid: int, on: str | None = None) -> ev.Holder:
    return ev.Holder(run_id=run_id, pid=pid, host=on or host(), since="2026-03-03T02:00:00+00:00", playbook="app")


def test_a_second_run_of_the_same_playbook_is_refused_naming_the_first(ws: Workspace) -> None:
    state = StateDir(ws.state)
    state.prepare()
    first = RunLock.acquire(state.lock_file("app"), holder("20260303T020000Z-aaaa", os.getpid()))
    try:
        with pytest.raises(LockHeld) as refused:
            run_plan(plan_for(ws.playbook(STEP)), ws)
        message = str(refused.value)
        assert "20260303T020000Z-aaaa" in message
        assert f"pid {os.getpid()}" in message
        assert host() in message
        assert live_holder(state.lock_file("app")) == first.holder
    finally:
        first.release()
    assert live_holder(state.lock_file("app")) is None


def test_the_lock_is_the_playbooks_name_whatever_file_it_is_read_from(ws: Workspace) -> None:
    state = StateDir(ws.state)
    state.prepare()
    first = RunLock.acquire(state.lock_file("app"), holder("20260303T020000Z-aaaa", os.getpid()))
    try:
        copy = ws.root / "copy-of-playbook.yaml"
        copy.write_text(ws.playbook(STEP).read_text())
        with pytest.raises(LockHeld):
            run_plan(plan_for(copy), ws)
    finally:
        first.release()


def test_a_lock_left_by_a_dead_process_is_taken_over_and_journaled(ws: Workspace) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    pid = int(dead.stdout)
    state = StateDir(ws.state)
    state.prepare()
    state.lock_file("app").write_text(json.dumps(codec.to_data(holder("20260303T010000Z-dead", pid))))
    ran = run_plan(plan_for(ws.playbook(STEP)), ws)
    assert ran.exit_code == 0
    (taken,) = ran.of(ev.LockTakenOver)
    assert taken.previous.run_id == "20260303T010000Z-dead"
    assert taken.previous.pid == pid


def test_a_lock_from_another_host_is_never_taken_over(ws: Workspace) -> None:
    state = StateDir(ws.state)
    state.prepare()
    lock_file = state.lock_file("app")
    lock_file.write_text(json.dumps(codec.to_data(holder("20260303T010000Z-away", 4242, on="other-host"))))
    with pytest.raises(LockHeld, match="another host") as refused:
        run_plan(plan_for(ws.playbook(STEP)), ws)
    assert str(lock_file) in (refused.value.hint or "")
    assert json.loads(lock_file.read_text())["host"] == "other-host"  # left as it was
