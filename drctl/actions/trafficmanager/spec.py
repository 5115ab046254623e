"""trafficmanager.switch: enable the target's Traffic Manager endpoint, take the source's out of rotation, and
verify that the profile's DNS name answers with the target."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from drctl.actions.base import ActionSpec, Params, Problem, SafetyRole, Scope
from drctl.durations import format_duration
from drctl.playbook.model import Duration


class TmSwitchParams(Params):
    #: ``disable``: the source's endpoint is disabled (clients never go back to it on their own);
    #: ``deprioritise``: it stays enabled with a priority after every other endpoint (Traffic Manager would send
    #: clients back to it only if the target's endpoint failed its probes)
    source_endpoint: Literal["disable", "deprioritise"] = "disable"
    #: how long to wait for the profile's DNS name to answer with the target before the step fails (resumable)
    verify_timeout: Duration = timedelta(minutes=2)


@dataclass(frozen=True)
class Switch:
    profile: str
    resource_group: str
    subscription: str | None
    source_region: str
    source_endpoint: str
    target_region: str
    target_endpoint: str


def switch_of(scope: Scope) -> Switch | None:
    """The profile and the two endpoints the step moves between, from the playbook; None when it names none."""
    tm = scope.playbook.traffic_manager
    source, target = scope.source.traffic_manager_endpoint, scope.target.traffic_manager_endpoint
    if tm is None or source is None or target is None:
        return None
    return Switch(tm.profile, tm.resource_group, tm.subscription, scope.source_name, source, scope.target_name, target)


def _describe(p: TmSwitchParams, scope: Scope) -> list[str]:
    switch = switch_of(scope)
    if switch is None:
        return []
    leave = "disable" if p.source_endpoint == "disable" else "give a priority after every other endpoint to"
    return [
        f"Traffic Manager {switch.profile}: enable endpoint {switch.target_endpoint} ({switch.target_region}), then "
        f"{leave} {switch.source_endpoint} ({switch.source_region})",
        f"verify that the profile's DNS name answers with the target (up to {format_duration(p.verify_timeout)}); "
        "clients switch by then + the profile's TTL",
    ]


def _check(p: TmSwitchParams, scope: Scope) -> list[Problem]:
    if scope.playbook.traffic_manager is None:
        return [Problem("trafficmanager.switch needs the playbook's 'traffic_manager' section (profile, group)")]
    return [
        Problem(f"regions.{scope.region_name(role)} names no traffic_manager_endpoint")
        for role in ("source", "target")
        if scope.region(role).traffic_manager_endpoint is None
    ]


def _safety(_p: TmSwitchParams, _raw: Mapping[str, Any]) -> set[SafetyRole]:
    return {SafetyRole.MOVES_TRAFFIC}


TM_SWITCH = ActionSpec(
    name="trafficmanager.switch",
    summary="Enable the target's Traffic Manager endpoint, disable (or de-prioritise) the source's, verify the name",
    params=TmSwitchParams,
    mutating=True,
    default_timeout=timedelta(minutes=5),
    default_budget=timedelta(minutes=2),
    describe=_describe,
    check=_check,
    safety=_safety,
    moves_traffic=True,
    needs_azure=True,
)
