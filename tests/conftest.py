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


def drctl_command(*args: str) -> list[str]:
    """Run the CLI from this checkout, whether or not it is installed."""
    return [sys.executable, "-m", "drctl", *args]
