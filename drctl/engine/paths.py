"""Where runs live on disk: ``<state>/runs/<run-id>/journal.jsonl`` and ``<state>/locks/<playbook>.lock``.

The state directory is ``--state-dir``, else ``$DRCTL_STATE_DIR``, else ``.drctl`` in the working directory.
Directories are 0700 and files 0600: a journal names people, hosts and estate details.
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


def lock_name(playbook_name: str) -> str:
    """A file name for a playbook's lock; the hash keeps two names that clean up alike apart."""
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", playbook_name)[:80]
    return f"{clean}-{hashlib.sha256(playbook_name.encode()).hexdigest()[:8]}.lock"


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

    @property
    def locks(self) -> Path:
        return self.root / "locks"

    def run_dir(self, run_id: str) -> Path:
        return self.runs / run_id

    def journal(self, run_id: str) -> Path:
        return self.run_dir(run_id) / JOURNAL_NAME

    def approvals(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "approvals"

    def lock_file(self, playbook_name: str) -> Path:
        return self.locks / lock_name(playbook_name)

    def prepare(self) -> None:
        try:
            make_private_dir(self.runs)
            make_private_dir(self.locks)
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
