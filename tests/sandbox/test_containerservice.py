"""AKS in the sandbox through the real clients: azure-mgmt-containerservice for ARM (clusters, start/stop as
long-running operations, agent pools, the user credential) and the official kubernetes client for the cluster's
Kubernetes API (Deployments, the scale subresource, ready replicas over time), over the sandbox's HTTPS."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from azure.core.exceptions import HttpResponseError
from azure.mgmt.containerservice import ContainerServiceClient
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from drctl.sandbox import Sandbox
from drctl.sandbox.estate import estate_from_dict
from drctl.sandbox.playbook import estate_data_from_playbook
from drctl.sandbox.testing import arm_client, running_sandbox
from tests.aks import SOURCE_CLUSTER, SOURCE_GROUP, TARGET_CLUSTER, TARGET_GROUP, aks_playbook, kube_apps

AKS_SCOPE = "6dae42f8-4368-4678-94ff-3960e28e3630/.default"


@pytest.fixture
def sb(tmp_path: Path) -> Iterator[Sandbox]:
    data = estate_data_from_playbook(aks_playbook(tmp_path))
    for cluster in data["aks_clusters"]:
        cluster["pod_start_seconds"] = 0.5
    with running_sandbox(estate_from_dict(data), workdir=tmp_path / "sandbox") as sandbox:
        yield sandbox


def _aks(sb: Sandbox, **options: Any) -> Any:
    return arm_client(sb, ContainerServiceClient, **options)


def _apps(sb: Sandbox, group: str = TARGET_GROUP, cluster: str = TARGET_CLUSTER) -> Any:
    return kube_apps(sb.env(), group, cluster, subscription=sb.subscription_id)


def test_clusters_read_as_the_spec_examples_show_them(sb: Sandbox) -> None:
    aks = _aks(sb)
    source = aks.managed_clusters.get(SOURCE_GROUP, SOURCE_CLUSTER)
    assert (source.power_state.code, source.provisioning_state, source.location) == (
        "Running",
        "Succeeded",
        "australiaeast",
    )
    assert source.fqdn.endswith(".hcp.australiaeast.azmk8s.io")
    assert [(p.name, p.count, p.mode) for p in source.agent_pool_profiles] == [
        ("system", 3, "System"),
        ("apps", 6, "User"),
    ]
    assert source.aad_profile.managed
    target = aks.managed_clusters.get(TARGET_GROUP, TARGET_CLUSTER)
    assert target.power_state.code == "Stopped"
    assert sorted(c.name for c in aks.managed_clusters.list()) == [SOURCE_CLUSTER, TARGET_CLUSTER]
    assert [c.name for c in aks.managed_clusters.list_by_resource_group(TARGET_GROUP)] == [TARGET_CLUSTER]
    with pytest.raises(HttpResponseError) as missing:
        aks.managed_clusters.get(TARGET_GROUP, "aks-nope")
    assert missing.value.status_code == 404


def test_start_and_stop_are_long_running_operations_the_sdk_polls(sb: Sandbox) -> None:
    sb.add_faults({"kind": "latency", "op": "aks.start", "seconds": 0.6})
    aks = _aks(sb)
    poller = aks.managed_clusters.begin_start(TARGET_GROUP, TARGET_CLUSTER)
    during = aks.managed_clusters.get(TARGET_GROUP, TARGET_CLUSTER)
    assert (during.provisioning_state, during.power_state.code) == ("Starting", "Stopped")
    poller.result()
    after = aks.managed_clusters.get(TARGET_GROUP, TARGET_CLUSTER)
    assert (after.provisioning_state, after.power_state.code) == ("Succeeded", "Running")
    aks.managed_clusters.begin_stop(TARGET_GROUP, TARGET_CLUSTER).result()
    assert aks.managed_clusters.get(TARGET_GROUP, TARGET_CLUSTER).power_state.code == "Stopped"


def test_a_failed_start_leaves_the_cluster_stopped(sb: Sandbox) -> None:
    sb.add_faults({"kind": "lro_failure", "op": "aks.start", "code": "QuotaExceeded"})
    aks = _aks(sb)
    with pytest.raises(HttpResponseError, match="QuotaExceeded"):
        aks.managed_clusters.begin_start(TARGET_GROUP, TARGET_CLUSTER).result()
    found = aks.managed_clusters.get(TARGET_GROUP, TARGET_CLUSTER)
    assert (found.power_state.code, found.provisioning_state) == ("Stopped", "Failed")


def test_agent_pools_scale_as_a_long_running_put_and_only_on_a_running_cluster(sb: Sandbox) -> None:
    aks = _aks(sb)
    pool = aks.agent_pools.get(TARGET_GROUP, TARGET_CLUSTER, "apps")
    assert (pool.count, pool.provisioning_state, pool.vm_size) == (1, "Succeeded", "Standard_D4s_v5")
    pool.count = 5
    with pytest.raises(HttpResponseError) as stopped:
        aks.agent_pools.begin_create_or_update(TARGET_GROUP, TARGET_CLUSTER, "apps", pool).result()
    assert (stopped.value.status_code, stopped.value.error.code) == (409, "OperationNotAllowed")
    aks.managed_clusters.begin_start(TARGET_GROUP, TARGET_CLUSTER).result()
    sb.add_faults({"kind": "latency", "op": "aks.pool.scale", "seconds": 0.5})
    poller = aks.agent_pools.begin_create_or_update(TARGET_GROUP, TARGET_CLUSTER, "apps", pool)
    during = aks.agent_pools.get(TARGET_GROUP, TARGET_CLUSTER, "apps")
    assert (during.count, during.provisioning_state) == (5, "Scaling")
    assert poller.result().count == 5
    assert aks.agent_pools.get(TARGET_GROUP, TARGET_CLUSTER, "apps").provisioning_state == "Succeeded"
    assert [p.count for p in aks.agent_pools.list(TARGET_GROUP, TARGET_CLUSTER)] == [1, 5]


def test_the_user_credential_is_an_entra_kubeconfig_pointing_at_the_sandbox(sb: Sandbox) -> None:
    answer = _aks(sb).managed_clusters.list_cluster_user_credentials(SOURCE_GROUP, SOURCE_CLUSTER)
    value = answer.kubeconfigs[0].value
    # the SDK decodes the base64 ``value`` (format: byte) into bytes
    assert isinstance(value, bytes | bytearray)
    config = yaml.safe_load(bytes(value))
    cluster = config["clusters"][0]["cluster"]
    assert cluster["server"] == f"{sb.base_url}/_aks/{SOURCE_CLUSTER}"
    assert base64.b64decode(cluster["certificate-authority-data"]).decode() == sb.tls.ca.read_text()
    assert "6dae42f8-4368-4678-94ff-3960e28e3630" in config["users"][0]["user"]["exec"]["args"]


def test_the_kubernetes_api_takes_only_tokens_for_the_aks_server_app(sb: Sandbox) -> None:
    url = f"{sb.base_url}/_aks/{SOURCE_CLUSTER}/apis/apps/v1/namespaces/wallet/deployments"
    credential = sb.credential()
    with httpx.Client(verify=sb.ssl_context()) as http:
        assert http.get(url).status_code == 401
        arm_token = credential.get_token("https://management.azure.com/.default").token
        refused = http.get(url, headers={"Authorization": f"Bearer {arm_token}"})
        assert (refused.status_code, refused.json()["reason"]) == (401, "Unauthorized")
        aks_token = credential.get_token(AKS_SCOPE).token
        assert http.get(url, headers={"Authorization": f"Bearer {aks_token}"}).status_code == 200


def test_deployments_scale_through_the_scale_subresource_and_become_ready_over_time(sb: Sandbox) -> None:
    source = _apps(sb, SOURCE_GROUP, SOURCE_CLUSTER)
    api = source.read_namespaced_deployment("wallet-api", "wallet")
    assert (api.spec.replicas, api.status.ready_replicas, api.status.available_replicas) == (10, 10, 10)
    scale = source.read_namespaced_deployment_scale("wallet-api", "wallet")
    assert (scale.spec.replicas, scale.status.selector) == (10, "app=wallet-api")
    source.replace_namespaced_deployment_scale(
        "wallet-api", "wallet", k8s.V1Scale(metadata=scale.metadata, spec=k8s.V1ScaleSpec(replicas=12))
    )
    grown = source.read_namespaced_deployment("wallet-api", "wallet")
    assert (grown.spec.replicas, grown.status.ready_replicas) == (12, 10)  # two new pods still starting
    time.sleep(0.6)
    assert source.read_namespaced_deployment("wallet-api", "wallet").status.ready_replicas == 12
    source.patch_namespaced_deployment_scale("wallet-worker", "wallet", {"spec": {"replicas": 1}})
    assert source.read_namespaced_deployment("wallet-worker", "wallet").status.ready_replicas == 1
    source.patch_namespaced_deployment(
        "wallet-worker", "wallet", [{"op": "replace", "path": "/spec/replicas", "value": 3}]
    )
    assert source.read_namespaced_deployment_scale("wallet-worker", "wallet").spec.replicas == 3
    assert [d.metadata.name for d in source.list_deployment_for_all_namespaces().items] == [
        "wallet-api",
        "wallet-worker",
    ]
    with pytest.raises(ApiException) as missing:
        source.read_namespaced_deployment("nope", "wallet")
    assert missing.value.status == 404


def test_ready_replicas_are_capped_by_the_nodes_and_come_with_a_cluster_start(sb: Sandbox) -> None:
    aks = _aks(sb)
    aks.managed_clusters.begin_start(TARGET_GROUP, TARGET_CLUSTER).result()
    apps = _apps(sb)
    assert apps.read_namespaced_deployment("wallet-api", "wallet").status.ready_replicas is None  # starting
    time.sleep(0.6)
    assert apps.read_namespaced_deployment("wallet-api", "wallet").status.ready_replicas == 1
    # two nodes of 110 pods each: 300 replicas asked, 220 can run
    pool = aks.agent_pools.get(TARGET_GROUP, TARGET_CLUSTER, "system")
    apps.patch_namespaced_deployment_scale("wallet-api", "wallet", {"spec": {"replicas": 300}})
    time.sleep(0.6)
    assert apps.read_namespaced_deployment("wallet-api", "wallet").status.ready_replicas == 2 * pool.max_pods


def test_a_stopped_cluster_or_a_region_outage_makes_its_api_unreachable(sb: Sandbox) -> None:
    with pytest.raises(ApiException) as stopped:
        _apps(sb).read_namespaced_deployment("wallet-api", "wallet")
    assert stopped.value.status == 503
    source = _apps(sb, SOURCE_GROUP, SOURCE_CLUSTER)
    sb.set_region("au-east", up=False)
    with pytest.raises(ApiException) as down:
        source.read_namespaced_deployment("wallet-api", "wallet")
    assert down.value.status == 503
    with pytest.raises(HttpResponseError) as write:
        _aks(sb, retry_total=0).managed_clusters.begin_stop(SOURCE_GROUP, SOURCE_CLUSTER)
    assert write.value.status_code == 503


def test_faults_on_the_kubernetes_api(sb: Sandbox) -> None:
    source = _apps(sb, SOURCE_GROUP, SOURCE_CLUSTER)
    sb.add_faults({"kind": "throttle", "op": "k8s.scale", "retry_after": 2})
    with pytest.raises(ApiException) as throttled:
        source.patch_namespaced_deployment_scale("wallet-api", "wallet", {"spec": {"replicas": 4}})
    assert (throttled.value.status, throttled.value.headers["Retry-After"]) == (429, "2")
    assert source.read_namespaced_deployment("wallet-api", "wallet").spec.replicas == 10
    sb.add_faults({"kind": "error", "op": "k8s.read", "status": 500})
    with pytest.raises(ApiException) as failed:
        source.read_namespaced_deployment("wallet-api", "wallet")
    assert failed.value.status == 500
    kube = [r for r in sb.world.request_log() if r["service"] == "kube"]
    assert [(r["op"], r["status"]) for r in kube][-3:] == [("k8s.scale", 429), ("k8s.read", 200), ("k8s.read", 500)]


def test_the_app_health_of_an_aks_region_needs_the_cluster_running_and_ready(sb: Sandbox) -> None:
    def aks_check(region: str) -> dict[str, Any]:
        host, _, port = sb.resolve_map()[
            f"{'api-aue' if region == 'au-east' else 'api-aus'}.wallet.example.com:443"
        ].rpartition(":")
        answer = httpx.get(f"https://{host}:{port}/healthz", verify=sb.ssl_context())
        return dict(answer.json()["checks"]["aks"])

    assert aks_check("au-east")["status"] == "ok"
    assert aks_check("au-southeast")["status"] == "not_ready"
    _apps(sb, SOURCE_GROUP, SOURCE_CLUSTER).patch_namespaced_deployment_scale(
        "wallet-api", "wallet", {"spec": {"replicas": 0}}
    )
    assert aks_check("au-east")["status"] == "not_ready"
