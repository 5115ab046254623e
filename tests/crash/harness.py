"""The crash harness: run the sample failover against a ``drctl sandbox up`` process, kill drctl at chosen
moments (SIGKILL, SIGINT twice, SIGHUP), resume until the run ends, then count what the world saw.

Kill points are data (``KillPoint``) and chosen by a seeded ``random.Random``, so a failure names the seed that
reproduces it. A point fires on wall-clock delay, on journal progress (after the N-th line, when an event or
fact appears) or on the sandbox's request log (when the k-th request of an operation arrives), optionally a
little later, so kills inside long-running operations and between an Azure write and its verification are
aimed at, not left to luck. Used by ``tests/crash/test_crash_harness.py`` and ``benchmarks/crash_harness.py``;
nothing here imports pytest.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from drctl.errors import ExitCode
from drctl.sandbox import SandboxClient
from tests.crash.points import DNS_DELAY, LATENCIES, KillPoint, random_point
from tests.crash.tally import Expectations, Verdict, count_once, expectations, judge_end

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "playbooks" / "au-east-to-au-southeast.yaml"

#: the sample with fewer health samples and 1 s back-offs, so a run takes seconds (as tests/e2e's fast variant)
SPEEDUPS = {
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

#: a request log this full may have dropped the oldest entries (settings.request_log_size): counts unreliable
LOG_SIZE = 5000


def fast_sample() -> str:
    text = SAMPLE.read_text()
    for old, new in SPEEDUPS.items():
        if old not in text:
            raise AssertionError(f"the sample playbook changed: {old!r} is gone; update SPEEDUPS")
        text = text.replace(old, new)
    return text


def base_env(home: Path) -> dict[str, str]:
    """The caller's environment without Azure or drctl settings, with this checkout importable, and a HOME and
    a lock directory (``DRCTL_LOCK_DIR``) of its own: the machine-wide state of one trial ("one machine") is
    kept apart from other tests that fail the same sample over at the same time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "DRCTL_", "REQUESTS_CA", "XDG_"))}
    home.mkdir(parents=True, exist_ok=True)
    return env | {"PYTHONPATH": str(ROOT), "HOME": str(home), "DRCTL_LOCK_DIR": str(home / "locks")}


def _default_signals() -> None:
    """In the child, before exec: SIGHUP and SIGINT as a terminal's process gets them. A harness started under
    ``nohup`` or in a shell's background would otherwise pass on 'ignore', and a SIGHUP would kill nothing."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def drctl(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "drctl", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


@dataclass
class CrashSandbox:
    """A sandbox in its own process (``drctl sandbox up --detach``): it outlives every drctl we kill."""

    root: Path
    playbook: Path
    env: dict[str, str]
    admin: SandboxClient
    expected: Expectations

    @classmethod
    def start(cls, root: Path) -> CrashSandbox:
        root.mkdir(parents=True, exist_ok=True)
        playbook = root / "wallet.yaml"
        playbook.write_text(fast_sample())
        base = base_env(root / "home")
        state = str(root / "sandbox")
        up = drctl(
            ["sandbox", "up", "--from-playbook", str(playbook), "--detach", "--format", "json", "--state-dir", state],
            base,
            root,
        )
        if up.returncode != 0:
            raise RuntimeError(f"drctl sandbox up failed ({up.returncode}): {up.stderr}")
        env = json.loads(up.stdout)
        return cls(root, playbook, env, SandboxClient.from_env(env), expectations(playbook))

    def stop(self) -> None:
        self.admin.close()
        drctl(["sandbox", "down", "--state-dir", str(self.root / "sandbox")], base_env(self.root / "home"), self.root)

    def prepare(self) -> None:
        """The estate as before the incident, empty logs and captures, and the slow operations."""
        self.admin.reset()
        self.admin.add_faults([{"kind": "latency", "op": op, "seconds": s} for op, s in LATENCIES.items()])
        self.admin.set_dns_propagation_delay(DNS_DELAY)

    def run_env(self, home: Path, **extra: str) -> dict[str, str]:
        return base_env(home) | self.env | extra


# ---- one process, watched and killed ---------------------------------------------------------------------------


def read_journal(path: Path | None) -> list[dict[str, Any]]:
    """The complete lines of a journal being written (a torn last line is skipped)."""
    if path is None or not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def _matches(event: dict[str, Any], spec: str) -> bool:
    kind, _, name = spec.partition(":")
    if kind == "fact":
        return event.get("type") == "fact" and event.get("kind") == name
    return event.get("type") == kind and (not name or event.get("step") == name)


@dataclass
class Kill:
    point: KillPoint
    landed: bool
    exit_code: int | None
    note: str = ""


@dataclass
class Trial:
    """One failover driven to its end through kills and resumes, and what the sandbox counted."""

    index: int
    seed: int
    workdir: Path
    kills: list[Kill] = field(default_factory=list)
    processes: list[tuple[str, int]] = field(default_factory=list)
    run_id: str | None = None
    verdict: Verdict = field(default_factory=Verdict)
    verified: bool = False
    #: findings that make the run end wrong (beyond the verdict)
    notes: list[str] = field(default_factory=list)
    #: what happened on the way that is no finding
    info: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def landed(self) -> list[Kill]:
        return [k for k in self.kills if k.landed]

    @property
    def ended_right(self) -> bool:
        return self.verdict.ok and self.verified and not self.notes

    def report(self) -> str:
        kills = "; ".join(
            f"{k.point.label()} -> {'landed' if k.landed else 'missed'} ({k.exit_code})" for k in self.kills
        )
        lines = [
            f"trial {self.index} (seed {self.seed}) in {self.workdir}, run {self.run_id}",
            f"  kills: {kills or 'none'}",
            f"  processes: {', '.join(f'{a} -> {rc}' for a, rc in self.processes)}",
            *(f"  {line}" for line in self.verdict.lines()),
            *(f"  note: {n}" for n in self.notes),
            *(f"  info: {n}" for n in self.info),
            f"  runs verify: {'intact' if self.verified else 'FAILED'}",
        ]
        return "\n".join(lines)


class Driver:
    """Runs drctl processes in one working directory against the sandbox, killing them where told."""

    def __init__(self, sandbox: CrashSandbox, workdir: Path) -> None:
        self.sandbox = sandbox
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.home = workdir / "home"
        self._count = 0

    def run_ids(self) -> list[str]:
        runs = self.workdir / ".drctl" / "runs"
        return sorted(p.name for p in runs.iterdir() if p.is_dir()) if runs.exists() else []

    def journal_path(self) -> Path | None:
        ids = self.run_ids()
        return self.workdir / ".drctl" / "runs" / ids[-1] / "journal.jsonl" if ids else None

    def start(self, args: list[str], **extra: str) -> subprocess.Popen[str]:
        self._count += 1
        out: IO[str] = (self.workdir / f"process-{self._count}.log").open("w")
        try:
            return subprocess.Popen(
                [sys.executable, "-m", "drctl", *args],
                cwd=self.workdir,
                env=self.sandbox.run_env(self.home, **extra),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                preexec_fn=_default_signals,  # noqa: PLW1509 (the harness starts no threads)
            )
        finally:
            out.close()

    def _ops_seen(self, op: str) -> int:
        return len(self.sandbox.admin.requests(op=op))

    def run_and_kill(
        self, args: list[str], point: KillPoint | None, *, timeout: float = 120
    ) -> tuple[Kill | None, int]:
        """Start drctl with ``args``; if ``point`` is given, kill it when the point fires. Waits for the exit;
        returns the kill (if one was planned) and the exit code."""
        lines_before = len(read_journal(self.journal_path()))
        extra: dict[str, str] = {}
        if point is not None and point.trigger == "line" and point.signal == "SIGKILL":
            extra = {
                "DRCTL_ENABLE_TEST_ACTIONS": "1",
                "DRCTL_TEST_KILL_AFTER_LINE": str(lines_before + int(point.value)),
            }
        baseline = 0
        if point is not None and point.trigger == "request":
            baseline = self._ops_seen(point.value)
        elif point is not None and point.trigger == "event":
            baseline = sum(_matches(e, point.value) for e in read_journal(self.journal_path()))
        process = self.start(args, **extra)
        started = time.monotonic()
        kill: Kill | None = None
        if point is not None:
            fired = self._wait_for(point, process, started, lines_before, baseline, timeout)
            if fired is None:  # drctl's own hook
                process.wait(timeout)
                landed = process.returncode == -signal.SIGKILL
                kill = Kill(point, landed, process.returncode, "" if landed else "the run ended before that line")
            elif fired:
                if point.after:
                    time.sleep(point.after)
                kill = self._send(process, point)
            else:
                kill = Kill(point, False, process.returncode, "the process ended before the point")
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
            raise AssertionError(f"drctl {' '.join(args)} did not end within {timeout:.0f} s") from None
        if kill is not None and kill.exit_code is None:
            kill.exit_code = process.returncode
        return kill, process.returncode

    def _wait_for(
        self,
        point: KillPoint,
        process: subprocess.Popen[str],
        started: float,
        lines_before: int,
        baseline: int,
        timeout: float,
    ) -> bool | None:
        """True once the point fires while the process lives, False if it ended first, None: drctl kills itself."""
        if point.trigger == "line" and point.signal == "SIGKILL":
            return None
        condition: Callable[[], bool]
        if point.trigger == "delay":
            condition = lambda: time.monotonic() - started >= float(point.value)  # noqa: E731
        elif point.trigger == "line":
            condition = lambda: len(read_journal(self.journal_path())) >= lines_before + int(point.value)  # noqa: E731
        elif point.trigger == "event":
            condition = lambda: sum(_matches(e, point.value) for e in read_journal(self.journal_path())) > baseline  # noqa: E731
        else:
            condition = lambda: self._ops_seen(point.value) > baseline  # noqa: E731
        while time.monotonic() - started < timeout:
            if process.poll() is not None:
                return False
            if condition():
                return process.poll() is None
            time.sleep(0.01)
        return False

    def _send(self, process: subprocess.Popen[str], point: KillPoint) -> Kill:
        if process.poll() is not None:
            return Kill(point, False, process.returncode, "the process ended during the extra delay")
        if point.signal == "SIGKILL":
            process.send_signal(signal.SIGKILL)
        elif point.signal == "SIGHUP":
            process.send_signal(signal.SIGHUP)
        else:  # Ctrl-C twice: pause, then force before the steps in flight finish
            process.send_signal(signal.SIGINT)
            time.sleep(0.2)
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        note = ""
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
            note = f"still alive 60 s after {point.signal}: SIGKILLed"
        if process.returncode == 0:  # it finished the run anyway: that was no crash
            return Kill(point, False, 0, f"the run finished despite {point.signal}")
        return Kill(point, True, process.returncode, note)


def run_trial(
    sandbox: CrashSandbox,
    workdir: Path,
    *,
    index: int,
    seed: int,
    points: list[KillPoint] | None = None,
    kills: int = 2,
    rng: random.Random | None = None,
) -> Trial:
    """One failover of the sample, killed at ``points`` (or ``kills`` random points from ``rng``), resumed until
    it ends; then every mutation and message counted and the end judged."""
    began = time.monotonic()
    rng = rng or random.Random(seed)
    sandbox.prepare()
    driver = Driver(sandbox, workdir)
    trial = Trial(index, seed, workdir)
    planned = list(points) if points is not None else None
    budget = len(planned) if planned is not None else kills
    quiet_resumes = 0
    for _ in range(budget + 6):
        journal = read_journal(driver.journal_path())
        finished = journal and journal[-1].get("type") == "run.finished"
        if finished and (journal[-1].get("ending") == "succeeded" or quiet_resumes >= 2):
            break
        succeeded = {str(e.get("step")) for e in journal if e.get("type") == "step.succeeded"}
        point: KillPoint | None = None
        if len(trial.kills) < budget:
            point = planned[len(trial.kills)] if planned is not None else random_point(rng, succeeded)
        else:
            quiet_resumes += 1
        ids = driver.run_ids()
        if not ids or not journal:
            if ids:  # killed before the first line was durable: nothing ran, start afresh
                trial.info.append(f"run {ids[-1]} has no journal line after a kill; started a new run")
            args = ["failover", str(sandbox.playbook), "--yes"]
        else:
            args = ["resume", ids[-1], "--yes"]
        kill, code = driver.run_and_kill(args, point)
        trial.processes.append((args[0], code))
        if kill is not None:
            trial.kills.append(kill)
        if args[0] == "resume" and code in (ExitCode.NOT_FOUND, ExitCode.JOURNAL):
            trial.notes.append(f"resume refused (exit {code}): see {driver.workdir}")
            break
    trial.run_id = driver.run_ids()[-1] if driver.run_ids() else None
    journal = read_journal(driver.journal_path())
    started = [r for r in driver.run_ids() if read_journal(driver.workdir / ".drctl" / "runs" / r / "journal.jsonl")]
    if len(started) > 1:
        trial.notes.append(f"{len(started)} runs for one failover: {', '.join(started)}")
    requests = sandbox.admin.requests()
    if len(requests) >= LOG_SIZE:
        trial.notes.append("the sandbox request log is full: counts may miss the oldest requests")
    trial.verdict = count_once(sandbox.expected, requests, sandbox.admin.webhooks(), sandbox.admin.emails(), journal)
    trial.verdict.wrong_state += judge_end(sandbox.expected, sandbox.admin.state(), journal, requests)
    if trial.run_id is not None:
        verify = drctl(["runs", "verify", trial.run_id], sandbox.run_env(driver.home), workdir)
        trial.verified = verify.returncode == 0  # its exit code is the contract, not its wording
        if not trial.verified:
            trial.info.append(f"drctl runs verify (exit {verify.returncode}): {(verify.stdout + verify.stderr)[-600:]}")
    trial.seconds = time.monotonic() - began
    return trial
