"""AKS clusters in the estate file (``aks_clusters:``) and their live state: power, agent pools, Deployments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from drctl.sandbox.providers.base import EstateModel, Placed, RegionKey, ResourceName


class AgentPool(EstateModel):
    name: ResourceName
    count: int = Field(ge=0, le=1000)
    vm_size: str = "Standard_D4s_v5"
    mode: Literal["System", "User"] = "User"


class Deployment(EstateModel):
    name: ResourceName
    namespace: ResourceName = "default"
    replicas: int = Field(ge=0, le=10000)


class ManagedCluster(EstateModel):
    name: ResourceName
    resource_group: ResourceName
    region: RegionKey
    tags: dict[str, str] = Field(default_factory=dict)
    power_state: Literal["Running", "Stopped"] = "Running"
    kubernetes_version: str = "1.31.7"
    #: seconds from a pod's creation (a scale-out, a cluster start) until it reports ready
    pod_start_seconds: float = Field(default=5.0, ge=0, le=3600)
    #: pods one node runs (AKS's ``maxPods``): ready replicas never exceed the cluster's nodes times this
    max_pods: int = Field(default=110, ge=1, le=250)
    node_pools: list[AgentPool] = Field(default_factory=list)
    deployments: list[Deployment] = Field(default_factory=list)


class ContainerServiceSection(EstateModel):
    aks_clusters: list[ManagedCluster] = Field(default_factory=list)


@dataclass
class PoolState:
    name: str
    count: int
    vm_size: str
    mode: str
    provisioning: str = "Succeeded"
    #: numbers scale operations so that only the newest one, when it completes, sets the count
    updates: int = 0


@dataclass
class DeploymentState:
    name: str
    namespace: str
    replicas: int
    uid: str
    created: float
    generation: int = 1
    resource_version: int = 1
    #: when each of its pods is (or will be) ready, in sandbox time; one entry per pod that exists
    pods: list[float] = field(default_factory=list)


@dataclass
class ClusterState(Placed):
    power: str = "Running"
    provisioning: str = "Succeeded"
    kubernetes_version: str = "1.31.7"
    pod_start: float = 5.0
    max_pods: int = 110
    #: pool name lower -> pool
    pools: dict[str, PoolState] = field(default_factory=dict)
    #: "namespace/name" lower -> Deployment
    deployments: dict[str, DeploymentState] = field(default_factory=dict)


@dataclass
class ContainerServiceStore:
    #: name lower -> cluster
    clusters: dict[str, ClusterState] = field(default_factory=dict)
