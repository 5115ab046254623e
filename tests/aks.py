"""The sample playbook with an AKS app tier in each region, and a Kubernetes client for a sandbox cluster.

The AKS sample playbook of issue 13 comes with its own file; these tests need only the ``aks`` sections, so they
add them to the first sample (same regions, same groups).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from drctl.playbook.model import Playbook
from tests.conftest import SAMPLE

SOURCE_CLUSTER, TARGET_CLUSTER = "aks-wallet-aue", "aks-wallet-aus"
SOURCE_GROUP, TARGET_GROUP = "rg-wallet-aue", "rg-wallet-aus"
#: (name, production count) of each region's pools
POOLS = (("system", 3), ("apps", 6))
#: (namespace, name, production replicas) of each region's Deployments
DEPLOYMENTS = (("wallet", "wallet-api", 10), ("wallet", "wallet-worker", 4))


def aks_section(cluster: str) -> dict[str, Any]:
    return {
        "cluster": cluster,
        "node_pools": [{"name": n, "count": c} for n, c in POOLS],
        "deployments": [{"name": n, "namespace": ns, "replicas": r} for ns, n, r in DEPLOYMENTS],
    }


def aks_playbook_file(directory: Path) -> Path:
    data = yaml.safe_load(SAMPLE.read_text())
    data["regions"]["au-east"]["aks"] = aks_section(SOURCE_CLUSTER)
    data["regions"]["au-southeast"]["aks"] = aks_section(TARGET_CLUSTER)
    path = directory / "aks-playbook.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def aks_playbook(directory: Path) -> Playbook:
    from drctl.planning.load import load_playbook

    return load_playbook(aks_playbook_file(directory)).playbook


def kube_apps(environ: dict[str, str], resource_group: str, cluster: str, *, subscription: str | None = None) -> Any:
    """``kubernetes.client.AppsV1Api`` for a sandbox cluster, built as drctl builds it (``drctl.azure.aks.kube_api``:
    the ARM user credential's kubeconfig and an Entra token for the AKS server app, over the sandbox's HTTPS)."""
    from kubernetes import client as k8s

    from drctl.actions.testkit import azure_clients
    from drctl.azure import aks

    return k8s.AppsV1Api(aks.kube_api(azure_clients(environ, subscription=subscription), resource_group, cluster))
