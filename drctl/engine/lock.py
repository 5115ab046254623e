"""One writer per application (safety rule 5).

The key is the application: the playbook's ``name`` in its Azure subscription (``paths.application_key``), not
the playbook's path nor the working directory: two checkouts, two terminals or two users of one machine must not
fail the same application over twice. Failover and failback of one playbook share the lock. The lock directory
is machine-wide (``paths.LockDir``); a state directory has none.

Mechanism: ``fcntl.flock`` on ``<lock dir>/<name>-<hash>.lock``, held for the life of the process, so the kernel
releases it when the holder dies however it dies (kill -9 included). The file also holds the holder's run id, pid,
host and start time, for the refusal message. A holder record left behind by a process that is gone (the flock
is free) is a stale lock, taken over and journaled. A record from another host is never taken over, because
flock may not reach across a network file system: the operator clears it by hand after checking that host.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict, replace
from pathlib import Path

from drctl.engine.events import Holder
from drctl.engine.identity import os_user
from drctl.engine.paths import LockDir
from drctl.errors import JournalError, LockHeld

#: readable and writable by every user: whoever runs the application next must be able to take a stale lock
LOCK_FILE_MODE = 0o666


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
            user=str(data["user"]) if data.get("user") else None,
            application=str(data["application"]) if data.get("application") else None,
            state_dir=str(data["state_dir"]) if data.get("state_dir") else None,
        )
    except (ValueError, KeyError, TypeError):
        return Holder(run_id="?", pid=0, host="?", since="?", playbook="?")


def describe(holder: Holder) -> str:
    by = f", user {holder.user}" if holder.user else ""
    return f"run {holder.run_id} (pid {holder.pid} on {holder.host}{by}, since {holder.since})"


def _open(path: Path) -> int:
    """Open (creating it shared) without following a symbolic link someone else may have planted."""
    flags = os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, LOCK_FILE_MODE)
    except FileExistsError:
        return os.open(path, flags)
    try:
        os.fchmod(fd, LOCK_FILE_MODE)  # whatever the umask
    except OSError:
        os.close(fd)
        raise
    return fd


def _follow(holder: Holder) -> str:
    where = f" --state-dir {holder.state_dir}" if holder.state_dir else ""
    return f"follow it with `drctl status {holder.run_id}{where}`"


class RunLock:
    """A held lock; ``previous`` is the stale holder it replaced, if any."""

    def __init__(self, path: Path, fd: int, holder: Holder, previous: Holder | None) -> None:
        self.path = path
        self.holder = holder
        self.previous = previous
        self._fd = fd

    @classmethod
    def acquire(cls, path: Path, holder: Holder) -> RunLock:
        holder = replace(holder, user=holder.user or os_user())
        try:
            fd = _open(path)
        except OSError as exc:
            raise JournalError(f"cannot open the lock {path}: {exc.strerror or exc}; nothing was run") from exc
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                found = _read_holder(fd)
                who = describe(found) if found else "another drctl process"
                raise LockHeld(
                    f"application {holder.application or holder.playbook!r} is locked by {who}; nothing was run",
                    hint=_follow(found) if found else None,
                ) from None
            previous = _read_holder(fd)
            if previous is not None and previous.host != holder.host:
                fcntl.flock(fd, fcntl.LOCK_UN)
                raise LockHeld(
                    f"application {holder.application or holder.playbook!r} is locked by {describe(previous)}, "
                    "another host; drctl never "
                    "takes over a lock from another host",
                    hint=f"if that run is truly gone (check on {previous.host}), remove {path} and start again",
                )
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, json.dumps(asdict(holder)).encode(), 0)
                os.fsync(fd)
            except OSError as exc:  # a full disk: say so, not a traceback
                raise JournalError(
                    f"cannot write the lock {path}: {exc.strerror or exc}; nothing was run",
                    hint="free space on that file system, then run the same command again",
                ) from exc
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


def holder_of_run(run_id: str, locks: LockDir | None = None) -> Holder | None:
    """The live holder of whichever application lock ``run_id`` holds now, else None (read-only)."""
    for path in (locks or LockDir.resolve()).files():
        found = live_holder(path)
        if found is not None and found.run_id == run_id:
            return found
    return None
