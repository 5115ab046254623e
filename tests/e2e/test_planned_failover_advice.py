"""A planned-only SQL failover in an outage says what can help (issue 11, item 4): not "resume" (the same step
fails the same way while the source is down) but the mode that may force behind the RPO gate, and the resume
command that takes the changed playbook."""

from __future__ import annotations

import re

import pytest

from drctl.errors import ExitCode
from tests.e2e.conftest import Rehearsal

pytestmark = pytest.mark.slow

PLANNED_THEN_FORCED = "with: {mode: planned-then-forced, replication_url_group: fg-wallet}"


def test_a_planned_failover_in_an_outage_advises_the_forcing_mode_not_a_plain_resume(rehearsal: Rehearsal) -> None:
    r = rehearsal
    text = r.playbook.read_text()
    assert PLANNED_THEN_FORCED in text
    r.playbook.write_text(text.replace(PLANNED_THEN_FORCED, "with: {mode: planned, replication_url_group: fg-wallet}"))
    r.sandbox.set_region("au-east", up=False)

    result = r.failover("--yes")

    assert result.returncode == ExitCode.STEP_FAILED, result.stdout[-3000:] + result.stderr[-2000:]
    run_id = r.run_ids()[-1]
    failed = [e for e in r.journal() if e["type"] == "step.failed" and e["step"] == "promote-database"]
    assert failed, result.stdout[-3000:]
    error = failed[-1]["error"]
    assert "mode planned never forces" in error
    assert "set with: {mode: planned-then-forced} on step promote-database" in error
    assert "RPO gate" in error
    assert f'drctl resume {run_id} --force --reason "..."' in error
    assert "--sandbox-fault" not in error
    assert "set with: {mode: planned-then-forced} on step promote-database" in result.stdout  # shown live too
    # the last word sends the operator to that error, and never claims a plain resume will do
    last = result.stderr.strip().splitlines()
    assert any(re.search(rf"see `drctl status {run_id}`; once the cause is dealt with", line) for line in last)
    assert r.primary() == "sql-wallet-aue"  # nothing was forced
