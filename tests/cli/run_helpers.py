"""Driving real ``drctl`` processes for the reliability tests: playbooks of test.record steps, the record file,
and the invariant every kill-and-resume must keep."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, drctl_command

HEAD = """\
version: 1
name: {name}
objectives: {{rto: 1h, rpo: 15m}}
azure: {{subscription: "00000000-0000-0000-0000-000000000000"}}
direction: {{source: east, target: west}}
regions:
  east: {{location: australiaeast, resource_group: rg-east}}
  west: {{location: australiasoutheast, resource_group: rg-west}}
steps:
"""


@dataclass
class Sandbox:
    """A working directory with a playbook, a record file and a state directory."""

    root: Path
    name: str = "kill-test"

    @property
    def record(self) -> Path:
        return self.root / "record.jsonl"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def playbook(self) -> Path:
        return self.root / "playbook.yaml"

    def write(self, steps: str) -> Path:
        self.playbook.write_text(HEAD.format(name=self.name) + steps.replace("{record}", str(self.record)))
        return self.playbook

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k == "DRCTL_LOCK_DIR" or not k.startswith("DRCTL_")}
        env |= {"DRCTL_ENABLE_TEST_ACTIONS": "1", "DRCTL_STATE_DIR": str(self.state), "PYTHONPATH": str(ROOT)}
        return env | extra

    def drctl(self, *args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            drctl_command(*args),
            capture_output=True,
            text=True,
            cwd=self.root,
            env=self.env(**env),
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )

    def start(self, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            drctl_command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.root,
            env=self.env(**env),
            stdin=subprocess.DEVNULL,
        )

    def entries(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines() if line.strip()]

    def run_ids(self) -> list[str]:
        runs = self.state / "runs"
        return sorted(p.name for p in runs.iterdir()) if runs.exists() else []

    def journal(self, run_id: str) -> list[dict[str, Any]]:
        path = self.state / "runs" / run_id / "journal.jsonl"
        if not path.exists():  # the run directory is made just before its journal
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the run to get there")
        time.sleep(0.01)


def assert_never_repeated_blindly(entries: list[dict[str, Any]], steps: list[str]) -> None:
    """Every step's change made exactly once, and no call after the first without a done-check saying 'not done'
    in between: resume never repeated a step (mutating or not) without asking its done-check first."""
    for step in steps:
        mine = [e for e in entries if e["step"] == step]
        assert [e["event"] for e in mine].count("done") == 1, (step, mine)
        checked_not_done = False
        calls = 0
        for entry in mine:
            if entry["event"] == "run":
                calls += 1
                assert calls == 1 or checked_not_done, f"{step} ran again without its done-check: {mine}"
                checked_not_done = False
            elif entry["event"] == "check":
                checked_not_done = not entry["done"]
            elif entry["event"] == "done":
                assert mine[-1] is entry or all(
                    e["event"] == "check" and e["done"] for e in mine[mine.index(entry) + 1 :]
                )
