"""aks.start_cluster, aks.scale_node_pools, aks.scale_deployments, the AKS fencer and returner, against a sandbox
seeded from the sample playbook with an AKS tier (``tests/aks.py``): ARM through azure-mgmt-containerservice,
Deployments through the official kubernetes client. Every change is counted in the sandbox's request log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from drctl.actions.aks.run import (
    DEPLOYMENTS_IMPLEMENTATION,
    FENCER,
    POOLS_IMPLEMENTATION,
    RETURNER,
    START_IMPLEMENTATION,
)
from drctl.actions.aks.spec import PoolTarget, ScaleDeploymentsParams, ScaleNodePoolsParams, StartClusterParams
from drctl.actions.base import Scope
from drctl.actions.prior import FACT_PRIOR, PriorState
from drctl.actions.testkit import FakeSecrets, FakeServices, FakeStepContext
from drctl.azure import aks
from drctl.sandbox.estate import estate_from_dict
from drctl.sandbox.ops import Service
from drctl.sandbox.playbook import estate_data_from_playbook
from drctl.sandbox.testing import running_sandbox
from tests.actions.conftest import SOURCE, TARGET
from tests.aks import SOURCE_CLUSTER, SOURCE_GROUP, TARGET_CLUSTER, TARGET_GROUP, aks_playbook, kube_apps


class Aks:
    def __init__(self, sandbox: Any, playbook: Any, services: FakeServices, secrets: FakeSecrets) -> None:
        self.sandbox, self.playbook, self.services, self.secrets = sandbox, playbook, services, secrets

    def ctx(self, **kwargs: Any) -> FakeStepContext:
        kwargs.setdefault("services", self.services)
        kwargs.setdefault("secrets", self.secrets)
        return FakeStepContext(kwargs.pop("scope", Scope(self.playbook, SOURCE, TARGET)), **kwargs)

    def ops(self, op: str) -> int:
        """Requests of one operation kind (ARM and the Kubernetes API) that the sandbox accepted."""
        return sum(1 for r in self.sandbox.world.request_log() if r.get("op") == op and r["status"] < 300)

    def kube_writes(self) -> list[str]:
        return [r["path"] for r in self.sandbox.world.request_log(Service.KUBE) if r["method"] != "GET"]

    def cluster(self, name: str = TARGET_CLUSTER) -> dict[str, Any]:
        return dict(self.sandbox.snapshot()["aks_clusters"][name])


@pytest.fixture(scope="module")
def _module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Aks]:
    directory = tmp_path_factory.mktemp("aks")
    playbook = aks_playbook(directory)
    data = estate_data_from_playbook(playbook)
    for cluster in data["aks_clusters"]:
        cluster["pod_start_seconds"] = 0.2  # ready replicas come up over (real) time, quickly enough for a test
    with running_sandbox(estate_from_dict(data), workdir=directory / "sandbox") as sb:
        env = sb.env()
        services = FakeServices.with_azure(env, subscription=sb.subscription_id)
        yield Aks(sb, playbook, services, FakeSecrets.for_playbook(playbook, env))
        services.close()


@pytest.fixture
def estate(_module: Aks) -> Aks:
    _module.sandbox.reset()
    return _module


def _priors(ctx: FakeStepContext) -> list[dict[str, Any]]:
    return [d for k, d in ctx.facts if k == FACT_PRIOR]


def _up(estate: Aks) -> FakeStepContext:
    """The target cluster started and its pools scaled (what the Deployments step needs first)."""
    ctx = estate.ctx(step_id="start")
    START_IMPLEMENTATION.run(StartClusterParams(), ctx)
    pools = estate.ctx(step_id="pools")
    POOLS_IMPLEMENTATION.run(ScaleNodePoolsParams(), pools)
    return pools


# --- the seeded standby -----------------------------------------------------------------------------------------


def test_the_seeded_target_is_a_stopped_standby_and_the_source_runs_ready(estate: Aks) -> None:
    target, source = estate.cluster(), estate.cluster(SOURCE_CLUSTER)
    assert (target["power_state"], source["power_state"]) == ("Stopped", "Running")
    assert {n: p["count"] for n, p in target["node_pools"].items()} == {"system": 1, "apps": 1}
    assert {n: p["count"] for n, p in source["node_pools"].items()} == {"system": 3, "apps": 6}
    assert source["deployments"] == {
        "wallet/wallet-api": {"replicas": 10, "ready_replicas": 10},
        "wallet/wallet-worker": {"replicas": 4, "ready_replicas": 4},
    }
    assert {d["replicas"] for d in target["deployments"].values()} == {1}


# --- aks.start_cluster -------------------------------------------------------------------------------------------


def test_start_starts_the_stopped_cluster_once_and_records_its_prior_state(estate: Aks) -> None:
    assert START_IMPLEMENTATION.done is not None
    ctx = estate.ctx()
    assert START_IMPLEMENTATION.done(StartClusterParams(), ctx) is False
    outcome = START_IMPLEMENTATION.run(StartClusterParams(), ctx)
    assert outcome.changed
    assert estate.cluster()["power_state"] == "Running"
    assert estate.ops("aks.start") == 1
    assert _priors(ctx) == [
        {
            "kind": "aks.cluster",
            "name": TARGET_CLUSTER,
            "region": TARGET,
            "state": {"power_state": "Stopped", "cluster": TARGET_CLUSTER, "resource_group": TARGET_GROUP},
        }
    ]
    assert START_IMPLEMENTATION.done(StartClusterParams(), ctx.next_attempt()) is True
    again = START_IMPLEMENTATION.run(StartClusterParams(), estate.ctx())
    assert not again.changed
    assert estate.ops("aks.start") == 1


def test_start_after_a_crash_between_intent_and_answer_sends_no_second_start(
    estate: Aks, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = aks.begin_start

    def crash_after_sending(*args: Any) -> Any:
        real(*args)
        raise SystemExit("the process died before Azure's answer was journaled")

    monkeypatch.setattr(aks, "begin_start", crash_after_sending)
    ctx = estate.ctx()
    with pytest.raises(SystemExit):
        START_IMPLEMENTATION.run(StartClusterParams(), ctx)
    monkeypatch.setattr(aks, "begin_start", real)
    resumed = ctx.next_attempt()
    outcome = START_IMPLEMENTATION.run(StartClusterParams(), resumed)
    assert estate.cluster()["power_state"] == "Running"
    assert estate.ops("aks.start") == 1  # the count is the test: one start, though two attempts
    assert outcome.summary.startswith(f"AKS cluster {TARGET_CLUSTER} Running")
    # the prior state is the one found before the first change, journaled once
    assert [d["state"]["power_state"] for d in _priors(ctx) + _priors(resumed)] == ["Stopped"]


def test_start_preflight_reads_stopped_then_running(estate: Aks) -> None:
    assert START_IMPLEMENTATION.preflight is not None
    [before] = START_IMPLEMENTATION.preflight(StartClusterParams(), estate.ctx())
    assert (before.current, before.intended, before.severity) == ("Stopped (Succeeded)", "Running", "info")
    START_IMPLEMENTATION.run(StartClusterParams(), estate.ctx())
    [after] = START_IMPLEMENTATION.preflight(StartClusterParams(), estate.ctx())
    assert after.severity == "ok"
    assert estate.ops("aks.start") == 1


# --- aks.scale_node_pools ----------------------------------------------------------------------------------------


def test_pools_scale_to_the_ratio_of_the_source_live_counts(estate: Aks) -> None:
    START_IMPLEMENTATION.run(StartClusterParams(), estate.ctx())
    ctx = estate.ctx()
    assert POOLS_IMPLEMENTATION.done is not None
    assert POOLS_IMPLEMENTATION.done(ScaleNodePoolsParams(), ctx) is False
    outcome = POOLS_IMPLEMENTATION.run(ScaleNodePoolsParams(), ctx)
    assert outcome.changed
    # 80 % of 3 is 2.4 -> 3 nodes; of 6, 4.8 -> 5
    assert {n: p["count"] for n, p in estate.cluster()["node_pools"].items()} == {"system": 3, "apps": 5}
    assert estate.ops("aks.pool.scale") == 2
    assert {d["source_read"] for k, d in ctx.facts if k == "aks.sizing"} == {"live"}
    assert sorted((d["name"], d["state"]["count"]) for d in _priors(ctx)) == [
        (f"{TARGET_CLUSTER}/apps", 1),
        (f"{TARGET_CLUSTER}/system", 1),
    ]
    assert POOLS_IMPLEMENTATION.done(ScaleNodePoolsParams(), ctx.next_attempt()) is True
    assert not POOLS_IMPLEMENTATION.run(ScaleNodePoolsParams(), estate.ctx()).changed
    assert estate.ops("aks.pool.scale") == 2


def test_pools_are_never_scaled_down_below_what_they_run(estate: Aks) -> None:
    START_IMPLEMENTATION.run(StartClusterParams(), estate.ctx())
    POOLS_IMPLEMENTATION.run(ScaleNodePoolsParams(), estate.ctx())
    lower = ScaleNodePoolsParams(node_pools=[PoolTarget(name="apps", count=2)])
    outcome = POOLS_IMPLEMENTATION.run(lower, estate.ctx())
    assert not outcome.changed
    assert estate.cluster()["node_pools"]["apps"]["count"] == 5
    assert estate.ops("aks.pool.scale") == 2


def test_pools_size_from_the_playbook_when_the_source_control_plane_is_gone(estate: Aks) -> None:
    START_IMPLEMENTATION.run(StartClusterParams(), estate.ctx())
    estate.sandbox.client().set_region(SOURCE, up=False, control_plane="unavailable")
    ctx = estate.ctx()
    POOLS_IMPLEMENTATION.run(ScaleNodePoolsParams(), ctx)
    sizing = [d for k, d in ctx.facts if k == "aks.sizing"]
    assert {d["source_read"] for d in sizing} == {"playbook"}
    assert all("503" in d["source_error"] or "unavailable" in d["source_error"] for d in sizing)
    assert {n: p["count"] for n, p in estate.cluster()["node_pools"].items()} == {"system": 3, "apps": 5}


def test_pools_refuse_a_stopped_cluster_and_preflight_says_what_it_would_do(estate: Aks) -> None:
    assert POOLS_IMPLEMENTATION.preflight is not None
    found = POOLS_IMPLEMENTATION.preflight(ScaleNodePoolsParams(), estate.ctx())
    assert [(f.subject, f.current, f.severity) for f in found] == [
        (f"node pool {TARGET_CLUSTER}/system", "1", "info"),
        (f"node pool {TARGET_CLUSTER}/apps", "1", "info"),
    ]
    from drctl.actions.runtime import ActionError

    with pytest.raises(ActionError, match="start it first"):
        POOLS_IMPLEMENTATION.run(ScaleNodePoolsParams(), estate.ctx())
    assert estate.ops("aks.pool.scale") == 0


# --- aks.scale_deployments ---------------------------------------------------------------------------------------


def test_deployments_scale_and_wait_until_ready(estate: Aks) -> None:
    _up(estate)
    ctx = estate.ctx()
    assert DEPLOYMENTS_IMPLEMENTATION.done is not None
    assert DEPLOYMENTS_IMPLEMENTATION.done(ScaleDeploymentsParams(), ctx) is False
    outcome = DEPLOYMENTS_IMPLEMENTATION.run(ScaleDeploymentsParams(), ctx)
    assert outcome.changed
    assert any("ready" in line for line in ctx.lines)
    apps = kube_apps(estate.sandbox.env(), TARGET_GROUP, TARGET_CLUSTER, subscription=estate.sandbox.subscription_id)
    ready = {d.metadata.name: d.status.ready_replicas for d in apps.list_namespaced_deployment("wallet").items}
    assert ready == {"wallet-api": 8, "wallet-worker": 4}  # 80 % of 10 and of 4, read by the kubernetes client
    assert len(estate.kube_writes()) == 2
    assert {d["source_read"] for k, d in ctx.facts if k == "aks.sizing"} == {"live"}
    assert sorted((d["name"], d["state"]["replicas"]) for d in _priors(ctx)) == [
        ("wallet/wallet-api", 1),
        ("wallet/wallet-worker", 1),
    ]
    assert DEPLOYMENTS_IMPLEMENTATION.done(ScaleDeploymentsParams(), ctx.next_attempt()) is True
    assert not DEPLOYMENTS_IMPLEMENTATION.run(ScaleDeploymentsParams(), estate.ctx()).changed
    assert len(estate.kube_writes()) == 2


def test_deployments_after_a_crash_between_intent_and_answer_send_one_change(
    estate: Aks, monkeypatch: pytest.MonkeyPatch
) -> None:
    _up(estate)
    real = aks.scale_deployment

    def crash_after_sending(*args: Any, **kwargs: Any) -> None:
        real(*args, **kwargs)
        raise SystemExit("the process died before the answer was journaled")

    monkeypatch.setattr(aks, "scale_deployment", crash_after_sending)
    ctx = estate.ctx()
    with pytest.raises(SystemExit):
        DEPLOYMENTS_IMPLEMENTATION.run(ScaleDeploymentsParams(), ctx)
    monkeypatch.setattr(aks, "scale_deployment", real)
    resumed = ctx.next_attempt()
    DEPLOYMENTS_IMPLEMENTATION.run(ScaleDeploymentsParams(), resumed)
    writes = estate.kube_writes()
    # one per Deployment: the one sent before the crash is not sent again
    assert sorted(writes) == sorted(set(writes))
    assert len(writes) == 2
    assert [(d["name"], d["state"]["replicas"]) for d in _priors(ctx) + _priors(resumed)] == [
        ("wallet/wallet-api", 1),
        ("wallet/wallet-worker", 1),
    ]


def test_deployments_size_from_the_playbook_when_the_source_cluster_does_not_answer(estate: Aks) -> None:
    _up(estate)
    estate.sandbox.set_region(SOURCE, up=False)
    ctx = estate.ctx()
    DEPLOYMENTS_IMPLEMENTATION.run(ScaleDeploymentsParams(), ctx)
    sizing = [d for k, d in ctx.facts if k == "aks.sizing"]
    assert [(d["source_read"], d["source"], d["floor"]) for d in sizing] == [("playbook", 10, 8), ("playbook", 4, 4)]
    from drctl.cli.facts_view import describe_fact  # the console labels the fallback

    assert "the source did not answer" in str(describe_fact("aks.sizing", sizing[0]))


def test_deployments_preflight_on_a_stopped_standby_is_info_not_an_error(estate: Aks) -> None:
    assert DEPLOYMENTS_IMPLEMENTATION.preflight is not None
    found = DEPLOYMENTS_IMPLEMENTATION.preflight(ScaleDeploymentsParams(), estate.ctx())
    assert [(f.subject, f.current, f.intended, f.severity) for f in found] == [
        ("Deployment wallet/wallet-api", None, ">= 8 (live source 10)", "info"),
        ("Deployment wallet/wallet-worker", None, ">= 4 (live source 4)", "info"),
    ]
    assert estate.kube_writes() == []


# --- fencing and the return to warm standby ----------------------------------------------------------------------


def test_fencer_scales_the_source_deployments_to_zero_verified(estate: Aks) -> None:
    scope = Scope(estate.playbook, SOURCE, TARGET)
    items = FENCER.items(scope, SOURCE)
    assert [(i.kind, i.name, i.region) for i in items] == [
        ("aks.deployment", "wallet/wallet-api", SOURCE),
        ("aks.deployment", "wallet/wallet-worker", SOURCE),
    ]
    ctx = estate.ctx()
    outcomes = [FENCER.fence(ctx, item) for item in items]
    assert [o.fenced for o in outcomes] == [True, True]
    apps = kube_apps(estate.sandbox.env(), SOURCE_GROUP, SOURCE_CLUSTER, subscription=estate.sandbox.subscription_id)
    assert {d.metadata.name: d.spec.replicas for d in apps.list_namespaced_deployment("wallet").items} == {
        "wallet-api": 0,
        "wallet-worker": 0,
    }
    again = FENCER.fence(estate.ctx(), items[0])
    assert again.fenced
    assert "already" in again.detail
    assert len(estate.kube_writes()) == 2


def test_fencer_reports_an_unreachable_source_as_not_fenced_without_raising(estate: Aks) -> None:
    estate.sandbox.set_region(SOURCE, up=False)
    [first, _] = FENCER.items(Scope(estate.playbook, SOURCE, TARGET), SOURCE)
    outcome = FENCER.fence(estate.ctx(), first)
    assert not outcome.fenced
    assert "did not answer" in outcome.detail
    assert estate.kube_writes() == []
    estate.sandbox.set_region(SOURCE, up=True)  # the region returns: a later fence completes it
    assert FENCER.fence(estate.ctx(), first).fenced


def test_returner_puts_the_standby_back_exactly_as_it_was(estate: Aks) -> None:
    start = estate.ctx(step_id="start")
    START_IMPLEMENTATION.run(StartClusterParams(), start)
    pools = estate.ctx(step_id="pools")
    POOLS_IMPLEMENTATION.run(ScaleNodePoolsParams(), pools)
    deployments = estate.ctx(step_id="deployments")
    DEPLOYMENTS_IMPLEMENTATION.run(ScaleDeploymentsParams(), deployments)
    journaled = [
        (FACT_PRIOR, {**d, "step": step})
        for step, ctx in (("start", start), ("pools", pools), ("deployments", deployments))
        for d in _priors(ctx)
    ]
    assert set(RETURNER.kinds) == {"aks.cluster", "aks.node_pool", "aks.deployment"}
    back = estate.ctx(step_id="return", run_facts_seeded=journaled)
    # the cluster first: its return puts its pools and replicas back before it stops the cluster
    said = [RETURNER.restore(back, PriorState.from_fact(d)) for _, d in journaled]
    assert said[0].startswith(f"AKS cluster {TARGET_CLUSTER} stopped again")
    assert all("returned before it stopped" in s for s in said[1:])
    target = estate.cluster()
    assert target["power_state"] == "Stopped"
    assert {n: p["count"] for n, p in target["node_pools"].items()} == {"system": 1, "apps": 1}
    assert {n: d["replicas"] for n, d in target["deployments"].items()} == {
        "wallet/wallet-api": 1,
        "wallet/wallet-worker": 1,
    }
    assert estate.ops("aks.stop") == 1
    # idempotent: asked again, nothing more is sent
    again = [RETURNER.restore(estate.ctx(run_facts_seeded=journaled), PriorState.from_fact(d)) for _, d in journaled]
    assert "already Stopped" in again[0]
    assert estate.ops("aks.stop") == 1


def test_returner_on_a_running_cluster_scales_pools_and_deployments_back(estate: Aks) -> None:
    _up(estate)
    deployments = estate.ctx(step_id="deployments")
    DEPLOYMENTS_IMPLEMENTATION.run(ScaleDeploymentsParams(), deployments)
    back = estate.ctx(step_id="return")
    for data in _priors(deployments):
        assert "scaled back" in RETURNER.restore(back, PriorState.from_fact(data))
    assert {n: d["replicas"] for n, d in estate.cluster()["deployments"].items()} == {
        "wallet/wallet-api": 1,
        "wallet/wallet-worker": 1,
    }


# --- health.azure's aks part -------------------------------------------------------------------------------------


def test_health_azure_checks_the_cluster_and_with_require_running_its_ready_deployments(estate: Aks) -> None:
    from drctl.actions.health.run import AZURE_IMPLEMENTATION
    from drctl.actions.health.spec import HealthAzureParams
    from drctl.actions.runtime import TransientError

    provisioned = AZURE_IMPLEMENTATION.run(HealthAzureParams(region="target", checks=["aks"]), estate.ctx())
    assert provisioned.facts["checked"] == {f"AKS cluster {TARGET_CLUSTER}": "Stopped (Succeeded)"}
    running = HealthAzureParams(region="target", checks=["aks"], require_running=True)
    with pytest.raises(TransientError, match="is Stopped"):
        AZURE_IMPLEMENTATION.run(running, estate.ctx())
    _up(estate)
    DEPLOYMENTS_IMPLEMENTATION.run(ScaleDeploymentsParams(), estate.ctx())
    healthy = AZURE_IMPLEMENTATION.run(running, estate.ctx())
    assert healthy.facts["checked"]["Deployment wallet/wallet-api"] == "8 ready"
    source = AZURE_IMPLEMENTATION.run(
        HealthAzureParams(region="source", checks=["aks"], require_running=True), estate.ctx()
    )
    assert source.facts["checked"]["Deployment wallet/wallet-worker"] == "4 ready"
