"""One active run per playbook (safety rule 5).

The key is the playbook's ``name`` (the application), not its path: two checkouts of the same playbook must not
fail the same application over twice. Failover and failback of one playbook share the lock.

Mechanism: ``fcntl.flock`` on ``<state>/locks/<name>.lock``, held for the life of the process, so the kernel
releases it when the holder dies however it dies (kill -9 included). The file also holds the holder's run id, pid,
host and start time, for the refusal message. A holder record left behind by a process that is gone (the flock
is free) is a stale lock, taken over and journaled. A record from another host is never taken over, because
flock may not reach across a network file system: the operator clears it by hand after checking that host.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict
from pathlib import Path

from drctl.engine.events import Holder
from drctl.errors import JournalError, LockHeld


def _read_holder(fd: int) -> Holder | None:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = b""
    while chunk := os.read(fd, 65536):
        raw += chunk
    if not raw.strip():
        return None
    try:
        data = json.loads(raw)
        return Holder(
            run_id=str(data["run_id"]),
            pid=int(data["pid"]),
            host=str(data["host"]),
            since=str(data["since"]),
            playbook=str(data["playbook"]),
        )
    except (ValueError, KeyError, TypeError):
        return Holder(run_id="?", pid=0, host="?", since="?", playbook="?")


def describe(holder: Holder) -> str:
    return f"run {holder.run_id} (pid {holder.pid} on {holder.host}, since {holder.since})"


class RunLock:
    """A held lock; ``previous`` is the stale holder it replaced, if any."""

    def __init__(self, path: Path, fd: int, holder: Holder, previous: Holder | None) -> None:
        self.path = path
        self.holder = holder
        self.previous = previous
        self._fd = fd

    @classmethod
    def acquire(cls, path: Path, holder: Holder) -> RunLock:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise JournalError(f"cannot open the lock {path}: {exc.strerror or exc}; nothing was run") from exc
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                found = _read_holder(fd)
                who = describe(found) if found else "another drctl process"
                raise LockHeld(
                    f"playbook {holder.playbook!r} is locked by {who}; nothing was run",
                    hint=f"follow it with `drctl status {found.run_id}`" if found else None,
                ) from None
            previous = _read_holder(fd)
            if previous is not None and previous.host != holder.host:
                fcntl.flock(fd, fcntl.LOCK_UN)
                raise LockHeld(
                    f"playbook {holder.playbook!r} is locked by {describe(previous)}, another host; drctl never "
                    "takes over a lock from another host",
                    hint=f"if that run is truly gone (check on {previous.host}), remove {path} and start again",
                )
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(asdict(holder)).encode(), 0)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd, holder, previous)

    def release(self) -> None:
        """Clear the holder record, then let go; a crash skips this and leaves a stale record, which is fine."""
        if self._fd < 0:
            return
        try:
            os.ftruncate(self._fd, 0)
            os.fsync(self._fd)
        except OSError:
            pass  # the flock goes with the descriptor anyway; the next run sees a stale record and takes over
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1


def live_holder(path: Path) -> Holder | None:
    """The holder of a lock that some live process holds now, else None (read-only: never takes the lock)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
