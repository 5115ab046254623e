"""Kill the sample failover (SIGKILL, SIGINT twice, SIGHUP) inside every long-running operation, between an Azure
write and its verification, and at seeded random moments; resume (killing some resumes too) until the run ends;
then the sandbox's request log and sinks must show exactly one of each change and message, the estate must be
failed over and the journal must verify. And two runs of one playbook from two directories: one runs, one is
refused.

A bounded number of kills here (the file runs in about 90 s on 2 cores); ``benchmarks/crash_harness.py`` runs many
more. Every failure names the seed: ``DRCTL_CRASH_SEED=<seed> pytest tests/crash/test_crash_harness.py``.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from drctl.errors import ExitCode
from tests.crash.harness import CrashSandbox, Trial, read_journal, run_trial
from tests.crash.points import KillPoint
from tests.crash.tally import count_once, mutation_counts

pytestmark = pytest.mark.slow

SEED = int(os.environ.get("DRCTL_CRASH_SEED") or random.SystemRandom().randrange(1, 2**31))

#: each schedule aims at windows the others do not: the first kill goes to the failover, the next to its resume
SCHEDULES = {
    "sigkill-inside-the-sql-failover": [KillPoint("request", "sql.failover", "SIGKILL", 0.5)],
    "sighup-inside-the-scale-set-update-then-ctrl-c-twice-between-dns-write-and-check": [
        KillPoint("request", "vmss.update", "SIGHUP", 0.5),
        KillPoint("request", "dns.write", "SIGINT2", 0.1),
    ],
    "sigkill-after-the-dns-change-is-journaled-then-the-resume-mid-message": [
        KillPoint("event", "fact:dns.changed", "SIGKILL"),
        KillPoint("request", "sink.webhook", "SIGKILL"),
    ],
}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrashSandbox]:
    box = CrashSandbox.start(tmp_path_factory.mktemp("crash"))
    try:
        yield box
    finally:
        box.stop()


def explain(trial: Trial, rerun: str) -> str:
    return f"seed {trial.seed} (rerun: {rerun})\n{trial.report()}"


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_a_run_killed_in_a_window_that_matters_changes_and_says_everything_exactly_once(
    sandbox: CrashSandbox, tmp_path: Path, name: str
) -> None:
    trial = run_trial(sandbox, tmp_path / "run", index=0, seed=SEED, points=SCHEDULES[name])
    rerun = f"pytest tests/crash/test_crash_harness.py -k {name}"
    assert [k.landed for k in trial.kills] == [True] * len(SCHEDULES[name]), explain(trial, rerun)
    assert trial.ended_right, explain(trial, rerun)


def test_seeded_random_kills_change_and_say_everything_exactly_once(sandbox: CrashSandbox, tmp_path: Path) -> None:
    trial = run_trial(sandbox, tmp_path / "run", index=0, seed=SEED, kills=2)
    rerun = f"DRCTL_CRASH_SEED={SEED} pytest tests/crash/test_crash_harness.py -k seeded"
    assert trial.landed, explain(trial, rerun)
    assert trial.ended_right, explain(trial, rerun)


def test_two_runs_of_one_playbook_from_two_directories_give_one_run_and_one_refusal(
    sandbox: CrashSandbox, tmp_path: Path
) -> None:
    """Two terminals, two checkouts, one machine, one application: the lock is the application's, not the
    working directory's."""
    sandbox.prepare()
    home = tmp_path / "home"  # one machine: one HOME, two working directories
    env = sandbox.run_env(home)
    runs = []
    for name in ("checkout-a", "checkout-b"):
        work = tmp_path / name
        work.mkdir()
        runs.append(
            subprocess.Popen(
                [sys.executable, "-m", "drctl", "failover", str(sandbox.playbook), "--yes"],
                cwd=work,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
            )
        )
    outputs = [p.communicate(timeout=120) for p in runs]
    codes = sorted(p.returncode for p in runs)
    said = "\n".join(f"exit {p.returncode}: {err[-800:]}" for p, (_, err) in zip(runs, outputs, strict=True))
    requests = sandbox.admin.requests()
    failovers = mutation_counts(requests)[("sql.failover", sandbox.expected.failover_group)]
    assert failovers == 1, f"{failovers} failover POSTs\n{said}"
    assert codes == [ExitCode.OK, ExitCode.LOCKED], said
    refused = next(err for p, (_, err) in zip(runs, outputs, strict=True) if p.returncode == ExitCode.LOCKED)
    (ran,) = [tmp_path / n for n, p in zip(("checkout-a", "checkout-b"), runs, strict=True) if p.returncode == 0]
    (run_id,) = [p.name for p in (ran / ".drctl" / "runs").iterdir()]
    assert run_id in refused, refused  # the refusal says who holds the lock
    journal = read_journal(ran / ".drctl" / "runs" / run_id / "journal.jsonl")
    verdict = count_once(sandbox.expected, requests, sandbox.admin.webhooks(), sandbox.admin.emails(), journal)
    assert verdict.exactly_once, verdict.lines()
