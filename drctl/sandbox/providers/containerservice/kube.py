"""The Kubernetes API of each sandbox AKS cluster, on the main HTTPS port under ``/_aks/{cluster}``: what the
kubeconfig from ``listClusterUserCredential`` points at.

Deployments (``apps/v1``): list (all namespaces or one), get, PATCH (JSON patch, merge or strategic merge of
``spec.replicas``) and the ``scale`` subresource (GET, PUT, PATCH), answered in the Kubernetes API's shapes
(``Status`` objects for errors). Authentication as AKS with Entra ID: a bearer token the sandbox's Entra endpoint
issued for the AKS server application (``6dae42f8-...``); none, an unknown one or one for another audience
(ARM's) is 401. A stopped cluster or a region that is down answers 503 (its API server is unreachable). Reads
are ``k8s.read`` and replica changes ``k8s.scale`` for faults (error, throttle with ``Retry-After``, latency).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import unquote

from drctl.sandbox.clock import iso
from drctl.sandbox.http import Request, Response, json_response
from drctl.sandbox.ops import OpKind, Service
from drctl.sandbox.providers.containerservice.model import ClusterState, DeploymentState
from drctl.sandbox.providers.containerservice.provider import (
    KUBE_PREFIX,
    deployment_key,
    ready_replicas,
    set_replicas,
    store,
)
from drctl.sandbox.providers.containerservice.routes import AKS_SERVER_APP
from drctl.sandbox.state import World
from drctl.sandbox.tokens import TokenCheck, TokenIssuer


class KubeError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def response(self) -> Response:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return json_response(self.code, body)


class KubeFront:
    def __init__(self, world: World, tokens: TokenIssuer) -> None:
        self.world = world
        self.tokens = tokens

    @staticmethod
    def matches(path: str) -> bool:
        return path.startswith(KUBE_PREFIX)

    async def handle(self, req: Request) -> Response:
        started = time.perf_counter()
        op = OpKind.K8S_READ if req.method in ("GET", "HEAD") else OpKind.K8S_SCALE
        try:
            response = await self._handle(req, op)
        except KubeError as exc:
            response = exc.response()
        self.world.log_request(
            {
                "service": Service.KUBE.value,
                "method": req.method,
                "path": req.raw_path,
                "status": response.status,
                "op": op.value,
                "time": iso(req.received_at),
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            }
        )
        return response

    async def _handle(self, req: Request, op: OpKind) -> Response:
        parts = [unquote(s) for s in req.raw_path[len(KUBE_PREFIX) :].split("/") if s]
        if not parts:
            raise KubeError(404, "NotFound", "the server could not find the requested resource")
        name, rest = parts[0], parts[1:]
        if self.tokens.check(req.headers.get("authorization"), [AKS_SERVER_APP]) is not TokenCheck.VALID:
            raise KubeError(401, "Unauthorized", "Unauthorized")
        with self.world.lock:
            cluster = store(self.world).clusters.get(name.lower())
            if cluster is None:
                raise KubeError(404, "NotFound", "the server could not find the requested resource")
            if not self.world.regions[cluster.region].up or cluster.power != "Running":
                raise KubeError(503, "ServiceUnavailable", f"the API server of cluster {cluster.name} is unreachable")
        fault = self.world.faults.take_error(op)
        if fault is not None:
            status = getattr(fault, "status", 429)
            error = KubeError(status, "TooManyRequests" if status == 429 else "InternalError", f"sandbox fault on {op}")
            response = error.response()
            if fault.retry_after is not None:
                response.headers["Retry-After"] = str(fault.retry_after)
            return response
        delay = self.world.faults.latency(op)
        if delay > 0:
            await asyncio.sleep(delay)
        with self.world.lock:
            now = self.world.advance()
            return _route(self.world, cluster, req, rest, now)


def _route(world: World, cluster: ClusterState, req: Request, rest: list[str], now: float) -> Response:
    method = req.method
    if rest == ["apis", "apps", "v1", "deployments"] and method == "GET":
        return _list(world, cluster, None, now)
    if len(rest) >= 6 and rest[:4] == ["apis", "apps", "v1", "namespaces"] and rest[5] == "deployments":
        namespace = rest[4]
        if len(rest) == 6 and method == "GET":
            return _list(world, cluster, namespace, now)
        if len(rest) in (7, 8):
            deployment = cluster.deployments.get(deployment_key(namespace, rest[6]))
            if deployment is None:
                raise KubeError(
                    404,
                    "NotFound",
                    f'deployments.apps "{rest[6]}" not found',
                    {"name": rest[6], "group": "apps", "kind": "deployments"},
                )
            scale = len(rest) == 8 and rest[7] == "scale"
            if len(rest) == 8 and not scale:
                raise KubeError(404, "NotFound", "the server could not find the requested resource")
            if method in ("PUT", "PATCH"):
                replicas = _replicas_of(req, deployment, scale=scale)
                set_replicas(cluster, deployment, replicas, now)
            elif method != "GET":
                raise KubeError(405, "MethodNotAllowed", f"the server does not allow the method {method}")
            if scale:
                return json_response(200, scale_json(cluster, deployment))
            return json_response(200, deployment_json(world, cluster, deployment, now))
    raise KubeError(404, "NotFound", "the server could not find the requested resource")


def _replicas_of(req: Request, deployment: DeploymentState, *, scale: bool) -> int:
    """The replicas a PUT or PATCH asks for: a JSON patch (``/spec/replicas``), or a merge of ``spec.replicas``."""
    try:
        body = json.loads(req.body or b"null")
    except ValueError:
        raise KubeError(400, "BadRequest", "the request body is not valid JSON") from None
    value: Any = deployment.replicas
    if isinstance(body, list):
        for patch in body:
            if (
                isinstance(patch, dict)
                and patch.get("path") == "/spec/replicas"
                and patch.get("op")
                in (
                    "replace",
                    "add",
                )
            ):
                value = patch.get("value")
    elif isinstance(body, dict):
        spec = body.get("spec")
        if isinstance(spec, dict) and "replicas" in spec:
            value = spec["replicas"]
        elif req.method == "PUT" and scale:
            raise KubeError(422, "Invalid", "Scale.spec.replicas: Required value")
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise KubeError(
            422,
            "Invalid",
            f'Scale.autoscaling "{deployment.name}" is invalid: spec.replicas: Invalid value: {value!r}: must be '
            "greater than or equal to 0",
        )
    return value


def _meta(deployment: DeploymentState) -> dict[str, Any]:
    return {
        "name": deployment.name,
        "namespace": deployment.namespace,
        "uid": deployment.uid,
        "resourceVersion": str(deployment.resource_version),
        "creationTimestamp": iso(deployment.created).split(".")[0].rstrip("Z") + "Z",
    }


def scale_json(cluster: ClusterState, deployment: DeploymentState) -> dict[str, Any]:
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": _meta(deployment),
        "spec": {"replicas": deployment.replicas},
        "status": {"replicas": len(deployment.pods), "selector": f"app={deployment.name}"},
    }


def deployment_json(world: World, cluster: ClusterState, deployment: DeploymentState, now: float) -> dict[str, Any]:
    ready = ready_replicas(world, cluster, now)[deployment_key(deployment.namespace, deployment.name)]
    labels = {"app": deployment.name}
    status: dict[str, Any] = {"observedGeneration": deployment.generation}
    # as the API server does: zero counts are omitted
    for key, value in (
        ("replicas", len(deployment.pods)),
        ("updatedReplicas", len(deployment.pods)),
        ("readyReplicas", ready),
        ("availableReplicas", ready),
        ("unavailableReplicas", max(0, deployment.replicas - ready)),
    ):
        if value:
            status[key] = value
    available = ready >= deployment.replicas
    status["conditions"] = [
        {
            "type": "Available",
            "status": "True" if available else "False",
            "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
            "message": "Deployment has minimum availability."
            if available
            else "Deployment does not have minimum availability.",
        },
        {
            "type": "Progressing",
            "status": "True",
            "reason": "NewReplicaSetAvailable" if available else "ReplicaSetUpdated",
            "message": f'ReplicaSet "{deployment.name}-7c9d8b6f5d" has successfully progressed.'
            if available
            else f'ReplicaSet "{deployment.name}-7c9d8b6f5d" is progressing.',
        },
    ]
    return {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {**_meta(deployment), "generation": deployment.generation, "labels": labels},
        "spec": {
            "replicas": deployment.replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": deployment.name,
                            "image": f"crwallet.azurecr.io/{deployment.name}:1.0.0",
                            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                        }
                    ]
                },
            },
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
        "status": status,
    }


def _list(world: World, cluster: ClusterState, namespace: str | None, now: float) -> Response:
    items = [
        {k: v for k, v in deployment_json(world, cluster, d, now).items() if k not in ("kind", "apiVersion")}
        for d in cluster.deployments.values()
        if namespace is None or d.namespace.lower() == namespace.lower()
    ]
    return json_response(
        200, {"kind": "DeploymentList", "apiVersion": "apps/v1", "metadata": {"resourceVersion": "1"}, "items": items}
    )
