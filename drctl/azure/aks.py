"""AKS through the SDK (azure-mgmt-containerservice) and its workloads through the official ``kubernetes`` client.
Plain data out.

The Kubernetes API is reached the way Azure hands it out: the cluster user's kubeconfig from ARM
(``listClusterUserCredential``) gives the API server's URL and CA; the bearer token is an Entra token for the AKS
server application (``AKS_SCOPE``) from the run's own credential, what ``kubelogin`` would fetch. Nothing is read
from a file the operator prepares. Kubernetes errors are mapped to azure-core's, so ``azure.errors.classify``
decides once what is transient (503, 429, unreachable) and what is fatal (401, 404).
"""

from __future__ import annotations

import base64
import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from drctl.azure.clients import AzureClients
from drctl.azure.lro import Accepted
from drctl.azure.sql import prop

#: the Entra application of every AKS API server (Azure's, the same in each tenant)
AKS_SERVER_APP = "6dae42f8-4368-4678-94ff-3960e28e3630"
AKS_SCOPE = f"{AKS_SERVER_APP}/.default"

T = TypeVar("T")


@dataclass(frozen=True)
class ClusterView:
    power_state: str
    provisioning_state: str
    fqdn: str | None
    #: pool name -> node count, as ARM shows it
    pools: dict[str, int]


@dataclass(frozen=True)
class PoolView:
    name: str
    count: int
    provisioning_state: str


@dataclass(frozen=True)
class DeploymentView:
    namespace: str
    name: str
    replicas: int
    ready: int
    available: int


def cluster(clients: AzureClients, resource_group: str, name: str) -> ClusterView:
    found = clients.containerservice.managed_clusters.get(resource_group, name)
    power = prop(found, "power_state")
    pools = {str(p.name): int(p.count or 0) for p in (prop(found, "agent_pool_profiles") or [])}
    return ClusterView(
        power_state=str(getattr(power, "code", None) or "Unknown"),
        provisioning_state=str(prop(found, "provisioning_state") or "Unknown"),
        fqdn=prop(found, "fqdn"),
        pools=pools,
    )


def begin_start(clients: AzureClients, resource_group: str, name: str) -> Accepted:
    from drctl.azure.lro import begin

    return begin(clients, clients.containerservice.managed_clusters.begin_start, resource_group, name)


def begin_stop(clients: AzureClients, resource_group: str, name: str) -> Accepted:
    from drctl.azure.lro import begin

    return begin(clients, clients.containerservice.managed_clusters.begin_stop, resource_group, name)


def pool(clients: AzureClients, resource_group: str, cluster_name: str, name: str) -> PoolView:
    found = clients.containerservice.agent_pools.get(resource_group, cluster_name, name)
    return PoolView(str(found.name), int(prop(found, "count") or 0), str(prop(found, "provisioning_state") or ""))


def begin_scale_pool(clients: AzureClients, resource_group: str, cluster_name: str, name: str, count: int) -> Accepted:
    """PUT the pool as read with its new count (an agent pool has no PATCH): AKS scales it as one operation."""
    from drctl.azure.lro import begin

    pools = clients.containerservice.agent_pools
    current = pools.get(resource_group, cluster_name, name)
    current.count = count
    return begin(clients, pools.begin_create_or_update, resource_group, cluster_name, name, current)


# ---- the Kubernetes API ---------------------------------------------------------------------------------------
def kube_api(clients: AzureClients, resource_group: str, cluster_name: str) -> Any:
    """A ``kubernetes.client.ApiClient`` for the cluster, made once per run and cluster: server and CA from the
    cluster user's kubeconfig (ARM), the token an Entra token for the AKS server app, refreshed per request."""

    def make() -> Any:
        import yaml
        from kubernetes import client as k8s

        answer = clients.containerservice.managed_clusters.list_cluster_user_credentials(resource_group, cluster_name)
        kubeconfigs = list(getattr(answer, "kubeconfigs", None) or [])
        if not kubeconfigs:
            raise RuntimeError(f"ARM returned no kubeconfig for cluster {cluster_name}")
        value = kubeconfigs[0].value
        document = yaml.safe_load(value.decode() if isinstance(value, bytes | bytearray) else base64.b64decode(value))
        entry = document["clusters"][0]["cluster"]
        config = k8s.Configuration()
        config.host = str(entry["server"])
        ca = entry.get("certificate-authority-data")
        if ca:
            config.ssl_ca_cert = _ca_file(base64.b64decode(ca))
        elif clients.config.ca_bundle:
            config.ssl_ca_cert = clients.config.ca_bundle
        config.verify_ssl = True
        config.retries = 0  # drctl retries steps; urllib3 would hide an unreachable API server for seconds
        credential = clients.credential

        def refresh(conf: Any) -> None:
            # azure-identity caches the token until shortly before it expires: this is cheap per request
            conf.api_key["authorization"] = credential.get_token(AKS_SCOPE).token

        config.api_key_prefix["authorization"] = "Bearer"
        refresh(config)  # the client sends the header only when a key is set; the hook then keeps it fresh
        config.refresh_api_key_hook = refresh
        return k8s.ApiClient(config)

    return clients._once(f"kube:{resource_group.lower()}/{cluster_name.lower()}", make)


def _ca_file(pem: bytes) -> str:
    """The cluster CA as the file the kubernetes client wants, one per CA (the same for every cluster of a run)."""
    path = Path(tempfile.gettempdir()) / f"drctl-aks-ca-{hashlib.sha256(pem).hexdigest()[:16]}.pem"
    if not path.exists() or path.read_bytes() != pem:
        path.write_bytes(pem)
    return str(path)


def _kube(call: Callable[[], T]) -> T:
    """Run a kubernetes client call, its failures as azure-core's (one classification for drctl)."""
    import urllib3
    from azure.core.exceptions import HttpResponseError, ServiceRequestError
    from kubernetes.client.exceptions import ApiException

    try:
        return call()
    except ApiException as exc:
        error = HttpResponseError(message=f"Kubernetes API answered {exc.status} {exc.reason}: {_message(exc)}")
        error.status_code = exc.status
        raise error from None
    except urllib3.exceptions.HTTPError as exc:
        raise ServiceRequestError(f"cannot reach the Kubernetes API: {exc}") from None


def _message(exc: Any) -> str:
    import json

    try:
        return str(json.loads(exc.body).get("message") or exc.body)
    except (TypeError, ValueError, AttributeError):
        return str(exc.body or "")


def deployment(
    clients: AzureClients, resource_group: str, cluster_name: str, namespace: str, name: str
) -> DeploymentView:
    from kubernetes import client as k8s

    apps = k8s.AppsV1Api(kube_api(clients, resource_group, cluster_name))
    found = _kube(lambda: apps.read_namespaced_deployment(name, namespace))
    status = found.status
    return DeploymentView(
        namespace,
        name,
        int(found.spec.replicas or 0),
        int(getattr(status, "ready_replicas", None) or 0),
        int(getattr(status, "available_replicas", None) or 0),
    )


def scale_deployment(
    clients: AzureClients, resource_group: str, cluster_name: str, namespace: str, name: str, *, replicas: int
) -> None:
    """Set the Deployment's replicas through its ``scale`` subresource (what ``kubectl scale`` does)."""
    from kubernetes import client as k8s

    apps = k8s.AppsV1Api(kube_api(clients, resource_group, cluster_name))
    _kube(lambda: apps.patch_namespaced_deployment_scale(name, namespace, {"spec": {"replicas": replicas}}))
