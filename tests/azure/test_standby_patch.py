"""standby.patch end to end: the real action, drctl's real Azure clients, a sandbox over HTTPS.

Before the fix every run failed on its first read: ``get_by_id()`` was given ``api_version`` positionally, which
azure-mgmt-resource 26 takes by keyword only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drctl.core.clock import SystemClock
from drctl.engine import events as ev
from drctl.engine.journal import read_journal
from drctl.engine.operator import Unattended
from drctl.engine.runplan import build_run_plan
from drctl.engine.session import Host, RunOptions, RunRequest, start_planned
from drctl.errors import ExitCode
from drctl.planning.load import load_playbook
from drctl.playbook.enums import Mode
from drctl.sandbox import Sandbox
from drctl.sandbox.testing import running_sandbox

PLAYBOOK = """\
version: 1
name: patch-app
objectives: {{rto: 1h, rpo: 15m}}
azure: {{subscription: "{subscription}"}}
direction: {{source: east, target: west}}
regions:
  east: {{location: australiaeast, resource_group: rg-wallet-aue}}
  west: {{location: australiasoutheast, resource_group: rg-wallet-ause}}
steps:
  - id: tag-site
    uses: standby.patch
    with:
      resource_id: {site}
      api_version: "2022-03-01"
      body: {{tags: {{dr: serving}}}}
  - id: scale-workers
    uses: standby.patch
    with:
      resource_id: {vmss}
      api_version: "2024-07-01"
      body: {{sku: {{capacity: 6}}}}
"""


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(workdir=tmp_path / "sandbox") as sb:
        yield sb


def _ids(sb: Sandbox) -> tuple[str, str]:
    base = f"/subscriptions/{sb.subscription_id}/resourceGroups/rg-wallet-ause/providers"
    return (
        f"{base}/Microsoft.Web/sites/app-wallet-api-ause",
        f"{base}/Microsoft.Compute/virtualMachineScaleSets/vmss-wallet-workers-ause",
    )


def _run(sb: Sandbox, tmp_path: Path) -> Any:
    from drctl.azure.clients import AzureClients
    from drctl.azure.config import load_config

    site, vmss = _ids(sb)
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "patch.yaml"
    path.write_text(PLAYBOOK.format(subscription=sb.subscription_id, site=site, vmss=vmss))
    env = sb.env()
    clients = AzureClients(load_config(playbook_subscription=sb.subscription_id, environ=env))

    def register(services: Any, _plan: Any) -> None:
        services.register("azure", lambda: clients)

    plan = build_run_plan(load_playbook(path), Mode.FAILOVER, env)
    host = Host(clock=SystemClock(), operator=Unattended(), environ=env, register_services=register)
    request = RunRequest(playbook=path, mode=Mode.FAILOVER, options=RunOptions(state_dir=tmp_path / "state"))
    try:
        return start_planned(plan, request, host)
    finally:
        clients.close()


def _patches(sb: Sandbox) -> list[dict[str, Any]]:
    return [r for r in sb.client().requests() if r.get("method") == "PATCH" and r.get("service") == "arm"]


def test_standby_patch_patches_reads_back_and_is_a_no_op_the_second_time(sandbox: Sandbox, tmp_path: Path) -> None:
    first = _run(sandbox, tmp_path / "one")
    events = read_journal(first.journal).events()
    failed = [e for e in events if isinstance(e, ev.StepFailed)]
    assert first.outcome.exit_code is ExitCode.OK, failed
    summaries = {e.step: e.summary for e in events if isinstance(e, ev.StepSucceeded)}
    assert summaries["tag-site"].endswith("patched and verified")
    assert sandbox.snapshot()["scale_sets"]["vmss-wallet-workers-ause"]["capacity"] == 6
    assert len(_patches(sandbox)) == 2  # one PATCH per resource, no retry

    again = _run(sandbox, tmp_path / "two")
    assert again.outcome.exit_code is ExitCode.OK
    summaries = {e.step: e.summary for e in read_journal(again.journal).events() if isinstance(e, ev.StepSucceeded)}
    assert summaries == {
        "tag-site": f"{_ids(sandbox)[0]}: already in the desired state",
        "scale-workers": f"{_ids(sandbox)[1]}: already in the desired state",
    }
    assert len(_patches(sandbox)) == 2  # read back, nothing patched twice
