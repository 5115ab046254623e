"""standby.start_web_apps, standby.scale and standby.patch: bring the warm standby up to serve; standby.return: put
a region back to the state those journaled before changing it (warm standby again after a drill or a failback)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import Field

from drctl.actions.base import ActionSpec, Params, Problem, Scope, at_least


class StartWebAppsParams(Params):
    #: the target region's web apps when omitted
    apps: list[str] | None = None
    resource_group: str | None = None


class ScaleTarget(Params):
    name: str
    #: an explicit floor; otherwise min_ratio of the source's capacity
    capacity: int | None = Field(default=None, ge=0, le=1000)


class ScaleParams(Params):
    #: the target region's scale sets when omitted, matched by position to the source region's
    scale_sets: list[ScaleTarget] | None = None
    resource_group: str | None = None
    #: service degradation after failover stays under 20 %: at least 80 % of the source's capacity
    min_ratio: Annotated[float, Field(gt=0.0, le=1.0)] = 0.8


class PatchParams(Params):
    resource_id: Annotated[str, Field(pattern=r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/.+", min_length=1)]
    api_version: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}(-preview)?$")]
    body: dict[str, Any] = Field(min_length=1)
    #: the part of the resource that must read back as given; the body itself when omitted
    verify: dict[str, Any] | None = None


class ReturnParams(Params):
    #: the region to return: ``source`` (the region the phase leaves), ``target``, or a playbook region key
    region: str = "source"


def return_region(p: ReturnParams, scope: Scope) -> str:
    """The playbook region key ``p.region`` names in this direction."""
    if p.region == "source":
        return scope.source_name
    if p.region == "target":
        return scope.target_name
    return p.region


def _apps(p: StartWebAppsParams, scope: Scope) -> list[str]:
    return p.apps if p.apps is not None else scope.target.web_apps


def _describe_start(p: StartWebAppsParams, scope: Scope) -> list[str]:
    group = p.resource_group or scope.target.resource_group
    return [f"start web app {app} ({group}) and wait until Running" for app in _apps(p, scope)]


def _check_start(p: StartWebAppsParams, scope: Scope) -> list[Problem]:
    if not _apps(p, scope):
        return [Problem(f"no web apps to start: region {scope.target_name!r} declares none")]
    return []


def scale_plan(p: ScaleParams, scope: Scope) -> list[tuple[str, int | None, int]]:
    """(target scale set, source capacity from the playbook or None, planned floor) for each scale set."""
    source_sets = scope.source.scale_sets
    planned: list[tuple[str, int | None, int]] = []
    targets = p.scale_sets or [ScaleTarget(name=s.name) for s in scope.target.scale_sets]
    for index, target in enumerate(targets):
        source_capacity = source_sets[index].capacity if index < len(source_sets) else None
        if target.capacity is not None:
            planned.append((target.name, source_capacity, target.capacity))
        else:
            planned.append((target.name, source_capacity, at_least(p.min_ratio, source_capacity or 0)))
    return planned


def _describe_scale(p: ScaleParams, scope: Scope) -> list[str]:
    group = p.resource_group or scope.target.resource_group
    lines = []
    for name, source_capacity, floor in scale_plan(p, scope):
        basis = (
            f"{p.min_ratio:.0%} of source capacity {source_capacity} as declared; re-read live at run time"
            if source_capacity is not None
            else "explicit"
        )
        lines.append(f"scale set {name} ({group}): capacity -> at least {floor} ({basis})")
    return lines


def _check_scale(p: ScaleParams, scope: Scope) -> list[Problem]:
    targets = p.scale_sets or scope.target.scale_sets
    if not targets:
        return [Problem(f"no scale sets to scale: region {scope.target_name!r} declares none")]
    problems = []
    for index, target in enumerate(p.scale_sets or []):
        if target.capacity is None and index >= len(scope.source.scale_sets):
            problems.append(
                Problem(
                    "no source scale set at this position to size from: give 'capacity'",
                    ("scale_sets", index),
                )
            )
    return problems


def _describe_patch(p: PatchParams, _scope: Scope) -> list[str]:
    import json

    return [f"PATCH {p.resource_id} (api-version {p.api_version}): {json.dumps(p.body, sort_keys=True)}"]


START_WEB_APPS = ActionSpec(
    name="standby.start_web_apps",
    summary="Start the target's web apps and wait until they run",
    params=StartWebAppsParams,
    mutating=True,
    default_timeout=timedelta(minutes=10),
    default_budget=timedelta(minutes=2),
    describe=_describe_start,
    check=_check_start,
    needs_azure=True,
)

SCALE = ActionSpec(
    name="standby.scale",
    summary="Scale the target's scale sets to at least a ratio of the source's capacity",
    params=ScaleParams,
    mutating=True,
    default_timeout=timedelta(minutes=20),
    default_budget=timedelta(minutes=5),
    describe=_describe_scale,
    check=_check_scale,
    needs_azure=True,
)

PATCH = ActionSpec(
    name="standby.patch",
    summary="PATCH any ARM resource and verify that the desired state reads back",
    params=PatchParams,
    mutating=True,
    default_timeout=timedelta(minutes=10),
    default_budget=timedelta(minutes=1),
    describe=_describe_patch,
    needs_azure=True,
)


def _describe_return(p: ReturnParams, scope: Scope) -> list[str]:
    region = return_region(p, scope)
    if region == scope.playbook.direction.source and region == scope.source_name:
        # the forward direction leaves the primary, which its standby steps do not change
        return [
            f"return {region} only to what this run's standby steps changed there (nothing, in this direction: "
            f"they change {scope.target_name}); never to an earlier run's state"
        ]
    return [
        f"return {region} to the state this run's standby steps journaled before changing it (web apps stopped "
        "again, capacity back), and verify; a failback run that changed nothing there reads the latest earlier "
        "run that did"
    ]


def _check_return(p: ReturnParams, scope: Scope) -> list[Problem]:
    region = return_region(p, scope)
    if region not in scope.playbook.regions:
        known = ", ".join(sorted(scope.playbook.regions))
        return [Problem(f"no region {region!r}: give source, target or one of {known}", ("region",))]
    return []


RETURN = ActionSpec(
    name="standby.return",
    summary="Return a region to the state the standby steps journaled before changing it, and verify",
    params=ReturnParams,
    mutating=True,
    default_timeout=timedelta(minutes=20),
    default_budget=timedelta(minutes=5),
    describe=_describe_return,
    check=_check_return,
    needs_azure=True,
)
