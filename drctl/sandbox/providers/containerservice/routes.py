"""Microsoft.ContainerService managed clusters: get, list, start and stop (long-running), agent pools (get, list,
create-or-update of the count, long-running) and ``listClusterUserCredential``, in the shapes of the Azure REST
API specification's examples (``ManagedClustersGet``, ``ManagedClustersStart``/``Stop``, ``AgentPoolsGet``,
``AgentPoolsCreate_Update``, ``ManagedClustersListClusterUserCredentials``).

Start and stop answer 202 with ``Azure-AsyncOperation`` and ``Location``; the cluster shows ``Starting`` or
``Stopping`` at once and its power state changes when the operation completes (the ``aks.start``/``aks.stop``
latency is its duration). A pool PUT answers 200 with the pool at its new count (``provisioningState: Scaling``)
and an ``Azure-AsyncOperation``; the nodes are there when it completes. A stopped cluster refuses pool changes
(409), as AKS does. The user credential is a kubeconfig (AAD, ``kubelogin`` exec user as AKS gives) whose server is
the sandbox's Kubernetes API of the cluster (``KUBE_PREFIX``), trusting the sandbox CA.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import yaml

from drctl.sandbox.arm.core import ArmError, Ctx, Route, lro_urls, not_found, paged
from drctl.sandbox.http import Response, json_response
from drctl.sandbox.lro import Outcome
from drctl.sandbox.ops import OpKind
from drctl.sandbox.providers.containerservice.model import ClusterState, PoolState
from drctl.sandbox.providers.containerservice.provider import KUBE_PREFIX, power_changed, store

_CLUSTER = "subscriptions/{sub}/resourcegroups/{rg}/providers/microsoft.containerservice/managedclusters/{name}"
_NS = "Microsoft.ContainerService"
#: the Entra application of the AKS API server: the audience of the tokens the Kubernetes API accepts
AKS_SERVER_APP = "6dae42f8-4368-4678-94ff-3960e28e3630"


def routes() -> list[Route]:
    read = OpKind.ARM_READ
    return [
        Route.of("GET", "subscriptions/{sub}/providers/microsoft.containerservice/managedclusters", read, _all),
        Route.of(
            "GET",
            "subscriptions/{sub}/resourcegroups/{rg}/providers/microsoft.containerservice/managedclusters",
            read,
            _by_group,
        ),
        Route.of("GET", _CLUSTER, read, _get),
        Route.of("POST", f"{_CLUSTER}/start", OpKind.AKS_START, lambda ctx: _power(ctx, "Running")),
        Route.of("POST", f"{_CLUSTER}/stop", OpKind.AKS_STOP, lambda ctx: _power(ctx, "Stopped")),
        Route.of("GET", f"{_CLUSTER}/agentpools", read, _pools),
        Route.of("GET", f"{_CLUSTER}/agentpools/{{pool}}", read, _pool),
        Route.of("PUT", f"{_CLUSTER}/agentpools/{{pool}}", OpKind.AKS_POOL_SCALE, _put_pool),
        # a POST that reads: a credential, never a change (a region that is down answers it like a GET)
        Route.of("POST", f"{_CLUSTER}/listclusterusercredential", read, _user_credential),
    ]


def _suffix(ctx: Ctx, cluster: ClusterState) -> str:
    return hashlib.sha256(f"{ctx.sub}/{cluster.name}".lower().encode()).hexdigest()[:8]


def cluster_id(ctx: Ctx, cluster: ClusterState) -> str:
    return f"{ctx.rg_id(cluster.resource_group)}/providers/{_NS}/managedClusters/{cluster.name}"


def _power_state(cluster: ClusterState) -> str:
    # what ARM shows while an operation runs: the state it goes to once it has been accepted
    return cluster.power


def pool_properties(cluster: ClusterState, pool: PoolState) -> dict[str, Any]:
    return {
        "count": pool.count,
        "vmSize": pool.vm_size,
        "osDiskSizeGB": 128,
        "osDiskType": "Managed",
        "kubeletDiskType": "OS",
        "maxPods": cluster.max_pods,
        "type": "VirtualMachineScaleSets",
        "enableAutoScaling": False,
        "provisioningState": pool.provisioning,
        "powerState": {"code": cluster.power},
        "orchestratorVersion": cluster.kubernetes_version,
        "currentOrchestratorVersion": cluster.kubernetes_version,
        "enableNodePublicIP": False,
        "mode": pool.mode,
        "osType": "Linux",
        "osSKU": "Ubuntu",
        "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202510.01.0",
        "upgradeSettings": {"maxSurge": "10%"},
        "enableFIPS": False,
    }


def pool_json(ctx: Ctx, cluster: ClusterState, pool: PoolState) -> dict[str, Any]:
    return {
        "id": f"{cluster_id(ctx, cluster)}/agentPools/{pool.name}",
        "name": pool.name,
        "type": f"{_NS}/managedClusters/agentPools",
        "properties": pool_properties(cluster, pool),
    }


def cluster_json(ctx: Ctx, cluster: ClusterState) -> dict[str, Any]:
    """``ManagedClusters_Get``: power and provisioning state, agent pool profiles, FQDN, AAD profile."""
    location = ctx.world.regions[cluster.region].location
    prefix = f"{cluster.name}-dns"
    suffix = _suffix(ctx, cluster)
    node_group = f"MC_{cluster.resource_group}_{cluster.name}_{location}"
    profiles = [{"name": p.name, **pool_properties(cluster, p)} for p in cluster.pools.values()]
    properties: dict[str, Any] = {
        "provisioningState": cluster.provisioning,
        "powerState": {"code": _power_state(cluster)},
        "kubernetesVersion": cluster.kubernetes_version,
        "currentKubernetesVersion": cluster.kubernetes_version,
        "dnsPrefix": prefix,
        "fqdn": f"{prefix}-{suffix}.hcp.{location}.azmk8s.io",
        "azurePortalFQDN": f"{prefix}-{suffix}.portal.hcp.{location}.azmk8s.io",
        "agentPoolProfiles": profiles,
        "servicePrincipalProfile": {"clientId": "msi"},
        "nodeResourceGroup": node_group,
        "enableRBAC": True,
        "supportPlan": "KubernetesOfficial",
        "networkProfile": {
            "networkPlugin": "azure",
            "networkPluginMode": "overlay",
            "networkPolicy": "none",
            "loadBalancerSku": "standard",
            "podCidr": "10.244.0.0/16",
            "serviceCidr": "10.0.0.0/16",
            "dnsServiceIP": "10.0.0.10",
            "outboundType": "loadBalancer",
            "podCidrs": ["10.244.0.0/16"],
            "serviceCidrs": ["10.0.0.0/16"],
            "ipFamilies": ["IPv4"],
        },
        "aadProfile": {"managed": True, "enableAzureRBAC": True, "tenantID": ctx.world.tenant_id},
        "maxAgentPools": 100,
        "disableLocalAccounts": True,
        "autoUpgradeProfile": {"upgradeChannel": "none", "nodeOSUpgradeChannel": "NodeImage"},
        "oidcIssuerProfile": {"enabled": False},
        "storageProfile": {
            "diskCSIDriver": {"enabled": True},
            "fileCSIDriver": {"enabled": True},
            "snapshotController": {"enabled": True},
        },
    }
    return {
        "id": cluster_id(ctx, cluster),
        "location": location,
        "name": cluster.name,
        "type": f"{_NS}/managedClusters",
        "tags": cluster.tags,
        "sku": {"name": "Base", "tier": "Standard"},
        "identity": {
            "type": "SystemAssigned",
            "principalId": hashlib.md5(cluster.name.encode(), usedforsecurity=False).hexdigest(),
            "tenantId": ctx.world.tenant_id,
        },
        "properties": properties,
    }


def _cluster_of(ctx: Ctx) -> ClusterState:
    return ctx.resource(store(ctx.world).clusters, f"{_NS}/managedClusters")


def _all(ctx: Ctx) -> Response:
    return paged(ctx, [cluster_json(ctx, c) for c in store(ctx.world).clusters.values()])


def _by_group(ctx: Ctx) -> Response:
    return paged(
        ctx,
        [
            cluster_json(ctx, c)
            for c in store(ctx.world).clusters.values()
            if c.resource_group.lower() == ctx.rg.lower()
        ],
    )


def _get(ctx: Ctx) -> Response:
    return json_response(200, cluster_json(ctx, _cluster_of(ctx)))


def _power(ctx: Ctx, power: str) -> Response:
    """Start or stop: 202 and an operation; a cluster already there is 202 too, an operation that changes nothing
    (as AKS answers)."""
    cluster = _cluster_of(ctx)
    world = ctx.world
    op = OpKind.AKS_START if power == "Running" else OpKind.AKS_STOP
    path = cluster_id(ctx, cluster)
    fault = world.faults.take_lro_failure(op)
    before = cluster.power
    cluster.provisioning = "Starting" if power == "Running" else "Stopping"

    def complete(at: float) -> Outcome:
        cluster.provisioning = "Succeeded"
        if cluster.power != power:
            power_changed(cluster, power, at)
        for pool in cluster.pools.values():
            pool.provisioning = "Succeeded"
        return None

    def abort(at: float) -> None:
        cluster.provisioning, cluster.power = "Failed", before

    operation = world.operations.create(
        op=op,
        namespace=_NS,
        location=world.regions[cluster.region].location,
        now=ctx.now,
        duration=world.faults.latency(op),
        complete=complete,
        result_path=path,
        forced_error=(fault.code, fault.message or f"The cluster {op.value} failed (sandbox fault).")
        if fault
        else None,
        abort=abort,
        detail={"cluster": cluster.name, "power_state": power},
    )
    return Response(202, headers=lro_urls(ctx, operation, "operations", "operationresults"))


def _pools(ctx: Ctx) -> Response:
    cluster = _cluster_of(ctx)
    return paged(ctx, [pool_json(ctx, cluster, p) for p in cluster.pools.values()])


def _pool_of(ctx: Ctx, cluster: ClusterState) -> PoolState:
    pool = cluster.pools.get(ctx.params["pool"].lower())
    if pool is None:
        raise not_found(f"{_NS}/managedClusters/agentPools", f"{cluster.name}/{ctx.params['pool']}", ctx.rg)
    return pool


def _pool(ctx: Ctx) -> Response:
    cluster = _cluster_of(ctx)
    return json_response(200, pool_json(ctx, cluster, _pool_of(ctx, cluster)))


def _put_pool(ctx: Ctx) -> Response:
    """Create-or-update of an existing pool: its ``count`` (the sandbox creates no pools: they come from the
    estate)."""
    cluster = _cluster_of(ctx)
    pool = _pool_of(ctx, cluster)
    props = ctx.body().get("properties")
    if not isinstance(props, dict):
        raise ArmError(400, "InvalidParameter", "properties is required for an agent pool.", target="properties")
    count = props.get("count", pool.count)
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 1000:
        raise ArmError(
            400,
            "InvalidParameter",
            f"The value of parameter agentPoolProfile.count is invalid: '{count}'. Please see "
            "https://aka.ms/aks-naming-rules for more details.",
            target="agentPoolProfile.count",
        )
    if count == 0 and pool.mode == "System":
        raise ArmError(400, "InvalidParameter", "A system node pool must have at least one node.", target="count")
    if cluster.power != "Running":
        raise ArmError(
            409,
            "OperationNotAllowed",
            "Operation is not allowed because the managed cluster is stopped. Start the cluster first.",
        )
    world = ctx.world
    path = f"{cluster_id(ctx, cluster)}/agentPools/{pool.name}"
    fault = world.faults.take_lro_failure(OpKind.AKS_POOL_SCALE)
    before = pool.count
    pool.count = count  # ARM shows the count asked for at once, Scaling until the nodes are there
    pool.provisioning = "Scaling"
    pool.updates += 1
    update = pool.updates

    def complete(at: float) -> Outcome:
        if update == pool.updates:
            pool.provisioning = "Succeeded"
        return None

    def abort(at: float) -> None:
        if update == pool.updates:
            pool.count, pool.provisioning = before, "Failed"

    operation = world.operations.create(
        op=OpKind.AKS_POOL_SCALE,
        namespace=_NS,
        location=world.regions[cluster.region].location,
        now=ctx.now,
        duration=world.faults.latency(OpKind.AKS_POOL_SCALE),
        complete=complete,
        result_path=path,
        forced_error=(fault.code, fault.message or "The agent pool update failed (sandbox fault).") if fault else None,
        abort=abort,
        detail={"cluster": cluster.name, "pool": pool.name, "count": count},
    )
    return json_response(200, pool_json(ctx, cluster, pool), lro_urls(ctx, operation, "operations", None))


def _user_credential(ctx: Ctx) -> Response:
    cluster = store(ctx.world).clusters.get(ctx.params["name"].lower())
    if cluster is None or cluster.resource_group.lower() != ctx.rg.lower():
        raise not_found(f"{_NS}/managedClusters", ctx.params["name"], ctx.rg)
    ctx.check_region(cluster.region, write=False)
    return json_response(200, {"kubeconfigs": [{"name": "clusterUser", "value": kubeconfig(ctx, cluster)}]})


def kubeconfig(ctx: Ctx, cluster: ClusterState) -> str:
    """The cluster user's kubeconfig, base64 as ARM returns it: AAD with a ``kubelogin`` exec user (the AKS
    default since Kubernetes 1.24), its server the sandbox's Kubernetes API of this cluster."""
    ca = ctx.world.ca_pem
    name = cluster.name
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": name,
                "cluster": {
                    "certificate-authority-data": base64.b64encode(ca.encode()).decode(),
                    "server": f"{ctx.base_url}{KUBE_PREFIX}{name.lower()}",
                },
            }
        ],
        "contexts": [
            {"name": name, "context": {"cluster": name, "user": f"clusterUser_{cluster.resource_group}_{name}"}}
        ],
        "current-context": name,
        "preferences": {},
        "users": [
            {
                "name": f"clusterUser_{cluster.resource_group}_{name}",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "kubelogin",
                        "args": [
                            "get-token",
                            "--environment",
                            "AzurePublicCloud",
                            "--server-id",
                            AKS_SERVER_APP,
                            "--client-id",
                            "80faf920-1908-4b52-b5ef-a8e7bedfc67a",
                            "--tenant-id",
                            ctx.world.tenant_id,
                            "--login",
                            "devicecode",
                        ],
                        "env": None,
                        "installHint": "kubelogin is not installed which is required to connect to AAD enabled "
                        "cluster.\n\nTo learn more, please go to https://aka.ms/aks/kubelogin\n",
                        "provideClusterInfo": False,
                    }
                },
            }
        ],
    }
    text = yaml.safe_dump(config, sort_keys=False)
    return base64.b64encode(text.encode()).decode()
