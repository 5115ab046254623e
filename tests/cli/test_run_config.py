"""A run's configuration is a value, and its playbook is read once (issue 12, items 4 and 6).

``failover --sandbox`` and ``resume --sandbox`` run in this process, so the test sees what they do to
``os.environ`` (nothing: the sandbox's settings reach the run as values) and how often they read the playbook
file (once each: the sandbox is seeded from, and the engine runs, the text the CLI read).
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drctl.errors import ExitCode
from tests.conftest import SAMPLE

#: every ARM read fails: the run stops within seconds, before anything changes, and resume meets it again
FAULT = "kind=error,op=arm.read,times=null,status=400,code=Refused"


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Each read of a playbook file, by path: every way of loading one reads its bytes through ``read_bounded``."""
    from drctl.planning import load

    seen: list[Path] = []
    real = load.read_bounded

    def counting(file: Path) -> bytes:
        seen.append(Path(file).resolve())
        return real(file)

    monkeypatch.setattr(load, "read_bounded", counting)
    return seen


@pytest.fixture
def own_signals() -> Iterator[None]:
    """A run installs its signal handlers (pause on Ctrl-C): put pytest's back afterwards."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def drctl(*args: str) -> int:
    from drctl.cli.main import main

    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def journal(state: Path) -> tuple[str, list[dict[str, Any]]]:
    (run,) = (state / "runs").iterdir()
    lines = (run / "journal.jsonl").read_text().splitlines()
    return run.name, [json.loads(line) for line in lines]


@pytest.fixture
def environ_at_the_end(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    """``os.environ`` as each run ends, while its sandbox still serves (restoring it afterwards is not enough: the
    process's other threads and children would have seen the sandbox's settings for the whole run)."""
    from drctl.cli import run_cmd

    seen: list[dict[str, str]] = []
    real = run_cmd._finish

    def finish(result: Any) -> None:
        seen.append(dict(os.environ))
        real(result)

    monkeypatch.setattr(run_cmd, "_finish", finish)
    return seen


@pytest.mark.usefixtures("own_signals")
def test_a_sandbox_run_and_its_resume_leave_the_environment_alone_and_read_the_playbook_once(
    tmp_path: Path, reads: list[Path], environ_at_the_end: list[dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    before = dict(os.environ)

    code = drctl("failover", str(SAMPLE), "--sandbox", "--yes", "--state-dir", str(state), "--sandbox-fault", FAULT)

    out, err = capsys.readouterr()
    assert code == ExitCode.STEP_FAILED, err[-3000:]
    # the run did reach the sandbox (its fault failed the step), with no sandbox setting exported for it
    assert "Refused" in out + err
    assert environ_at_the_end == [before]
    assert dict(os.environ) == before
    assert reads.count(SAMPLE.resolve()) == 1

    run_id, entries = journal(state)
    began = entries[0]["environment"]
    reads.clear()

    code = drctl("resume", run_id, "--sandbox", "--yes", "--state-dir", str(state))

    err = capsys.readouterr().err
    # not refused as another estate or a changed playbook (exit 9): the same fault fails the same step again
    assert code == ExitCode.STEP_FAILED, err[-3000:]
    assert environ_at_the_end == [before, before]
    assert dict(os.environ) == before
    assert reads.count(SAMPLE.resolve()) == 1
    _, entries = journal(state)
    resumed = [e for e in entries if e["type"] == "run.resumed"]
    assert resumed[-1]["playbook_sha256"] == entries[0]["playbook_sha256"]
    assert resumed[-1]["environment"]["estate_sha256"] == began["estate_sha256"]


@pytest.mark.usefixtures("own_signals")
def test_resume_still_refuses_a_playbook_changed_since_the_run_began(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    playbook = tmp_path / "playbook.yaml"
    playbook.write_text(SAMPLE.read_text())
    code = drctl("failover", str(playbook), "--sandbox", "--yes", "--state-dir", str(state), "--sandbox-fault", FAULT)
    assert code == ExitCode.STEP_FAILED, capsys.readouterr().err[-3000:]
    run_id, _ = journal(state)
    playbook.write_text(SAMPLE.read_text() + "\n# reviewed again\n")
    capsys.readouterr()

    code = drctl("resume", run_id, "--sandbox", "--yes", "--state-dir", str(state))

    err = capsys.readouterr().err
    assert code == ExitCode.NOT_FOUND, err[-3000:]
    assert "changed since the run began" in err
