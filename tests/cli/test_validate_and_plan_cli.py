"""The offline commands as users run them: real subprocesses, exit codes, and what they print."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from drctl.errors import ExitCode
from tests.conftest import PLAYBOOKS, ROOT, SAMPLE, drctl_command


def drctl(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(drctl_command(*args), capture_output=True, text=True, cwd=cwd, timeout=60, check=False)


def test_validate_accepts_every_shipped_playbook() -> None:
    result = drctl("validate", *sorted(str(p) for p in PLAYBOOKS.glob("*.yaml")))
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert "au-east-to-au-southeast.yaml: valid (16 steps)" in result.stdout


def test_an_invalid_playbook_exits_3_with_located_messages(
    sample_text: str, write_playbook: Callable[[str], Path]
) -> None:
    bad = write_playbook(sample_text.replace("      ttl: 300\n", "      ttl: fast\n"))
    result = drctl("validate", str(SAMPLE), str(bad))
    assert result.returncode == ExitCode.INVALID_PLAYBOOK
    assert f"{bad}:220:12: steps[12].with.ttl: expected a whole number, got 'fast'" in result.stdout
    assert f"{bad}: invalid, 1 error(s)" in result.stdout
    assert "valid (16 steps)" in result.stdout  # the good file is still reported


def test_usage_errors_exit_2_and_differ_from_invalid_playbooks() -> None:
    assert drctl("validate").returncode == ExitCode.USAGE
    assert drctl("validate", "--no-such-option", str(SAMPLE)).returncode == ExitCode.USAGE
    assert drctl("plan", str(SAMPLE), "--format", "pdf").returncode == ExitCode.USAGE
    assert ExitCode.USAGE != ExitCode.INVALID_PLAYBOOK


def test_strict_makes_warnings_fail(sample_text: str, write_playbook: Callable[[str], Path]) -> None:
    slow = write_playbook(sample_text.replace("rto: 1h", "rto: 10m"))
    assert drctl("validate", str(slow)).returncode == ExitCode.OK
    strict = drctl("validate", "--strict", str(slow))
    assert strict.returncode == ExitCode.INVALID_PLAYBOOK
    assert "warning: the critical path" in strict.stdout


def test_validate_json_is_machine_readable(sample_text: str, write_playbook: Callable[[str], Path]) -> None:
    bad = write_playbook(sample_text.replace("uses: standby.scale", "uses: standby.scael"))
    result = drctl("validate", "--format", "json", str(bad))
    report = json.loads(result.stdout)
    assert report["schema"] == "drctl.validate/v1"
    assert report["valid"] is False
    (diagnostic,) = report["files"][0]["diagnostics"]
    assert diagnostic["path"] == "steps[9].uses"
    assert diagnostic["line"] == 184


def test_plan_text_shows_waves_budgets_and_intended_changes() -> None:
    result = drctl("plan", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "au-east (australiaeast) -> au-southeast (australiasoutheast)" in out
    assert "Wave 4 (in parallel)" in out
    assert "DNS api.wallet.example.com A -> 20.70.20.20, TTL 300" in out
    assert "scale set vmss-wallet-workers-aus (rg-wallet-aus): capacity -> at least 5" in out
    assert "Critical path: 15m40s of budgets, 26% of the RTO (44m20s to spare)" in out


def test_plan_reverse_moves_dns_back_to_the_source() -> None:
    out = drctl("plan", str(SAMPLE), "--direction", "reverse").stdout
    assert "DNS api.wallet.example.com A -> 20.53.10.10, TTL 300" in out
    assert "sql-wallet-aue (australiaeast) becomes Primary" in out
    failback = drctl("plan", str(SAMPLE), "--mode", "failback").stdout
    assert "failback: au-southeast (australiasoutheast) -> au-east (australiaeast)" in failback


def test_plan_markdown_is_fit_for_a_change_request() -> None:
    out = drctl("plan", str(SAMPLE), "--format", "md").stdout
    assert out.startswith("# DR plan: wallet-platform (failover)\n")
    for section in ("## Changes this run makes", "## Approvals", "## Steps by wave", "## Critical path", "## Sign-off"):
        assert section in out
    assert "- **dns-swap**: DNS api.wallet.example.com A -> 20.70.20.20, TTL 300" in out
    assert "| 7 | `dns-swap` | dns.swap | yes | 2m | 12m40s → 14m40s | 24% | yes | abort, 3 attempts |" in out


def test_plan_json_has_a_versioned_schema() -> None:
    plan = json.loads(drctl("plan", str(SAMPLE), "--format", "json").stdout)
    assert plan["schema"] == "drctl.plan/v1"
    assert plan["critical_path"]["seconds"] == 940
    steps = [s for wave in plan["waves"] for s in wave]
    assert len(steps) == 15
    dns = next(s for s in steps if s["id"] == "dns-swap")
    assert dns["mutating"] is True
    assert dns["needs"] == ["target-health"]


def test_plan_of_an_invalid_playbook_exits_3_before_anything(
    sample_text: str, write_playbook: Callable[[str], Path]
) -> None:
    bad = write_playbook(sample_text.replace("needs: [target-health]", "needs: [approve-failover]"))
    result = drctl("plan", str(bad))
    assert result.returncode == ExitCode.INVALID_PLAYBOOK
    assert "DNS could move before the target database is promoted" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["validate", str(SAMPLE)],
        ["plan", str(SAMPLE)],
        ["plan", str(SAMPLE), "--format", "md"],
    ],
    ids=["help", "validate", "plan", "plan-md"],
)
def test_offline_commands_import_no_azure_sdk(args: list[str]) -> None:
    probe = (
        "import sys\n"
        "from drctl.cli.main import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m for m in sys.modules if m == 'azure' or m.startswith('azure.'))\n"
        "print('AZURE:' + ','.join(loaded), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [*drctl_command()[:1], "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )
    assert "AZURE:\n" in result.stderr, result.stderr[-500:]
