from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLAYBOOKS = ROOT / "playbooks"
SAMPLE = PLAYBOOKS / "au-east-to-au-southeast.yaml"


@pytest.fixture
def sample_text() -> str:
    return SAMPLE.read_text()


@pytest.fixture
def write_playbook(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(text: str, name: str = "playbook.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture(autouse=True)
def private_lock_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Locks are machine-wide (/var/tmp/drctl-locks): each test gets its own lock directory, so tests running at
    once (xdist, other checkouts) never hold each other's applications. Subprocesses inherit it; helpers that
    clean DRCTL_* out of a child's environment keep DRCTL_LOCK_DIR (``child_env``)."""
    path = tmp_path_factory.mktemp("locks")
    monkeypatch.setenv("DRCTL_LOCK_DIR", str(path))
    return path


def child_env(*, drop: tuple[str, ...] = ("DRCTL_",)) -> dict[str, str]:
    """This process's environment without the variables a test must not leak into a child, except the lock
    directory (see ``private_lock_dir``)."""
    import os

    return {k: v for k, v in os.environ.items() if k == "DRCTL_LOCK_DIR" or not k.startswith(drop)}


def cut_as_a_crash(journal: Path, keep: int) -> None:
    """Keep the first ``keep`` lines of a journal, as a kill right after line ``keep`` leaves it: the line and
    the head anchored beside it (engine/anchor.py) were both durable before the run went on."""
    from drctl.engine.anchor import Anchor, write_anchor
    from drctl.engine.journal import FILE_MODE, line_hash

    lines = journal.read_bytes().splitlines(keepends=True)[:keep]
    journal.write_bytes(b"".join(lines))
    write_anchor(journal, Anchor(keep, line_hash(lines[-1].rstrip(b"\n"))), FILE_MODE)


def drctl_command(*args: str) -> list[str]:
    """Run the CLI from this checkout, whether or not it is installed."""
    return [sys.executable, "-m", "drctl", *args]
