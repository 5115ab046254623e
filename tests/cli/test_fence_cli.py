"""fence.source as validate and plan see it, offline, and ``drctl fence`` on what it cannot fence: real subprocesses,
exit codes and what they print."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from drctl.errors import ExitCode
from tests.conftest import ROOT, drctl_command

FENCE_STEP = """
  - id: fence-old-primary
    name: Fence the old primary
    uses: fence.source
    needs: [{needs}]
{extra}"""
ANCHOR = "\n  - id: phase-standby-ready\n"


def drctl(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(drctl_command(*args), capture_output=True, text=True, cwd=cwd, timeout=60, check=False)


def with_fence(text: str, needs: str = "promote-database", extra: str = "") -> str:
    assert ANCHOR in text
    return text.replace(ANCHOR, FENCE_STEP.format(needs=needs, extra=extra) + ANCHOR, 1)


def test_plan_lists_what_would_be_fenced_and_imports_no_azure_sdk(
    sample_text: str, write_playbook: Callable[[str], Path]
) -> None:
    playbook = write_playbook(with_fence(sample_text))
    probe = (
        "import sys\n"
        "from drctl.cli.main import main\n"
        "try:\n"
        f"    main(['plan', {str(playbook)!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m for m in sys.modules if m == 'azure' or m.startswith('azure.'))\n"
        "print('AZURE:' + ','.join(loaded), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [*drctl_command()[:1], "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )
    assert "AZURE:\n" in result.stderr, result.stderr[-500:]
    for item in ("web_app app-wallet-api-aue", "web_app app-wallet-portal-aue", "scale_set vmss-wallet-workers-aue"):
        assert f"fence {item} in au-east" in result.stdout, result.stdout
    assert drctl("validate", str(playbook)).returncode == ExitCode.OK


def test_a_fence_step_that_could_run_before_the_failover_is_refused(
    sample_text: str, write_playbook: Callable[[str], Path]
) -> None:
    playbook = write_playbook(with_fence(sample_text, needs="approve-failover"))
    result = drctl("validate", str(playbook))
    assert result.returncode == ExitCode.INVALID_PLAYBOOK, result.stdout
    assert "this fence step could run before the failover step 'promote-database'" in result.stdout
    assert "make it need 'promote-database'" in result.stdout


def test_an_unknown_kind_is_refused(sample_text: str, write_playbook: Callable[[str], Path]) -> None:
    playbook = write_playbook(with_fence(sample_text, extra="    with: {kinds: [web_apps]}\n"))
    result = drctl("validate", str(playbook))
    assert result.returncode == ExitCode.INVALID_PLAYBOOK
    assert "no family fences items of kind 'web_apps'" in result.stdout


def test_fence_of_no_such_run_exits_9(tmp_path: Path) -> None:
    result = drctl("fence", "nope", "--state-dir", str(tmp_path / "state"))
    assert result.returncode == ExitCode.NOT_FOUND, result.stdout + result.stderr
