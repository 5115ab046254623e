"""The run's final line carries the journal's anchored head, and `runs verify` detects a cut-off end from the
command line (exit 7); before, the cut journal verified `ok`."""

from __future__ import annotations

import re
from pathlib import Path

from drctl.errors import ExitCode
from tests.cli.run_helpers import Sandbox

OK = (
    "  - {id: a, uses: test.record, with: {file: '{record}'}}\n"
    "  - {id: b, uses: test.record, with: {file: '{record}'}}\n"
)


def test_the_final_line_carries_the_head_and_verify_catches_a_cut(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.write(OK)
    result = box.drctl("failover", str(box.playbook))
    assert result.returncode == 0, result.stderr
    (run_id,) = box.run_ids()
    journal = box.state / "runs" / run_id / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    found = re.search(
        rf"journal: {re.escape(str(journal))} \((\d+) lines, head sha256 ([0-9a-f]{{16}})\)", result.stderr
    )
    assert found, result.stderr
    assert int(found.group(1)) == len(lines)

    assert box.drctl("runs", "verify", run_id).returncode == 0
    journal.write_bytes(b"".join(lines[:-1]))
    verified = box.drctl("runs", "verify", run_id)
    assert verified.returncode == ExitCode.JOURNAL
    assert "cut short" in verified.stdout
    status = box.drctl("status", run_id)
    assert "BROKEN journal" in status.stdout
    assert f"drctl resume {run_id}" not in status.stdout
