"""aks.start_cluster, aks.scale_node_pools and aks.scale_deployments: bring an AKS warm standby up to serve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from pydantic import Field

from drctl.actions.base import ActionSpec, Params, Problem, Scope, at_least
from drctl.playbook.model import AksEstate, RegionEstate

Ratio = Annotated[float, Field(gt=0.0, le=1.0)]


class ClusterParams(Params):
    #: the target region's ``aks.cluster`` when omitted
    cluster: str | None = None
    #: the target's ``aks.resource_group`` (else the region's) when omitted
    resource_group: str | None = None


class StartClusterParams(ClusterParams):
    pass


class PoolTarget(Params):
    name: str
    #: an explicit floor; otherwise ``min_ratio`` of the source's pool of the same name (else same position)
    count: int | None = Field(default=None, ge=0, le=1000)


class ScaleNodePoolsParams(ClusterParams):
    #: the target region's ``aks.node_pools`` when omitted
    node_pools: list[PoolTarget] | None = None
    #: service degradation after failover stays under 20 %: at least 80 % of the source's nodes
    min_ratio: Ratio = 0.8


class DeploymentTarget(Params):
    name: str
    namespace: str = "default"
    #: an explicit floor; otherwise ``min_ratio`` of the source's Deployment of the same name
    replicas: int | None = Field(default=None, ge=0, le=10000)


class ScaleDeploymentsParams(ClusterParams):
    #: the target region's ``aks.deployments`` when omitted
    deployments: list[DeploymentTarget] | None = None
    min_ratio: Ratio = 0.8


@dataclass(frozen=True)
class Planned:
    """One pool or Deployment to size: where, its floor as planned, and the source it is sized from."""

    #: pool name, or ``namespace/name``
    name: str
    namespace: str
    short: str
    #: the source's count or replicas in the playbook (None: no source counterpart)
    declared: int | None
    #: the source's pool or Deployment to read live (None: explicit, or none)
    source: str | None
    explicit: int | None


def target_aks(scope: Scope) -> AksEstate | None:
    return scope.target.aks


def cluster_of(p: ClusterParams, region: RegionEstate) -> tuple[str, str]:
    """(resource group, cluster) of a region's cluster, the parameters first."""
    aks = region.aks
    cluster = p.cluster or (aks.cluster if aks else "")
    group = p.resource_group or (aks.resource_group if aks and aks.resource_group else None) or region.resource_group
    return group, cluster


def source_cluster(scope: Scope) -> tuple[str, str] | None:
    aks = scope.source.aks
    if aks is None:
        return None
    return aks.resource_group or scope.source.resource_group, aks.cluster


def pool_plan(p: ScaleNodePoolsParams, scope: Scope) -> list[Planned]:
    aks = target_aks(scope)
    source = scope.source.aks.node_pools if scope.source.aks else []
    targets = p.node_pools or [PoolTarget(name=n.name) for n in (aks.node_pools if aks else [])]
    out = []
    for index, t in enumerate(targets):
        match = next((s for s in source if s.name.lower() == t.name.lower()), None)
        if match is None and index < len(source):
            match = source[index]
        out.append(Planned(t.name, "", t.name, match.count if match else None, match.name if match else None, t.count))
    return out


def deployment_plan(p: ScaleDeploymentsParams, scope: Scope) -> list[Planned]:
    aks = target_aks(scope)
    source = scope.source.aks.deployments if scope.source.aks else []
    targets = p.deployments or [
        DeploymentTarget(name=d.name, namespace=d.namespace) for d in (aks.deployments if aks else [])
    ]
    out = []
    for index, t in enumerate(targets):
        match = next(
            (s for s in source if (s.namespace, s.name.lower()) == (t.namespace, t.name.lower())),
            None,
        )
        if match is None and index < len(source):
            match = source[index]
        out.append(
            Planned(
                f"{t.namespace}/{t.name}",
                t.namespace,
                t.name,
                match.replicas if match else None,
                f"{match.namespace}/{match.name}" if match else None,
                t.replicas,
            )
        )
    return out


def planned_floor(item: Planned, ratio: float) -> int:
    if item.explicit is not None:
        return item.explicit
    return at_least(ratio, item.declared or 0)


def _check_cluster(p: ClusterParams, scope: Scope) -> list[Problem]:
    if p.cluster is None and scope.target.aks is None:
        return [Problem(f"no AKS cluster: region {scope.target_name!r} declares no 'aks' and 'cluster' is not given")]
    return []


def _describe_start(p: StartClusterParams, scope: Scope) -> list[str]:
    group, cluster = cluster_of(p, scope.target)
    return [f"start AKS cluster {cluster} ({group}) if stopped, and wait until Running"]


def _basis(item: Planned, ratio: float) -> str:
    if item.explicit is not None:
        return "explicit"
    return f"{ratio:.0%} of source {item.declared} as declared; re-read live at run time"


def _describe_pools(p: ScaleNodePoolsParams, scope: Scope) -> list[str]:
    group, cluster = cluster_of(p, scope.target)
    return [
        f"node pool {i.name} of {cluster} ({group}): count -> at least {planned_floor(i, p.min_ratio)} "
        f"({_basis(i, p.min_ratio)}); never scaled down"
        for i in pool_plan(p, scope)
    ]


def _describe_deployments(p: ScaleDeploymentsParams, scope: Scope) -> list[str]:
    _, cluster = cluster_of(p, scope.target)
    return [
        f"Deployment {i.name} on {cluster}: replicas -> at least {planned_floor(i, p.min_ratio)} "
        f"({_basis(i, p.min_ratio)}); wait until that many are ready"
        for i in deployment_plan(p, scope)
    ]


def _check_pools(p: ScaleNodePoolsParams, scope: Scope) -> list[Problem]:
    problems = _check_cluster(p, scope)
    plan = pool_plan(p, scope)
    if not problems and not plan:
        problems.append(Problem(f"no node pools to scale: region {scope.target_name!r} declares none"))
    for index, item in enumerate(plan):
        if item.explicit is None and item.declared is None:
            problems.append(Problem("no source node pool to size from: give 'count'", ("node_pools", index)))
    return problems


def _check_deployments(p: ScaleDeploymentsParams, scope: Scope) -> list[Problem]:
    problems = _check_cluster(p, scope)
    plan = deployment_plan(p, scope)
    if not problems and not plan:
        problems.append(Problem(f"no Deployments to scale: region {scope.target_name!r} declares none"))
    for index, item in enumerate(plan):
        if item.explicit is None and item.declared is None:
            problems.append(Problem("no source Deployment to size from: give 'replicas'", ("deployments", index)))
    return problems


START_CLUSTER = ActionSpec(
    name="aks.start_cluster",
    summary="Start the target's AKS cluster if it is stopped, and wait until it runs",
    params=StartClusterParams,
    mutating=True,
    default_timeout=timedelta(minutes=20),
    default_budget=timedelta(minutes=6),
    describe=_describe_start,
    check=_check_cluster,
    needs_azure=True,
)

SCALE_NODE_POOLS = ActionSpec(
    name="aks.scale_node_pools",
    summary="Scale the target cluster's node pools to at least a ratio of the source's",
    params=ScaleNodePoolsParams,
    mutating=True,
    default_timeout=timedelta(minutes=20),
    default_budget=timedelta(minutes=5),
    describe=_describe_pools,
    check=_check_pools,
    needs_azure=True,
)

SCALE_DEPLOYMENTS = ActionSpec(
    name="aks.scale_deployments",
    summary="Scale the target's Deployments to at least a ratio of the source's replicas and wait until ready",
    params=ScaleDeploymentsParams,
    mutating=True,
    default_timeout=timedelta(minutes=15),
    default_budget=timedelta(minutes=3),
    describe=_describe_deployments,
    check=_check_deployments,
    needs_azure=True,
)
