"""frontdoor.switch: enable the target's Front Door origin, disable (or de-prioritise) the source's, and verify
through the endpoint's public host name that requests reach the target."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, model_validator

from drctl.actions.base import ActionSpec, Params, Problem, SafetyRole, Scope
from drctl.playbook.model import Duration


class FrontDoorSwitchParams(Params):
    #: what becomes of the source's origin: ``disable`` it, or ``deprioritize`` it (Enabled at
    #: ``source_priority``, so Front Door still falls back to it while the target is unhealthy)
    source: Literal["disable", "deprioritize"] = "disable"
    #: the priority written on the target's origin (1 is the highest)
    target_priority: int = Field(default=1, ge=1, le=5)
    #: the priority written on the source's origin when ``source: deprioritize``
    source_priority: int = Field(default=2, ge=1, le=5)
    #: the path requested through the endpoint's host name; the target's ``health_url`` path when omitted
    path: str | None = Field(default=None, pattern=r"^/[^\s#]*$")
    #: the JSON field of the answer that names the region that served it (the target's key or Azure location)
    region_field: str = Field(default="region", min_length=1)
    #: consecutive answers from the target that make the switch verified
    samples: int = Field(default=5, ge=1, le=100)
    interval: Duration = timedelta(seconds=1)
    #: Front Door configuration changes take minutes, up to tens of minutes, to reach every edge
    verify_timeout: Duration = timedelta(minutes=20)

    @model_validator(mode="after")
    def _order(self) -> FrontDoorSwitchParams:
        if self.source == "deprioritize" and self.source_priority <= self.target_priority:
            raise ValueError(
                f"source_priority ({self.source_priority}) must be lower than target_priority "
                f"({self.target_priority}), i.e. a larger number"
            )
        return self


@dataclass(frozen=True)
class Where:
    resource_group: str
    profile: str
    endpoint: str
    origin_group: str
    subscription: str | None
    source_origin: str
    target_origin: str


def where(scope: Scope) -> Where | None:
    fd = scope.playbook.front_door
    if fd is None or scope.source.front_door_origin is None or scope.target.front_door_origin is None:
        return None
    return Where(
        fd.resource_group,
        fd.profile,
        fd.endpoint,
        fd.origin_group,
        fd.subscription,
        scope.source.front_door_origin,
        scope.target.front_door_origin,
    )


def source_state(p: FrontDoorSwitchParams) -> tuple[bool, int | None]:
    """What the source's origin becomes: (enabled, priority; None keeps its priority)."""
    return (False, None) if p.source == "disable" else (True, p.source_priority)


def _describe(p: FrontDoorSwitchParams, scope: Scope) -> list[str]:
    w = where(scope)
    if w is None:
        return []
    enabled, priority = source_state(p)
    left = "Disabled" if not enabled else f"Enabled, priority {priority}"
    return [
        f"Front Door {w.profile}/{w.origin_group}: origin {w.target_origin} -> Enabled, priority {p.target_priority}",
        f"Front Door {w.profile}/{w.origin_group}: origin {w.source_origin} -> {left}",
        f"verify through endpoint {w.endpoint}'s host name: {p.samples} consecutive answers from {scope.target_name} "
        f"(within {int(p.verify_timeout.total_seconds() // 60)} min); clients switch when seen (propagation measured)",
    ]


def _check(p: FrontDoorSwitchParams, scope: Scope) -> list[Problem]:
    if scope.playbook.front_door is None:
        return [Problem("frontdoor.switch needs the playbook's 'front_door' section (profile, endpoint, origin group)")]
    problems = []
    for role, name, region in (
        ("source", scope.source_name, scope.source),
        ("target", scope.target_name, scope.target),
    ):
        if region.front_door_origin is None:
            problems.append(Problem(f"frontdoor.switch needs regions.{name}.front_door_origin ({role})"))
    if p.path is None and not scope.target.health_url:
        problems.append(Problem("frontdoor.switch needs 'path' when the target has no health_url", ("path",)))
    return problems


def _safety(_p: FrontDoorSwitchParams, _raw: Mapping[str, Any]) -> set[SafetyRole]:
    return {SafetyRole.MOVES_TRAFFIC}


FRONTDOOR_SWITCH = ActionSpec(
    name="frontdoor.switch",
    summary="Enable the target's Front Door origin, disable the source's, verify requests reach the target",
    params=FrontDoorSwitchParams,
    mutating=True,
    default_timeout=timedelta(minutes=30),
    default_budget=timedelta(minutes=10),
    describe=_describe,
    check=_check,
    safety=_safety,
    moves_traffic=True,
    needs_azure=True,
)
