"""Resume with the disk still full (issue 11, item 6): a clear error (what, where, what to do), exit 7, no
traceback, and the journal exactly as it was, so that the same command works once there is space."""

from __future__ import annotations

import resource
import signal
import subprocess
from pathlib import Path

import pytest

from drctl.errors import ExitCode
from tests.cli.run_helpers import Sandbox, assert_never_repeated_blindly
from tests.conftest import drctl_command

pytestmark = pytest.mark.slow

STEP = "  - {{id: s{i}, uses: test.record, with: {{file: '{{record}}', mutating: true}}}}\n"
THREE = "".join(STEP.format(i=i) for i in range(3))
#: the bytes a disk-full write left of a line: more than a small file-size limit lets anyone write again
TORN = b'{"type": "step.started", "step": "s1", "pad": "' + b"x" * 3000


def crashed_with_a_torn_line(tmp_path: Path) -> tuple[Sandbox, str, Path]:
    box = Sandbox(tmp_path)
    box.write(THREE)
    killed = box.drctl("failover", str(box.playbook), DRCTL_TEST_KILL_AFTER_LINE="5")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (run_id,) = box.run_ids()
    journal = box.state / "runs" / run_id / "journal.jsonl"
    with journal.open("ab") as out:  # the half-written line a full disk leaves behind
        out.write(TORN)
    return box, run_id, journal


def resume_on_a_full_disk(box: Sandbox, run_id: str, limit: int) -> subprocess.CompletedProcess[str]:
    def full_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, as on a full disk, not a killed process

    return subprocess.run(
        drctl_command("resume", run_id),
        capture_output=True,
        text=True,
        cwd=box.root,
        env=box.env(PYTHONDONTWRITEBYTECODE="1"),
        preexec_fn=full_disk,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def assert_refused_cleanly(result: subprocess.CompletedProcess[str], what: str) -> None:
    assert result.returncode == ExitCode.JOURNAL, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr + result.stdout
    assert what in result.stderr
    assert "File too large" in result.stderr
    assert "hint: free space" in result.stderr


@pytest.mark.parametrize(
    ("limit", "what"),
    [
        # nothing at all can be written: the lock is the first write
        (0, "cannot write the lock"),
        # the lock fits, the copy of the torn line does not: it is never cut off without its copy
        (1000, "cannot set aside the half-written last line"),
    ],
)
def test_resume_on_a_still_full_disk_says_so_and_leaves_the_journal_as_it_was(
    tmp_path: Path, limit: int, what: str
) -> None:
    box, run_id, journal = crashed_with_a_torn_line(tmp_path)
    before = journal.read_bytes()
    entries = box.entries()

    refused = resume_on_a_full_disk(box, run_id, limit)

    assert_refused_cleanly(refused, what)
    assert journal.read_bytes() == before
    assert not list(journal.parent.glob("*.torn-line-*"))  # no partial copy that would pass for the evidence
    assert box.entries() == entries  # no step ran

    # with space again, the same command takes the run up: the torn line set aside, every step done once
    resumed = box.drctl("resume", run_id)
    assert resumed.returncode == ExitCode.OK, resumed.stdout[-2000:] + resumed.stderr[-2000:]
    assert "cut off torn line 6" in resumed.stdout
    (saved,) = journal.parent.glob("*.torn-line-6")
    assert saved.read_bytes() == TORN
    assert_never_repeated_blindly(box.entries(), ["s0", "s1", "s2"])
    assert box.drctl("runs", "verify", run_id).returncode == 0
