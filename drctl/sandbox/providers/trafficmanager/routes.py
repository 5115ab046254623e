"""Microsoft.Network/trafficManagerProfiles: list, get and PATCH a profile; get, PUT (create or replace) and PATCH
(merge) its ``azureEndpoints``/``externalEndpoints`` (shapes of the 2022-04-01 REST examples).

Traffic Manager is a global service: a region outage does not touch its control plane, only the monitor status
of the endpoints in that region (and so the profile's DNS answer). Endpoint writes are the ``tm.endpoint.update``
operation kind, profile writes ``tm.profile.update``: faults on them leave reads alone.
"""

from __future__ import annotations

from typing import Any

from drctl.sandbox.arm.core import ArmError, Ctx, Handler, Route, not_found, paged
from drctl.sandbox.http import Response, json_response
from drctl.sandbox.ops import OpKind
from drctl.sandbox.providers.trafficmanager.model import ENDPOINT_TYPES, EndpointState, ProfileState
from drctl.sandbox.providers.trafficmanager.provider import (
    PROFILE_TYPE,
    endpoint_monitor_status,
    profile_monitor_status,
    store,
)
from drctl.sandbox.regions import display_name, normalize

_PROFILE = "subscriptions/{sub}/resourcegroups/{rg}/providers/microsoft.network/trafficmanagerprofiles/{name}"


def routes() -> list[Route]:
    read = OpKind.ARM_READ
    out = [
        Route.of("GET", "subscriptions/{sub}/providers/microsoft.network/trafficmanagerprofiles", read, _all),
        Route.of(
            "GET",
            "subscriptions/{sub}/resourcegroups/{rg}/providers/microsoft.network/trafficmanagerprofiles",
            read,
            _by_group,
        ),
        Route.of("GET", _PROFILE, read, _get),
        Route.of("PATCH", _PROFILE, OpKind.TM_PROFILE_UPDATE, _patch_profile),
    ]
    for etype in ENDPOINT_TYPES:
        path = f"{_PROFILE}/{etype}/{{endpoint}}"
        out += [
            Route.of("GET", path, read, _endpoint_reader(etype)),
            Route.of("PUT", path, OpKind.TM_ENDPOINT_UPDATE, _endpoint_writer(etype, replace=True)),
            Route.of("PATCH", path, OpKind.TM_ENDPOINT_UPDATE, _endpoint_writer(etype, replace=False)),
        ]
    return out


def _endpoint_reader(etype: str) -> Handler:
    return lambda ctx: _get_endpoint(ctx, etype)


def _endpoint_writer(etype: str, *, replace: bool) -> Handler:
    return lambda ctx: _write_endpoint(ctx, etype, replace=replace)


def _type_segment(etype: str) -> str:
    return etype[0].lower() + etype[1:]


def endpoint_json(ctx: Ctx, profile: ProfileState, endpoint: EndpointState) -> dict[str, Any]:
    props: dict[str, Any] = {
        "endpointStatus": endpoint.status,
        "endpointMonitorStatus": endpoint_monitor_status(ctx.world, profile, endpoint),
        "target": endpoint.target,
        "weight": endpoint.weight,
        "priority": endpoint.priority,
        "alwaysServe": "Disabled",
    }
    if endpoint.target_resource_id:
        props["targetResourceId"] = endpoint.target_resource_id
    if endpoint.region is not None and endpoint.region in ctx.world.regions:
        props["endpointLocation"] = display_name(ctx.world.regions[endpoint.region].location)
    segment = _type_segment(endpoint.type)
    return {
        "id": f"{_profile_id(ctx, profile)}/{segment}/{endpoint.name}",
        "name": endpoint.name,
        "type": f"{PROFILE_TYPE}/{segment}",
        "properties": props,
    }


def _profile_id(ctx: Ctx, profile: ProfileState) -> str:
    return f"{ctx.rg_id(profile.resource_group)}/providers/{PROFILE_TYPE}/{profile.name}"


def profile_json(ctx: Ctx, profile: ProfileState) -> dict[str, Any]:
    return {
        "id": _profile_id(ctx, profile),
        "name": profile.name,
        "type": PROFILE_TYPE,
        "location": "global",
        "tags": profile.tags,
        "properties": {
            "profileStatus": profile.status,
            "trafficRoutingMethod": profile.routing_method,
            "dnsConfig": {"relativeName": profile.relative_name, "fqdn": profile.fqdn, "ttl": profile.ttl},
            "monitorConfig": {"profileMonitorStatus": profile_monitor_status(ctx.world, profile), **profile.monitor},
            "endpoints": [endpoint_json(ctx, profile, e) for e in profile.endpoints.values()],
            "trafficViewEnrollmentStatus": "Disabled",
        },
    }


def _profile_of(ctx: Ctx) -> ProfileState:
    return ctx.resource(store(ctx.world).profiles, PROFILE_TYPE)


def _all(ctx: Ctx) -> Response:
    return paged(ctx, [profile_json(ctx, p) for p in store(ctx.world).profiles.values()])


def _by_group(ctx: Ctx) -> Response:
    profiles = store(ctx.world).profiles.values()
    return paged(ctx, [profile_json(ctx, p) for p in profiles if p.resource_group.lower() == ctx.rg.lower()])


def _get(ctx: Ctx) -> Response:
    return json_response(200, profile_json(ctx, _profile_of(ctx)))


def _status(value: Any, target: str) -> str:
    if value not in ("Enabled", "Disabled"):
        raise ArmError(400, "BadRequest", f"The value '{value}' is not valid for {target}.", target=target)
    return str(value)


def _integer(value: Any, target: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ArmError(
            400, "BadRequest", f"{target} must be an integer between {low} and {high}; got '{value}'.", target=target
        )
    return value


def _patch_profile(ctx: Ctx) -> Response:
    profile = _profile_of(ctx)
    body = ctx.body()
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise ArmError(400, "BadRequest", "properties must be an object.", target="properties")
    if isinstance(body.get("tags"), dict):
        profile.tags = {str(k): str(v) for k, v in body["tags"].items()}
    if "profileStatus" in props:
        profile.status = _status(props["profileStatus"], "profileStatus")
    dns = props.get("dnsConfig")
    if isinstance(dns, dict):
        relative = dns.get("relativeName")
        if relative is not None and str(relative).lower() != profile.relative_name.lower():
            raise ArmError(
                400, "BadRequest", "The relative DNS name of a profile cannot be changed.", target="relativeName"
            )
        if "ttl" in dns:
            profile.ttl = _integer(dns["ttl"], "ttl", 0, 2147483647)
    monitor = props.get("monitorConfig")
    if isinstance(monitor, dict):
        for key in ("protocol", "port", "path", "intervalInSeconds", "timeoutInSeconds", "toleratedNumberOfFailures"):
            if key in monitor:
                profile.monitor[key] = monitor[key]
    return json_response(200, profile_json(ctx, profile))


def _get_endpoint(ctx: Ctx, etype: str) -> Response:
    profile = _profile_of(ctx)
    endpoint = profile.endpoints.get(ctx.params["endpoint"].lower())
    if endpoint is None or endpoint.type != etype:
        raise not_found(f"{PROFILE_TYPE}/{_type_segment(etype)}", ctx.params["endpoint"], ctx.rg)
    return json_response(200, endpoint_json(ctx, profile, endpoint))


def _region_of(ctx: Ctx, location: Any) -> str | None:
    if not isinstance(location, str):
        return None
    wanted = normalize(location)
    return next((k for k, r in ctx.world.regions.items() if normalize(r.location) == wanted), None)


def _write_endpoint(ctx: Ctx, etype: str, *, replace: bool) -> Response:
    profile = _profile_of(ctx)
    name = ctx.params["endpoint"]
    props = ctx.body().get("properties") or {}
    if not isinstance(props, dict):
        raise ArmError(400, "BadRequest", "properties must be an object.", target="properties")
    current = profile.endpoints.get(name.lower())
    if current is not None and current.type != etype:
        raise ArmError(409, "Conflict", f"An endpoint named '{name}' of another type exists in this profile.")
    if current is None and not replace:
        raise not_found(f"{PROFILE_TYPE}/{_type_segment(etype)}", name, ctx.rg)
    if replace or current is None:
        target = props.get("target")
        resource_id = props.get("targetResourceId")
        if etype == "AzureEndpoints" and not resource_id:
            raise ArmError(400, "BadRequest", "targetResourceId is required for Azure endpoints.")
        if etype == "ExternalEndpoints" and not target:
            raise ArmError(400, "BadRequest", "target is required for external endpoints.")
        others = sorted(e.priority for e in profile.endpoints.values() if e.name.lower() != name.lower())
        endpoint = EndpointState(
            current.name if current else name,
            etype,
            str(target or resource_id),
            str(resource_id) if resource_id else None,
            _region_of(ctx, props.get("endpointLocation")) or (current.region if current else None),
            "Enabled",
            max(others, default=0) + 1,
            1,
        )
    else:
        endpoint = EndpointState(**vars(current))
    if "endpointStatus" in props:
        endpoint.status = _status(props["endpointStatus"], "endpointStatus")
    if "priority" in props:
        endpoint.priority = _integer(props["priority"], "priority", 1, 1000)
    if "weight" in props:
        endpoint.weight = _integer(props["weight"], "weight", 1, 1000)
    if not replace and props.get("target"):
        endpoint.target = str(props["target"])
    if profile.routing_method == "Priority" and any(
        e.priority == endpoint.priority for e in profile.endpoints.values() if e.name.lower() != name.lower()
    ):
        raise ArmError(
            400,
            "BadRequest",
            f"Priority {endpoint.priority} is already used by another endpoint of this profile: the priority of each "
            "endpoint of a Priority profile must be unique.",
            target="priority",
        )
    profile.endpoints[name.lower()] = endpoint
    return json_response(201 if current is None else 200, endpoint_json(ctx, profile, endpoint))
