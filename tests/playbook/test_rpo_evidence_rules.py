"""What validate, plan and drill decide from the playbook alone about RPO evidence and storage failover."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from drctl.planning.drill_rules import forcing_steps
from drctl.planning.load import check_file, load_playbook

STORAGE_STEP = """
  - id: fail-over-storage
    uses: storage.failover
    needs: [approve-failover]
    with: {{mode: {mode}}}
"""


def with_storage(text: str, mode: str) -> str:
    anchor = "\n  - id: start-web-apps\n"
    return text.replace(anchor, STORAGE_STEP.format(mode=mode) + anchor, 1)


def messages(path: Path) -> list[tuple[str, str]]:
    return [(d.severity, d.message) for d in check_file(path).diagnostics]


def test_the_sample_ties_its_evidence_to_its_failover_group(
    sample_text: str, write_playbook: Callable[..., Path]
) -> None:
    assert messages(write_playbook(sample_text)) == []


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        (", replication_url_group: fg-wallet}", "}", "replication_url_group is not set"),
        ("planned-then-forced, replication_url_group: fg-wallet}", "forced, replication_url_group: fg-wallet}", None),
        (
            "planned-then-forced, replication_url_group: fg-wallet}",
            "planned-then-forced, replication_url_group: fg-wallet, rpo_evidence: []}",
            "rpo_evidence leaves out 'app'",
        ),
    ],
)
def test_a_step_that_can_force_without_evidence_about_its_group_is_flagged(
    sample_text: str, write_playbook: Callable[..., Path], old: str, new: str, why: str | None
) -> None:
    assert old in sample_text
    found = messages(write_playbook(sample_text.replace(old, new)))
    if why is None:
        assert found == [], "forced with tied evidence is fine"
        return
    (warning,) = found
    assert warning[0] == "warning"
    assert "can force a failover of fg-wallet without RPO evidence about it" in warning[1]
    assert why in warning[1]


def test_storage_evidence_cannot_gate_a_sql_failover(sample_text: str, write_playbook: Callable[..., Path]) -> None:
    text = sample_text.replace(
        "planned-then-forced, replication_url_group: fg-wallet}",
        "planned-then-forced, replication_url_group: fg-wallet, rpo_evidence: [app, storage]}",
    )
    found = messages(write_playbook(text))
    assert any(s == "error" and "never about a failover group" in m for s, m in found), found


def test_evidence_tied_to_another_group_is_refused(sample_text: str, write_playbook: Callable[..., Path]) -> None:
    text = sample_text.replace("with: {replication_url_group: fg-wallet}", "with: {replication_url_group: fg-other}")
    found = messages(write_playbook(text))
    assert any("replication_url_group 'fg-other' is not the estate's failover group" in m for _, m in found), found


@pytest.mark.parametrize(
    ("mode", "refused"), [("planned", False), ("planned-then-unplanned", False), ("unplanned", True)]
)
def test_a_drill_runs_a_planned_storage_failover_and_refuses_an_unplanned_one(
    sample_text: str, write_playbook: Callable[..., Path], mode: str, refused: bool
) -> None:
    loaded = load_playbook(write_playbook(with_storage(sample_text, mode)))
    found = [s for s in forcing_steps(loaded) if s.startswith("fail-over-storage")]
    assert bool(found) == refused, found
