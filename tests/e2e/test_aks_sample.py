"""The second sample, shaped like the platform in the operations appendix (issue 13): an AKS app tier behind Azure
Front Door, an Azure SQL failover group and RA-GRS storage, fenced after a forced failover, returned to warm standby
after a drill. Real drctl processes drive the real SDKs against a sandbox that outlives them, so what the runs left
behind is read afterwards as an operator would: Deployments through the official ``kubernetes`` client, the public
Front Door host name over HTTPS, and every mutation counted by operation kind in the sandbox's request log."""

from __future__ import annotations

import json
import os
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drctl.errors import ExitCode
from drctl.net.config import NetworkConfig
from drctl.net.http import Client
from tests.aks import kube_apps
from tests.conftest import ROOT
from tests.e2e.conftest import Rehearsal, rehearsal_of, wait_for

pytestmark = pytest.mark.slow

AKS_SAMPLE = ROOT / "playbooks" / "wallet-aks.yaml"
#: the sample with fewer samples, short back-offs and a short drill hold: these tests are about what the runs do
FAST = {
    "samples: 5\n": "samples: 2\n",
    "samples: 3}": "samples: 2}",
    "retry: {attempts: 2, backoff: 30s}": "retry: {attempts: 2, backoff: 1s}",
    "retry: {attempts: 5, backoff: 10s}": "retry: {attempts: 5, backoff: 1s}",
    "retry: {attempts: 3, backoff: 5s}": "retry: {attempts: 3, backoff: 1s}",
    "max_p95: 500ms\n": "max_p95: 5s\n",
    "hold: 10m\n": "hold: 2s\n",
    "probe_interval: 1m\n": "probe_interval: 1s\n",
}
SOURCE = ("rg-wallet-aks-aue", "aks-wallet-aue")
TARGET = ("rg-wallet-aks-aus", "aks-wallet-aus")
DEPLOYMENTS = {("wallet", "wallet-api"): 10, ("wallet", "ledger-worker"): 5}
#: the DR region as the sandbox seeds it: a stopped cluster, pools at 1 node, one replica per Deployment
WARM_STANDBY = {
    "power_state": "Stopped",
    "pools": {"system": 1, "apps": 1},
    "replicas": {"wallet/wallet-api": 1, "wallet/ledger-worker": 1},
}
#: the operations that change the app tier and its traffic (ARM and the clusters' Kubernetes APIs)
WRITES = ("aks.start", "aks.stop", "aks.pool.scale", "k8s.scale", "afd.origin.update", "sql.failover")


@pytest.fixture
def aks(tmp_path: Path) -> Iterator[Rehearsal]:
    text = AKS_SAMPLE.read_text()
    for old, new in FAST.items():
        assert old in text, old
        text = text.replace(old, new)
    with rehearsal_of(tmp_path, text, "wallet-aks.yaml") as r:
        yield r


def writes(r: Rehearsal) -> Counter[str]:
    return Counter(q["op"] for q in r.sandbox.client().requests() if q.get("op") in WRITES)


def cluster(r: Rehearsal, name: str) -> dict[str, Any]:
    state = r.sandbox.snapshot()["aks_clusters"][name]
    return {
        "power_state": state["power_state"],
        "pools": {p: s["count"] for p, s in state["node_pools"].items()},
        "replicas": {d: s["replicas"] for d, s in state["deployments"].items()},
    }


def ready(r: Rehearsal, where: tuple[str, str]) -> dict[tuple[str, str], int]:
    """Each Deployment's ready replicas, asked of the cluster's Kubernetes API by the official client."""
    apps = kube_apps(r.sandbox.env(), *where, subscription=r.sandbox.subscription_id)
    return {
        (ns, name): int(apps.read_namespaced_deployment(name, ns).status.ready_replicas or 0)
        for ns, name in DEPLOYMENTS
    }


def served_by(r: Rehearsal) -> set[str]:
    """The regions that answer a few requests to Front Door's public host name, as clients send them."""
    endpoint = r.sandbox.snapshot()["front_door"]["profiles"]["afd-wallet"]["endpoints"]["wallet-api"]
    client = Client(network=NetworkConfig.from_environ(r.sandbox.env()))
    regions = set()
    for _ in range(3):
        response = client.request("GET", f"https://{endpoint['host_name']}/healthz")
        assert response.status == 200, response.status
        regions.add(json.loads(response.body)["region"])
    return regions


def test_a_planned_failover_brings_the_aks_standby_up_and_front_door_serves_it(aks: Rehearsal) -> None:
    r = aks
    assert served_by(r) == {"au-east"}

    result = r.failover("--yes", timeout=240)

    assert result.returncode == ExitCode.OK, result.stdout[-3000:] + result.stderr[-3000:]
    # 80 % of the source's live replicas (10 -> 8, 5 -> 4), really ready in the target's Kubernetes API
    assert ready(r, TARGET) == {("wallet", "wallet-api"): 8, ("wallet", "ledger-worker"): 4}
    assert cluster(r, TARGET[1])["pools"] == {"system": 3, "apps": 5}
    assert served_by(r) == {"au-southeast"}
    # exactly once: one start, one PUT per pool, one scale per Deployment, one update per origin, one failover
    assert writes(r) == Counter(
        {"aks.start": 1, "aks.pool.scale": 2, "k8s.scale": 2, "afd.origin.update": 2, "sql.failover": 1}
    )
    # a planned failover leaves nothing to fence: the old primary's Deployments still run
    (summary,) = r.facts("fence.summary")
    assert summary["needed"] is False
    assert cluster(r, SOURCE[1])["replicas"] == {"wallet/wallet-api": 10, "wallet/ledger-worker": 5}
    (restored,) = r.facts("service.restored")
    assert restored["by"] == "frontdoor.switch"
    assert restored["propagation_seconds"] >= 5  # the sandbox's Front Door takes 5 s to apply a change

    # and back: failback moves traffic home and returns the DR region to the state the failover found
    back = r.drctl("failback", str(r.playbook), "--yes", timeout=240)

    assert back.returncode == ExitCode.OK, back.stdout[-3000:] + back.stderr[-3000:]
    assert served_by(r) == {"au-east"}
    assert cluster(r, TARGET[1]) == WARM_STANDBY
    assert ready(r, SOURCE) == {("wallet", "wallet-api"): 10, ("wallet", "ledger-worker"): 5}


def test_a_forced_failover_fences_what_it_can_and_drctl_fence_the_rest_once_the_region_answers(
    aks: Rehearsal,
) -> None:
    r = aks
    r.sandbox.set_region("au-east", up=False)

    result = r.failover("--yes", timeout=240)

    assert result.returncode == ExitCode.OK, result.stdout[-3000:] + result.stderr[-3000:]
    assert r.facts("sql.failover")[0]["mode"] == "forced"
    # the source's Kubernetes API did not answer: the playbook sized the Deployments (ARM still answers reads of the
    # lost region from its last known state, so the pools were read); those Deployments stay an open risk. Front
    # Door is global: the old origin was disabled by the switch
    sizing = {f["resource"]: f["source_read"] for f in r.facts("aks.sizing")}
    assert {v for k, v in sizing.items() if "wallet/" in k} == {"playbook"}, sizing
    outcomes = {(f["kind"], f["name"]): f["fenced"] for f in r.facts("fence.item")}
    assert outcomes == {
        ("aks.deployment", "wallet/wallet-api"): False,
        ("aks.deployment", "wallet/ledger-worker"): False,
        ("frontdoor.origin", "origin-aue"): True,
    }
    assert "OPEN RISK: 2 items of the old primary NOT FENCED" in result.stderr
    (run_id,) = r.run_ids()
    assert "OPEN RISK" in r.drctl("status", run_id).stdout
    assert served_by(r) == {"au-southeast"}

    r.sandbox.set_region("au-east", up=True)
    before = writes(r)["k8s.scale"]
    closed = r.drctl("fence", run_id)

    assert closed.returncode == ExitCode.OK, closed.stdout[-3000:] + closed.stderr[-3000:]
    assert ready(r, SOURCE) == {("wallet", "wallet-api"): 0, ("wallet", "ledger-worker"): 0}
    assert cluster(r, SOURCE[1])["replicas"] == {"wallet/wallet-api": 0, "wallet/ledger-worker": 0}
    assert writes(r)["k8s.scale"] == before + 2
    assert json.loads(r.drctl("report", run_id, "--format", "json").stdout)["open_risks"] == []
    # a second fence finds nothing open and sends nothing
    again = r.drctl("fence", run_id)
    assert again.returncode == ExitCode.OK
    assert writes(r)["k8s.scale"] == before + 2


def test_a_drill_returns_the_dr_region_to_warm_standby(aks: Rehearsal) -> None:
    r = aks
    assert cluster(r, TARGET[1]) == WARM_STANDBY

    result = r.drctl("drill", str(r.playbook), "--yes", "--outside-window", "--reason", "e2e test", timeout=300)

    assert result.returncode == ExitCode.OK, result.stdout[-3000:] + result.stderr[-3000:]
    # the DR region is exactly as the drill found it, verified, and clients are home
    assert cluster(r, TARGET[1]) == WARM_STANDBY
    assert served_by(r) == {"au-east"}
    assert ready(r, SOURCE) == {("wallet", "wallet-api"): 10, ("wallet", "ledger-worker"): 5}
    returned = r.facts("standby.returned")
    assert {(f["kind"], f["name"]) for f in returned} == {
        ("aks.cluster", "aks-wallet-aus"),
        ("aks.node_pool", "aks-wallet-aus/system"),
        ("aks.node_pool", "aks-wallet-aus/apps"),
        ("aks.deployment", "wallet/wallet-api"),
        ("aks.deployment", "wallet/ledger-worker"),
    }
    assert all(f["verified"] for f in returned)
    # up once and down once: one start and one stop, each pool and Deployment scaled out and back
    assert writes(r) == Counter(
        {"aks.start": 1, "aks.stop": 1, "aks.pool.scale": 4, "k8s.scale": 4, "afd.origin.update": 4, "sql.failover": 2}
    )
    report = r.drctl("report", r.run_ids()[-1]).stdout
    assert "Back to warm standby" in report


def test_kill_9_inside_the_cluster_start_and_before_front_door_is_verified_sends_nothing_twice(
    aks: Rehearsal,
) -> None:
    r = aks
    # a 6 s cluster start to kill inside, and 12 s of Front Door propagation to kill within, even on a busy machine
    r.sandbox.add_faults(
        [
            {"kind": "latency", "op": "aks.start", "seconds": 6},
            {"kind": "front_door_propagation_delay", "seconds": 12},
        ]
    )
    process = r.start("failover", str(r.playbook), "--yes")
    wait_for(lambda: writes(r)["aks.start"] == 1, timeout=90, what="the cluster start to reach the sandbox")
    os.kill(process.pid, signal.SIGKILL)  # inside the 6 s long-running start, after Azure accepted it
    process.communicate(timeout=60)

    resumed = r.start("resume", r.run_ids()[-1], "--yes")
    # both origins written, Front Door still propagating: killed between the write and its verification
    wait_for(lambda: writes(r)["afd.origin.update"] == 2, timeout=120, what="the Front Door switch")
    os.kill(resumed.pid, signal.SIGKILL)
    resumed.communicate(timeout=60)
    assert not r.facts("service.restored"), "killed before the switch was seen: nothing may claim it"

    final = r.drctl("resume", r.run_ids()[-1], "--yes", timeout=240)

    assert final.returncode == ExitCode.OK, final.stdout[-3000:] + final.stderr[-3000:]
    assert writes(r) == Counter(
        {"aks.start": 1, "aks.pool.scale": 2, "k8s.scale": 2, "afd.origin.update": 2, "sql.failover": 1}
    )
    (restored,) = r.facts("service.restored")
    assert restored["by"] == "frontdoor.switch"
    assert restored["propagation_seconds"] >= 12  # measured from the first write, before the kill
    assert served_by(r) == {"au-southeast"}
    assert ready(r, TARGET) == {("wallet", "wallet-api"): 8, ("wallet", "ledger-worker"): 4}
    assert r.drctl("runs", "verify", r.run_ids()[-1]).returncode == ExitCode.OK
