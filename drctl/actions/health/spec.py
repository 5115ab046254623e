"""health.http and health.azure: is a region serving, and is its estate provisioned."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from drctl.actions.base import ActionSpec, Params, Problem, Role, SafetyRole, Scope
from drctl.durations import format_duration
from drctl.playbook.model import Duration
from drctl.playbook.refs import REF


def _status_list(value: object) -> object:
    return [value] if isinstance(value, int) and not isinstance(value, bool) else value


class HealthHttpParams(Params):
    url: Annotated[str, Field(pattern=r"^https?://")]
    #: which side this probes; inferred from a ``${{ source.* }}``/``${{ target.* }}`` url when omitted
    region: Role | None = None
    samples: int = Field(default=5, ge=1, le=1000)
    interval: Duration = timedelta(seconds=1)
    request_timeout: Duration = timedelta(seconds=5)
    expect_status: Annotated[list[Annotated[int, Field(ge=100, le=599)]], BeforeValidator(_status_list)] = [200]
    #: text the body must contain
    expect_body: str | None = None
    #: the latency golden signal: p95 of the samples must stay at or under this
    max_p95: Duration = timedelta(milliseconds=200)
    max_error_rate: float = Field(default=0.0, ge=0.0, le=1.0)


def _http_region(params: HealthHttpParams, raw: Mapping[str, Any]) -> Role | None:
    if params.region is not None:
        return params.region
    url = raw.get("url")
    if isinstance(url, str):
        roots = {m.group(1).strip().split(".")[0] for m in REF.finditer(url)}
        if roots == {"target"}:
            return "target"
        if roots == {"source"}:
            return "source"
    return None


def _describe_http(p: HealthHttpParams, _scope: Scope) -> list[str]:
    statuses = "/".join(str(s) for s in p.expect_status)
    body = f", body contains {p.expect_body!r}" if p.expect_body else ""
    return [
        f"probe {p.url}: {p.samples} samples every {format_duration(p.interval)}, expect {statuses}{body}, "
        f"p95 <= {format_duration(p.max_p95)}, errors <= {p.max_error_rate:.0%}"
    ]


def _http_safety(p: HealthHttpParams, raw: Mapping[str, Any]) -> set[SafetyRole]:
    return {SafetyRole.CHECKS_TARGET_HEALTH} if _http_region(p, raw) == "target" else set()


HEALTH_HTTP = ActionSpec(
    name="health.http",
    summary="Sample a URL: status, p95 latency and error rate against thresholds",
    params=HealthHttpParams,
    mutating=False,
    default_timeout=timedelta(minutes=2),
    default_budget=timedelta(seconds=30),
    describe=_describe_http,
    safety=_http_safety,
)

AzureCheck = Literal["resource_group", "sql", "web_apps", "scale_sets", "storage", "aks"]


class HealthAzureParams(Params):
    region: Role
    #: which parts of the region's estate to check; all that the region declares when omitted
    checks: list[AzureCheck] | None = None
    #: also require web apps Running, scale sets above zero, and the AKS cluster Running with every Deployment
    #: ready (a target after start-up)
    require_running: bool = False


def _azure_parts(p: HealthAzureParams, scope: Scope) -> list[str]:
    region = scope.region(p.region)
    wanted = set(p.checks) if p.checks is not None else None
    present = {
        "resource_group": True,
        "sql": region.sql is not None,
        "web_apps": bool(region.web_apps),
        "scale_sets": bool(region.scale_sets),
        "storage": bool(region.storage_accounts),
        "aks": region.aks is not None,
    }
    return [part for part, has in present.items() if has and (wanted is None or part in wanted)]


def _describe_azure(p: HealthAzureParams, scope: Scope) -> list[str]:
    region = scope.region(p.region)
    lines = [f"check {p.region} {scope.region_name(p.region)} ({region.location}) resources are provisioned"]
    parts = _azure_parts(p, scope)
    if "sql" in parts and region.sql:
        lines.append(f"SQL server {region.sql.server}: databases {', '.join(region.sql.databases)} Online")
    if "web_apps" in parts:
        state = "Running" if p.require_running else "present"
        lines.append(f"web apps {', '.join(region.web_apps)} {state}")
    if "scale_sets" in parts:
        lines.append(f"scale sets {', '.join(s.name for s in region.scale_sets)}")
    if "storage" in parts:
        lines.append(f"storage accounts {', '.join(region.storage_accounts)}")
    if "aks" in parts and region.aks:
        ready = ": Running, every Deployment with ready replicas" if p.require_running else " provisioned"
        lines.append(f"AKS cluster {region.aks.cluster}{ready}")
    return lines


def _check_azure(p: HealthAzureParams, scope: Scope) -> list[Problem]:
    if p.checks is None:
        return []
    parts = set(_azure_parts(p, scope))
    return [
        Problem(f"region {scope.region_name(p.region)!r} declares no {check} to check", ("checks", i))
        for i, check in enumerate(p.checks)
        if check not in parts
    ]


def _azure_safety(p: HealthAzureParams, _raw: Mapping[str, Any]) -> set[SafetyRole]:
    return {SafetyRole.CHECKS_TARGET_HEALTH} if p.region == "target" and p.require_running else set()


HEALTH_AZURE = ActionSpec(
    name="health.azure",
    summary="Check that a region's resources exist and are provisioned, and its SQL databases are Online",
    params=HealthAzureParams,
    mutating=False,
    default_timeout=timedelta(minutes=2),
    default_budget=timedelta(seconds=20),
    describe=_describe_azure,
    check=_check_azure,
    safety=_azure_safety,
    needs_azure=True,
)
