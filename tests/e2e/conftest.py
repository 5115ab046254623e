"""End-to-end: real `drctl` processes drive the real Azure SDK against a sandbox, with real DNS, SMTP and HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from drctl.sandbox import Sandbox, estate_from_playbook
from tests.conftest import ROOT, SAMPLE

#: the sample playbook, with fewer health samples and short back-offs so that a run takes seconds, not a minute
FAST = {
    "samples: 10\n": "samples: 2\n",
    "samples: 5\n": "samples: 2\n",
    "samples: 3\n": "samples: 2\n",
    "retry: {attempts: 2, backoff: 30s}": "retry: {attempts: 2, backoff: 1s}",
    "retry: {attempts: 5, backoff: 10s}": "retry: {attempts: 5, backoff: 1s}",
    "retry: {attempts: 3, backoff: 5s}": "retry: {attempts: 3, backoff: 1s}",
    # the sandbox answers in milliseconds; a test machine running parallel workers does not: these tests are about
    # failovers, not latency, so a busy CI machine must not fail the target health check
    "max_p95: 500ms\n": "max_p95: 5s\n",
}


def fast_sample() -> str:
    text = SAMPLE.read_text()
    for old, new in FAST.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


@dataclass
class Rehearsal:
    """A sandbox seeded from the sample playbook, and a working directory to run drctl in."""

    sandbox: Sandbox
    workdir: Path
    playbook: Path

    def env(self, **extra: str) -> dict[str, str]:
        base = {
            k: v
            for k, v in os.environ.items()
            if k == "DRCTL_LOCK_DIR" or not k.startswith(("AZURE_", "DRCTL_", "REQUESTS_CA"))
        }
        return {**base, **self.sandbox.env(), "PYTHONPATH": str(ROOT), **extra}

    def drctl(self, *args: str, timeout: float = 120, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "drctl", *args],
            cwd=self.workdir,
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, *args: str, **extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "drctl", *args],
            cwd=self.workdir,
            env=self.env(**extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def failover(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return self.drctl("failover", str(self.playbook), *args, **extra)

    def run_ids(self) -> list[str]:
        runs = self.workdir / ".drctl" / "runs"
        return sorted(p.name for p in runs.iterdir()) if runs.exists() else []

    def journal(self, run_id: str | None = None) -> list[dict[str, Any]]:
        run = run_id or self.run_ids()[-1]
        path = self.workdir / ".drctl" / "runs" / run / "journal.jsonl"
        if not path.exists():
            return []  # polled while drctl creates the run: its directory comes a moment before its journal
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        events = []
        for number, line in enumerate(lines, start=1):
            try:
                events.append(json.loads(line))
            except ValueError:
                if number < len(lines):
                    raise  # only the line being written may be incomplete
        return events

    def journal_text(self) -> str:
        return "".join(p.read_text() for p in (self.workdir / ".drctl" / "runs").glob("*/journal.jsonl"))

    def facts(self, kind: str, run_id: str | None = None) -> list[dict[str, Any]]:
        return [e["data"] for e in self.journal(run_id) if e.get("type") == "fact" and e.get("kind") == kind]

    def answer(self, server_name: str, kind: str) -> tuple[list[str], int]:
        """What the sandbox's authoritative DNS server answers now (dnspython, on the wire)."""
        import dns.resolver

        resolver = dns.resolver.Resolver(configure=False)
        host, port = self.sandbox.dns_address
        resolver.nameservers = [host]
        resolver.port = port
        found = resolver.resolve(server_name, kind)
        values = sorted(str(r).rstrip(".") for r in found)
        return values, int(found.rrset.ttl) if found.rrset is not None else -1

    def primary(self) -> str:
        return str(self.sandbox.snapshot()["failover_groups"]["fg-wallet"]["primary"])

    def mutations(self) -> list[dict[str, Any]]:
        """Requests that could change Azure: every PUT, PATCH, DELETE and POST to ARM (tokens aside)."""
        return [
            r
            for r in self.sandbox.client().requests()
            if r.get("method") in ("PUT", "PATCH", "DELETE", "POST") and r.get("service") == "arm"
        ]


@contextmanager
def rehearsal_of(tmp_path: Path, playbook: str | Path, name: str = "wallet.yaml") -> Iterator[Rehearsal]:
    """A sandbox seeded from ``playbook`` (its text, written to ``tmp_path / name``, or a file already written)
    and a working directory beside it; the sandbox stops when the block ends."""
    if isinstance(playbook, str):
        path = tmp_path / name
        path.write_text(playbook)
    else:
        path = playbook
    work = tmp_path / "work"
    work.mkdir()
    sandbox = Sandbox.start(estate_from_playbook(path), workdir=tmp_path / "sandbox")
    try:
        yield Rehearsal(sandbox, work, path)
    finally:
        sandbox.stop()


@pytest.fixture
def rehearsal(tmp_path: Path) -> Iterator[Rehearsal]:
    with rehearsal_of(tmp_path, fast_sample()) as r:
        yield r


def wait_for(predicate: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def bare_env(workdir: Path) -> dict[str, str]:
    """No Azure, no sandbox, no credentials or channel secrets: what an operator's shell may well have (an embedded
    ``--sandbox`` provides them all); the test's private lock directory is kept."""
    drop = ("AZURE_", "DRCTL_", "REQUESTS_CA", "SLACK_", "TEAMS_", "SMTP_")
    env = {k: v for k, v in os.environ.items() if k == "DRCTL_LOCK_DIR" or not k.startswith(drop)}
    return {**env, "PYTHONPATH": str(ROOT), "DRCTL_STATE_DIR": str(workdir / ".drctl")}


def bare_drctl(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``drctl ARGS`` in ``workdir`` with ``bare_env``, nothing on its standard input."""
    return subprocess.run(
        [sys.executable, "-m", "drctl", *args],
        cwd=workdir,
        env=bare_env(workdir),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        stdin=subprocess.DEVNULL,
    )
