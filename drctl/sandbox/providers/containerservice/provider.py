"""The containerservice provider: AKS clusters' store, snapshot section, seeding, and the pod clock.

A Deployment's ready replicas are computed, not stored: each pod it has carries the sandbox time it is ready at
(its creation plus the cluster's ``pod_start_seconds``), and a read counts those already due, while the cluster
runs, its region is up and its nodes have room (``max_pods`` per node, shared by the Deployments in estate
order). Stopping the cluster deletes every pod; starting it creates them again, ready a pod start later.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from drctl.errors import SandboxError
from drctl.sandbox.ops import OpKind
from drctl.sandbox.providers.base import Problems, Provider, Seeding
from drctl.sandbox.providers.containerservice.model import (
    ClusterState,
    ContainerServiceStore,
    DeploymentState,
    PoolState,
)

if TYPE_CHECKING:
    from drctl.sandbox.arm.core import Ctx, Route
    from drctl.sandbox.estate import Estate
    from drctl.sandbox.state import World

#: a warm standby's cluster: stopped (no control-plane or node cost beyond disks), pools and Deployments at this
STANDBY_COUNT = 1
#: where the Kubernetes API of cluster NAME is served on the sandbox's main port: ``/_aks/NAME``
KUBE_PREFIX = "/_aks/"
_UIDS = uuid.UUID("6c1f0d7e-2a4b-4e59-9d0c-aa5e3f1b7c42")


def store(world: World) -> ContainerServiceStore:
    return world.store(PROVIDER.name, ContainerServiceStore)


def deployment_key(namespace: str, name: str) -> str:
    return f"{namespace}/{name}".lower()


class ContainerServiceProvider(Provider):
    name = "containerservice"
    namespace = "Microsoft.ContainerService"
    api_versions = ("2025-10-01", "2025-07-01", "2025-05-01", "2025-02-01", "2024-10-01", "2024-09-01")
    resource_types = (
        ("managedClusters", True, True),
        ("managedClusters/agentPools", True, False),
        ("locations", False, False),
        ("locations/operations", True, False),
        ("locations/operationresults", True, False),
    )
    op_kinds = (OpKind.AKS_START, OpKind.AKS_STOP, OpKind.AKS_POOL_SCALE)
    data_op_kinds = (OpKind.K8S_READ, OpKind.K8S_SCALE)
    snapshot_keys = ("aks_clusters",)

    def build(self, world: World, estate: Estate, now: float) -> ContainerServiceStore:
        clusters: dict[str, ClusterState] = {}
        for c in estate.aks_clusters:
            running = c.power_state == "Running"
            cluster = ClusterState(
                c.name,
                c.resource_group,
                c.region,
                dict(c.tags),
                power=c.power_state,
                kubernetes_version=c.kubernetes_version,
                pod_start=c.pod_start_seconds,
                max_pods=c.max_pods,
                pools={p.name.lower(): PoolState(p.name, p.count, p.vm_size, p.mode) for p in c.node_pools},
            )
            for d in c.deployments:
                cluster.deployments[deployment_key(d.namespace, d.name)] = DeploymentState(
                    d.name,
                    d.namespace,
                    d.replicas,
                    uid=str(uuid.uuid5(_UIDS, f"{c.name}/{d.namespace}/{d.name}".lower())),
                    created=now,
                    # the estate's state is a steady one: a running cluster's pods are ready already
                    pods=[now] * d.replicas if running else [],
                )
            clusters[c.name.lower()] = cluster
        return ContainerServiceStore(clusters)

    def routes(self) -> list[Route]:
        from drctl.sandbox.providers.containerservice import routes

        return routes.routes()

    def snapshot(self, world: World, now: float) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for c in store(world).clusters.values():
            ready = ready_replicas(world, c, now)
            out[c.name] = {
                "region": c.region,
                "resource_group": c.resource_group,
                "power_state": c.power,
                "provisioning_state": c.provisioning,
                "node_pools": {
                    p.name: {"count": p.count, "provisioning_state": p.provisioning} for p in c.pools.values()
                },
                "deployments": {
                    f"{d.namespace}/{d.name}": {"replicas": d.replicas, "ready_replicas": ready[k]}
                    for k, d in c.deployments.items()
                },
            }
        return {"aks_clusters": out}

    def seed(self, seeding: Seeding, data: dict[str, Any]) -> None:
        """The home region's cluster running at the playbook's counts and replicas, all ready; every other
        region's a warm standby: stopped, its pools and Deployments at one (or zero where the playbook says 0)."""
        out: list[dict[str, Any]] = data.setdefault("aks_clusters", [])
        for key, region in seeding.playbook.regions.items():
            aks = region.aks
            if aks is None:
                continue
            home = key == seeding.home
            pools = [
                {
                    "name": p.name,
                    "count": p.count if home else min(STANDBY_COUNT, p.count),
                    "mode": "System" if i == 0 else "User",
                }
                for i, p in enumerate(aks.node_pools)
            ]
            deployments = [
                {
                    "name": d.name,
                    "namespace": d.namespace,
                    "replicas": d.replicas if home else min(STANDBY_COUNT, d.replicas),
                }
                for d in aks.deployments
            ]
            out.append(
                {
                    "name": aks.cluster,
                    "resource_group": aks.resource_group or region.resource_group,
                    "region": key,
                    "power_state": "Running" if home else "Stopped",
                    "node_pools": pools,
                    "deployments": deployments,
                }
            )

    def check(self, estate: Estate, problems: Problems) -> None:
        from drctl.sandbox.estate_checks import check_placed

        check_placed(estate, problems, ("aks_clusters",), estate.aks_clusters, "AKS cluster")
        for i, cluster in enumerate(estate.aks_clusters):
            seen: set[str] = set()
            for j, pool in enumerate(cluster.node_pools):
                if pool.name.lower() in seen:
                    problems.append((("aks_clusters", i, "node_pools", j, "name"), f"duplicate pool {pool.name!r}"))
                seen.add(pool.name.lower())
            names: set[str] = set()
            for j, d in enumerate(cluster.deployments):
                key = deployment_key(d.namespace, d.name)
                if key in names:
                    problems.append((("aks_clusters", i, "deployments", j, "name"), f"duplicate Deployment {key!r}"))
                names.add(key)

    def placements(self, world: World) -> Iterable[tuple[str, str | None]]:
        return [(c.resource_group, c.region) for c in store(world).clusters.values()]

    def listed(self, ctx: Ctx) -> list[dict[str, Any]]:
        from drctl.sandbox.arm.core import summary_entry

        return [
            summary_entry(
                ctx,
                c.resource_group,
                "Microsoft.ContainerService/managedClusters",
                c.name,
                region=c.region,
                tags=c.tags,
                sku={"name": "Base", "tier": "Standard"},
            )
            for c in store(ctx.world).clusters.values()
        ]


PROVIDER = ContainerServiceProvider()


# ---- the pod clock --------------------------------------------------------------------------------------------
def ready_replicas(world: World, cluster: ClusterState, now: float) -> dict[str, int]:
    """Ready pods per Deployment key: due pods, on a running cluster in a region that is up, within node room."""
    if cluster.power != "Running" or not world.regions[cluster.region].up:
        return dict.fromkeys(cluster.deployments, 0)
    room = sum(p.count for p in cluster.pools.values()) * cluster.max_pods
    out: dict[str, int] = {}
    for key, d in cluster.deployments.items():
        due = sum(1 for at in d.pods if at <= now)
        out[key] = min(due, room)
        room -= out[key]
    return out


def set_replicas(cluster: ClusterState, deployment: DeploymentState, replicas: int, now: float) -> None:
    """The Deployment's desired replicas: new pods are ready a pod start from now, the newest go first."""
    if replicas != deployment.replicas:
        deployment.generation += 1
    deployment.replicas = replicas
    deployment.resource_version += 1
    if cluster.power != "Running":
        deployment.pods = []
        return
    pods = sorted(deployment.pods)
    if replicas < len(pods):
        deployment.pods = pods[:replicas]
    else:
        deployment.pods = pods + [now + cluster.pod_start] * (replicas - len(pods))


def power_changed(cluster: ClusterState, power: str, at: float) -> None:
    """A start or stop completed at ``at``: pods gone when stopped, created again (not yet ready) when started."""
    cluster.power = power
    for d in cluster.deployments.values():
        d.pods = [at + cluster.pod_start] * d.replicas if power == "Running" else []
        d.resource_version += 1


def region_health(world: World, region: str, now: float) -> dict[str, Any] | None:
    """The app endpoint's ``aks`` check for a region whose app tier runs on AKS (None: no cluster there): ok
    when each cluster runs and each of its Deployments has a ready replica."""
    clusters = [c for c in store(world).clusters.values() if c.region == region]
    if not clusters:
        return None
    detail: dict[str, Any] = {}
    ok = True
    for c in clusters:
        ready = ready_replicas(world, c, now)
        detail[c.name] = {
            "power_state": c.power,
            "ready": {f"{d.namespace}/{d.name}": ready[k] for k, d in c.deployments.items()},
        }
        ok = ok and c.power == "Running" and all(n > 0 for n in ready.values())
    return {"status": "ok" if ok else "not_ready", "detail": detail}


def cluster(world: World, name: str) -> ClusterState:
    found = store(world).clusters.get(name.lower())
    if found is None:
        raise SandboxError(f"unknown AKS cluster {name!r}")
    return found
