"""health.http and health.azure at run time."""

from __future__ import annotations

from typing import Any

from drctl.actions.health.spec import HealthAzureParams, HealthHttpParams, _azure_parts
from drctl.actions.runtime import ActionError, Finding, Implementation, Outcome, StepContext, TransientError
from drctl.durations import format_duration
from drctl.text import plural


def p95(latencies: list[float]) -> float | None:
    """The 95th percentile by the nearest-rank method: with 5 samples it is the slowest, as it should be."""
    if not latencies:
        return None
    ordered = sorted(latencies)
    rank = max(1, -(-95 * len(ordered) // 100))
    return ordered[rank - 1]


def run_http(p: HealthHttpParams, ctx: StepContext) -> Outcome:
    from drctl.net.http import Client, HttpError

    client = Client(timeout=p.request_timeout.total_seconds(), network=ctx.services.get("network"))
    latencies: list[float] = []
    failures: list[str] = []
    statuses: dict[str, int] = {}
    try:
        for index in range(p.samples):
            ctx.check_cancelled()
            try:
                response = client.request("GET", p.url)
            except HttpError as exc:
                failures.append(str(exc))
                statuses["error"] = statuses.get("error", 0) + 1
            else:
                latencies.append(response.seconds)
                statuses[str(response.status)] = statuses.get(str(response.status), 0) + 1
                if response.status not in p.expect_status:
                    failures.append(f"status {response.status}")
                elif p.expect_body is not None and p.expect_body not in response.body:
                    failures.append(f"body lacks {p.expect_body!r}")
            if index < p.samples - 1:
                ctx.sleep(p.interval.total_seconds())
    finally:
        client.close()
    worst = p95(latencies)
    error_rate = len(failures) / p.samples
    facts = {
        "url": p.url,
        "samples": p.samples,
        "statuses": statuses,
        "error_rate": round(error_rate, 4),
        "p95_ms": round(worst * 1000, 1) if worst is not None else None,
        "first_error": failures[0] if failures else None,
    }
    shown = f"p95 {format_duration(worst)}" if worst is not None else "no response"
    summary = f"{p.url}: {p.samples - len(failures)}/{p.samples} ok, {shown}"
    problems = []
    if error_rate > p.max_error_rate:
        problems.append(f"error rate {error_rate:.0%} > {p.max_error_rate:.0%} ({failures[0]})")
    if worst is None or worst > p.max_p95.total_seconds():
        problems.append(f"{shown} over {format_duration(p.max_p95)}" if worst is not None else "no response")
    if problems:
        ctx.record("health.http", {**facts, "healthy": False})
        # unhealthy now may be healthy in a minute (an app warming up): the step's retry policy decides
        raise TransientError(f"{summary}: " + "; ".join(dict.fromkeys(problems)))
    return Outcome(summary, facts={**facts, "healthy": True})


class _Inventory:
    """Reads a region's resources, keeping what was read, what is wrong, and what is not ready yet."""

    def __init__(self, ctx: StepContext) -> None:
        self.ctx = ctx
        self.checked: dict[str, str] = {}
        self.problems: list[str] = []
        self.waiting: list[str] = []

    def read(self, label: str, operation: Any, *args: Any) -> Any:
        from drctl.actions.azure_bridge import AzureFailure, arm

        try:
            value = arm(self.ctx, f"read {label}", operation, *args)
        except AzureFailure as exc:
            self.problems.append(str(exc))
            self.checked[label] = "unreadable"
            return None
        self.checked[label] = str(value)
        return value


def _inspect(p: HealthAzureParams, ctx: StepContext, found: _Inventory) -> None:
    from drctl.azure import standby, storage
    from drctl.azure.sql import database_status

    region = ctx.scope.region(p.region)
    rg = region.resource_group
    parts = _azure_parts(p, ctx.scope)
    if "resource_group" in parts:
        state = found.read(f"resource group {rg}", standby.resource_group_state, rg)
        if state not in (None, "Succeeded"):
            found.problems.append(f"resource group {rg} is {state}")
    if "sql" in parts and region.sql is not None:
        for db in region.sql.databases:
            status = found.read(f"database {region.sql.server}/{db}", database_status, rg, region.sql.server, db)
            if status not in (None, "Online"):
                found.problems.append(f"database {region.sql.server}/{db} is {status}")
    _inspect_compute(p, ctx, found, parts)
    if "storage" in parts:
        for account in region.storage_accounts:
            found.read(f"storage account {account}", storage.geo_replication, rg, account)


def _inspect_compute(p: HealthAzureParams, ctx: StepContext, found: _Inventory, parts: list[str]) -> None:
    from drctl.azure import standby

    region = ctx.scope.region(p.region)
    rg = region.resource_group
    if "web_apps" in parts:
        for app in region.web_apps:
            state = found.read(f"web app {app}", standby.web_app_state, rg, app)
            if p.require_running and state not in (None, "Running"):
                found.waiting.append(f"web app {app} is {state}")
    if "scale_sets" in parts:
        for vmss in region.scale_sets:
            capacity = found.read(f"scale set {vmss.name}", standby.scale_set_capacity, rg, vmss.name)
            if p.require_running and capacity == 0:
                found.waiting.append(f"scale set {vmss.name} has no instances")
    if "aks" in parts and region.aks is not None:
        _inspect_aks(p, ctx, found)


def _inspect_aks(p: HealthAzureParams, ctx: StepContext, found: _Inventory) -> None:
    """The cluster provisioned; with ``require_running``, Running and each Deployment with a ready replica (read
    through its Kubernetes API: an API that does not answer is not ready yet)."""
    from drctl.actions.azure_bridge import AzureFailure, arm
    from drctl.azure import aks

    region = ctx.scope.region(p.region)
    assert region.aks is not None
    rg = region.aks.resource_group or region.resource_group
    cluster = region.aks.cluster
    view = found.read(f"AKS cluster {cluster}", aks.cluster, rg, cluster)
    if view is None:
        return
    found.checked[f"AKS cluster {cluster}"] = f"{view.power_state} ({view.provisioning_state})"
    if view.provisioning_state == "Failed":
        found.problems.append(f"AKS cluster {cluster} is Failed")
    if not p.require_running:
        return
    if view.power_state != "Running" or view.provisioning_state != "Succeeded":
        found.waiting.append(f"AKS cluster {cluster} is {view.power_state} ({view.provisioning_state})")
        return
    for d in region.aks.deployments:
        label = f"Deployment {d.namespace}/{d.name}"
        try:
            ready = arm(ctx, f"read {label}", aks.deployment, rg, cluster, d.namespace, d.name).ready
        except (AzureFailure, TransientError) as exc:
            found.waiting.append(f"{label}: {exc}")
            continue
        found.checked[label] = f"{ready} ready"
        if ready < 1:
            found.waiting.append(f"{label} has no ready replica")


def run_azure(p: HealthAzureParams, ctx: StepContext) -> Outcome:
    name = ctx.scope.region_name(p.region)
    found = _Inventory(ctx)
    _inspect(p, ctx, found)
    if found.problems:
        raise ActionError(f"{name}: " + "; ".join(found.problems))
    if found.waiting:
        raise TransientError(f"{name}: " + "; ".join(found.waiting))
    facts = {"region": name, "checked": found.checked}
    return Outcome(f"{name}: {plural(len(found.checked), 'resource')} provisioned", facts=facts)


def _preflight_http(p: HealthHttpParams, ctx: StepContext) -> list[Finding]:
    from drctl.net.http import Client, HttpError

    client = Client(timeout=p.request_timeout.total_seconds(), network=ctx.services.get("network"))
    try:
        response = client.request("GET", p.url)
    except HttpError as exc:
        return [Finding(p.url, str(exc), "healthy", "warning", "does not answer now")]
    finally:
        client.close()
    healthy = response.status in p.expect_status
    return [Finding(p.url, f"status {response.status}", "healthy", "ok" if healthy else "warning")]


def _preflight_azure(p: HealthAzureParams, ctx: StepContext) -> list[Finding]:
    try:
        outcome = run_azure(p.model_copy(update={"require_running": False}), ctx)
    except (ActionError, TransientError) as exc:
        return [Finding(f"{p.region} estate", str(exc), "provisioned", "error")]
    return [Finding(f"{p.region} estate", outcome.summary, "provisioned", "ok")]


HTTP_IMPLEMENTATION = Implementation(run=run_http, preflight=_preflight_http)
AZURE_IMPLEMENTATION = Implementation(run=run_azure, preflight=_preflight_azure)


def implementation(action: str) -> Implementation[Any] | None:
    """The run-time half of ``action``: how the registry reaches this module when a run starts (``RunModule``)."""
    from drctl.actions.health.spec import HEALTH_AZURE, HEALTH_HTTP

    known: dict[str, Implementation[Any]] = {
        HEALTH_HTTP.name: HTTP_IMPLEMENTATION,
        HEALTH_AZURE.name: AZURE_IMPLEMENTATION,
    }
    return known.get(action)
