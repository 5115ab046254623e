"""A failover whose traffic switch is Traffic Manager: `drctl failover` on the sandbox moves the profile's name to
the target, and `dig` at the sandbox's DNS server sees it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from drctl.errors import ExitCode
from drctl.sandbox import Sandbox, estate_from_playbook
from tests.e2e.conftest import Rehearsal, fast_sample
from tests.trafficmanager_playbook import ENDPOINTS, FQDN, GROUP, PROFILE, TARGETS

pytestmark = pytest.mark.slow

SWITCH = (
    "    uses: dns.swap\n    needs: [target-health]\n    budget: 2m\n    retry: {attempts: 3, backoff: 1s}\n"
    "    with:\n      ttl: 300\n"
)


def _playbook_text() -> str:
    text = fast_sample()
    assert SWITCH in text
    # the sample's traffic switch, through Traffic Manager instead of DNS records
    text = text.replace(SWITCH, "    uses: trafficmanager.switch\n    needs: [target-health]\n    budget: 2m\n")
    data = yaml.safe_load(text)
    data["traffic_manager"] = {"profile": PROFILE, "resource_group": GROUP}
    for key, name in ENDPOINTS.items():
        data["regions"][key]["traffic_manager_endpoint"] = name
    return yaml.safe_dump(data, sort_keys=False)


def _rehearsal(tmp_path: Path, *, reverse: bool) -> Iterator[Rehearsal]:
    playbook = tmp_path / "wallet-tm.yaml"
    playbook.write_text(_playbook_text())
    work = tmp_path / "work"
    work.mkdir()
    sandbox = Sandbox.start(estate_from_playbook(playbook, reverse=reverse), workdir=tmp_path / "sandbox")
    try:
        yield Rehearsal(sandbox, work, playbook)
    finally:
        sandbox.stop()


@pytest.fixture
def tm_rehearsal(tmp_path: Path) -> Iterator[Rehearsal]:
    yield from _rehearsal(tmp_path, reverse=False)


@pytest.fixture
def tm_failback(tmp_path: Path) -> Iterator[Rehearsal]:
    yield from _rehearsal(tmp_path, reverse=True)


def _dig(r: Rehearsal) -> list[str]:
    host, port = r.sandbox.dns_address
    dug = subprocess.run(
        ["dig", f"@{host}", "-p", str(port), "+short", "+tries=1", "+time=2", FQDN],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    return dug.stdout.split()


def test_a_failover_switches_the_traffic_manager_name_to_the_target(tm_rehearsal: Rehearsal) -> None:
    r = tm_rehearsal
    assert r.answer(FQDN, "CNAME") == ([TARGETS["au-east"]], 60)
    result = r.failover("--yes")
    assert result.returncode == ExitCode.OK, result.stdout[-3000:] + result.stderr[-3000:]
    assert r.primary() == "sql-wallet-aus"
    endpoints = r.sandbox.snapshot()["traffic_manager"][PROFILE]["endpoints"]
    assert endpoints[ENDPOINTS["au-southeast"]]["status"] == "Enabled"
    assert endpoints[ENDPOINTS["au-east"]]["status"] == "Disabled"
    assert r.answer(FQDN, "CNAME") == ([TARGETS["au-southeast"]], 60)
    (restored,) = r.facts("service.restored")
    assert restored["by"] == "trafficmanager.switch"
    assert restored["previous_ttl_seconds"] == 60
    patches = [m for m in r.mutations() if "trafficmanagerprofiles" in m["path"].lower()]
    assert len(patches) == 2
    # the report's Traffic Manager section tells the change and the verification
    markdown = r.drctl("report", r.run_ids()[-1]).stdout
    section = markdown.split("## Traffic Manager", 1)[1].split("\n## ", 1)[0]
    assert f"{PROFILE}/{ENDPOINTS['au-southeast']} (au-southeast): Disabled priority 2 -> Enabled priority 2" in section
    assert f"{FQDN} answers {TARGETS['au-southeast']}" in section
    if shutil.which("dig") is None:
        pytest.skip("dig is not installed (apt-get install dnsutils): the dnspython check above stands")
    assert _dig(r) == [f"{TARGETS['au-southeast']}."]


def test_a_failback_switches_the_name_home(tm_failback: Rehearsal) -> None:
    r = tm_failback
    # as a failover left it: the target's endpoint enabled, the source's disabled
    assert r.answer(FQDN, "CNAME") == ([TARGETS["au-southeast"]], 60)
    result = r.drctl("failback", str(r.playbook), "--yes")
    assert result.returncode == ExitCode.OK, result.stdout[-3000:] + result.stderr[-3000:]
    endpoints = r.sandbox.snapshot()["traffic_manager"][PROFILE]["endpoints"]
    assert endpoints[ENDPOINTS["au-east"]]["status"] == "Enabled"
    assert endpoints[ENDPOINTS["au-southeast"]]["status"] == "Disabled"
    assert r.answer(FQDN, "CNAME") == ([TARGETS["au-east"]], 60)
    if shutil.which("dig") is None:
        pytest.skip("dig is not installed (apt-get install dnsutils): the dnspython check above stands")
    assert _dig(r) == [f"{TARGETS['au-east']}."]
