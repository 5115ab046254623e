"""One writer per application: a second start refuses naming the holder, whatever directory it runs from; a dead
holder's lock is taken over; a lock from another host is never taken."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from drctl.engine import codec
from drctl.engine import events as ev
from drctl.engine.identity import host
from drctl.engine.lock import RunLock, live_holder
from drctl.engine.paths import LockDir, StateDir, application_key
from drctl.errors import JournalError, LockHeld
from tests.engine.conftest import Workspace, plan_for, run_plan

STEP = "  - {id: a, uses: test.record, with: {file: '{record}'}}\n"
#: the test playbooks' application: name "app" in the all-zero subscription (tests/engine/conftest.py)
APP = application_key("app", "00000000-0000-0000-0000-000000000000")


def holder(run_id: str, pid: int, on: str | None = None) -> ev.Holder:
    return ev.Holder(run_id=run_id, pid=pid, host=on or host(), since="2026-03-03T02:00:00+00:00", playbook="app")


def test_a_second_run_of_the_same_playbook_is_refused_naming_the_first(ws: Workspace) -> None:
    state = StateDir(ws.state)
    state.prepare()
    first = RunLock.acquire(state.lock_file(APP), holder("20260303T020000Z-aaaa", os.getpid()))
    try:
        with pytest.raises(LockHeld) as refused:
            run_plan(plan_for(ws.playbook(STEP)), ws)
        message = str(refused.value)
        assert "20260303T020000Z-aaaa" in message
        assert f"pid {os.getpid()}" in message
        assert host() in message
        assert live_holder(state.lock_file(APP)) == first.holder
    finally:
        first.release()
    assert live_holder(state.lock_file(APP)) is None


def test_the_lock_is_the_playbooks_name_whatever_file_it_is_read_from(ws: Workspace) -> None:
    state = StateDir(ws.state)
    state.prepare()
    first = RunLock.acquire(state.lock_file(APP), holder("20260303T020000Z-aaaa", os.getpid()))
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
    state.lock_file(APP).write_text(json.dumps(codec.to_data(holder("20260303T010000Z-dead", pid))))
    ran = run_plan(plan_for(ws.playbook(STEP)), ws)
    assert ran.exit_code == 0
    (taken,) = ran.of(ev.LockTakenOver)
    assert taken.previous.run_id == "20260303T010000Z-dead"
    assert taken.previous.pid == pid


def test_a_lock_from_another_host_is_never_taken_over(ws: Workspace) -> None:
    state = StateDir(ws.state)
    state.prepare()
    lock_file = state.lock_file(APP)
    lock_file.write_text(json.dumps(codec.to_data(holder("20260303T010000Z-away", 4242, on="other-host"))))
    with pytest.raises(LockHeld, match="another host") as refused:
        run_plan(plan_for(ws.playbook(STEP)), ws)
    assert str(lock_file) in (refused.value.hint or "")
    assert json.loads(lock_file.read_text())["host"] == "other-host"  # left as it was


def test_two_state_directories_share_the_applications_lock(ws: Workspace) -> None:
    """The lock used to live in ./.drctl: two working directories took two locks and both ran."""
    state = StateDir(ws.state)
    state.prepare()
    first = RunLock.acquire(state.lock_file(APP), holder("20260303T020000Z-aaaa", os.getpid()))
    try:
        ws.state = ws.root / "another-checkout" / ".drctl"
        with pytest.raises(LockHeld, match="20260303T020000Z-aaaa") as refused:
            run_plan(plan_for(ws.playbook(STEP)), ws)
        assert "since 2026-03-03T02:00:00+00:00" in str(refused.value)
    finally:
        first.release()


def test_the_key_is_the_application_in_its_subscription() -> None:
    env = {"AZURE_SUBSCRIPTION_ID": "AAAA-1"}
    assert application_key("app", "${AZURE_SUBSCRIPTION_ID}", env) == application_key("app", "aaaa-1", {})
    assert application_key("app", "sub-1", {}) != application_key("app", "sub-2", {})
    dirs = LockDir.resolve()
    assert dirs.file(application_key("app", "sub-1", {})) != dirs.file(application_key("app", "sub-2", {}))


def test_the_lock_directory_is_machine_wide_by_default_and_overridable() -> None:
    from drctl.engine.paths import DEFAULT_LOCK_DIR, resolve_lock_dir

    assert resolve_lock_dir({}) == DEFAULT_LOCK_DIR
    assert resolve_lock_dir({"DRCTL_LOCK_DIR": "/x/locks"}).as_posix() == "/x/locks"


def test_a_new_lock_directory_is_sticky_and_its_lock_files_shared(tmp_path: Path) -> None:
    locks = LockDir(tmp_path / "machine" / "locks")
    locks.prepare()
    assert stat.S_IMODE(locks.root.stat().st_mode) == 0o1777
    lock = RunLock.acquire(locks.file(APP), holder("20260303T020000Z-aaaa", os.getpid()))
    try:
        assert stat.S_IMODE(lock.path.stat().st_mode) == 0o666
        assert lock.holder.user  # who holds it, for the refusal
    finally:
        lock.release()


def test_a_planted_symbolic_link_is_never_followed(tmp_path: Path) -> None:
    locks = LockDir(tmp_path / "locks")
    locks.prepare()
    victim = tmp_path / "victim"
    victim.write_text("precious")
    locks.file(APP).symlink_to(victim)
    with pytest.raises(JournalError, match="cannot open the lock"):
        RunLock.acquire(locks.file(APP), holder("20260303T020000Z-aaaa", os.getpid()))
    assert victim.read_text() == "precious"
