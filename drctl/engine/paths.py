"""Where runs live on disk: ``<state>/runs/<run-id>/journal.jsonl``, and the machine's application locks.

The state directory is ``--state-dir``, else ``$DRCTL_STATE_DIR``, else ``.drctl`` in the working directory.
Directories are 0700 and files 0600: a journal names people, hosts and estate details.

Locks are not in the state directory: one application must have one writer however many checkouts, working
directories or users run drctl on the machine. They live in ``$DRCTL_LOCK_DIR``, else ``/var/tmp/drctl-locks``
(``/var/tmp`` exists on every Linux and macOS machine, is shared by all users and is not cleared at boot like
``/tmp`` may be per user with systemd's PrivateTmp). That directory is made sticky and world-writable like
``/tmp`` (a user can create a lock, never remove another user's), and lock files are readable and writable by
all so that any user can take a lock once its holder is gone.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from drctl.engine.journal import fsync_dir
from drctl.errors import JournalError, NotFound

STATE_DIR_ENV = "DRCTL_STATE_DIR"
DEFAULT_STATE_DIR = ".drctl"
LOCK_DIR_ENV = "DRCTL_LOCK_DIR"
DEFAULT_LOCK_DIR = Path("/var/tmp/drctl-locks")  # noqa: S108 - machine-wide on purpose; see the module docstring
LOCK_DIR_MODE = 0o1777
LOCK_SUFFIX = ".lock"
_VARIABLE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
DIR_MODE = 0o700
JOURNAL_NAME = "journal.jsonl"
RUN_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{4}$")


def resolve_state_dir(option: Path | None, environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if option is not None:
        return option
    if env.get(STATE_DIR_ENV):
        return Path(env[STATE_DIR_ENV])
    return Path(DEFAULT_STATE_DIR)


def new_run_id(now: datetime) -> str:
    """Sortable by start time, short enough to type: ``20260303T020000Z-7f3a``."""
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


def resolve_lock_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env[LOCK_DIR_ENV]) if env.get(LOCK_DIR_ENV) else DEFAULT_LOCK_DIR


def application_key(playbook_name: str, subscription: str, environ: Mapping[str, str] | None = None) -> str:
    """What one writer is about: the playbook's name (the application) in its Azure subscription.

    A subscription given as ``${VAR}`` is read from the environment, as the run's Azure configuration reads it,
    so two checkouts naming the subscription differently still share a key. Unset, the text itself is the key.
    """
    env = os.environ if environ is None else environ
    text = subscription.strip()
    found = _VARIABLE.match(text)
    if found and env.get(found.group(1)):
        text = env[found.group(1)]
    return f"{playbook_name}@{text.lower()}"


def lock_name(key: str) -> str:
    """A file name for an application's lock; the hash keeps two keys that clean up alike apart."""
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", key.split("@", 1)[0])[:80]
    return f"{clean}-{hashlib.sha256(key.encode()).hexdigest()[:12]}{LOCK_SUFFIX}"


@dataclass(frozen=True)
class LockDir:
    """The machine's application locks (``$DRCTL_LOCK_DIR``, else ``/var/tmp/drctl-locks``)."""

    root: Path

    @classmethod
    def resolve(cls, environ: Mapping[str, str] | None = None) -> LockDir:
        return cls(resolve_lock_dir(environ))

    def file(self, key: str) -> Path:
        return self.root / lock_name(key)

    def files(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir() if p.name.endswith(LOCK_SUFFIX))

    def prepare(self) -> None:
        """Create the directory sticky and world-writable (as ``/tmp``); one that exists is used as it is."""
        try:
            self.root.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.mkdir(self.root, LOCK_DIR_MODE)
            except FileExistsError:
                pass
            else:
                os.chmod(self.root, LOCK_DIR_MODE)  # whatever the umask
            if not self.root.is_dir():
                raise NotADirectoryError(f"{self.root} is not a directory")
        except OSError as exc:
            raise JournalError(
                f"cannot use the lock directory {self.root}: {exc.strerror or exc}; nothing was run",
                hint=f"point ${LOCK_DIR_ENV} at a directory every operator of this machine can write",
            ) from exc


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) as 0700, making each new entry durable in its parent."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(directory, DIR_MODE)  # whatever the umask
        fsync_dir(directory.parent)


@dataclass(frozen=True)
class StateDir:
    root: Path

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    def run_dir(self, run_id: str) -> Path:
        return self.runs / run_id

    def journal(self, run_id: str) -> Path:
        return self.run_dir(run_id) / JOURNAL_NAME

    def approvals(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "approvals"

    def lock_file(self, key: str) -> Path:
        """The lock of an application (``application_key``): machine-wide, not in this state directory."""
        return LockDir.resolve().file(key)

    def prepare(self) -> None:
        LockDir.resolve().prepare()
        try:
            make_private_dir(self.runs)
        except OSError as exc:
            raise JournalError(
                f"cannot use the state directory {self.root}: {exc.strerror or exc}; nothing was run",
                hint=f"choose a writable one with --state-dir or ${STATE_DIR_ENV}",
            ) from exc

    def create_run_dir(self, run_id: str) -> Path:
        try:
            make_private_dir(self.approvals(run_id))
        except OSError as exc:
            raise JournalError(f"cannot create {self.run_dir(run_id)}: {exc.strerror or exc}; nothing was run") from exc
        return self.run_dir(run_id)

    def run_ids(self) -> list[str]:
        """Every run with a journal, oldest first."""
        if not self.runs.is_dir():
            return []
        return sorted(p.name for p in self.runs.iterdir() if RUN_ID.match(p.name) and (p / JOURNAL_NAME).exists())

    def find(self, run_id: str | None) -> str:
        """A run id as given (a unique prefix will do), or the latest run when None."""
        ids = self.run_ids()
        if run_id is None:
            if not ids:
                raise NotFound(f"no runs in {self.root}", hint="start one with `drctl failover PLAYBOOK`")
            return ids[-1]
        if run_id in ids:
            return run_id
        matches = [i for i in ids if i.startswith(run_id)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise NotFound(f"run id {run_id!r} is ambiguous: {', '.join(matches)}")
        raise NotFound(f"no run {run_id!r} in {self.root}", hint="`drctl runs` lists them; mind --state-dir")
