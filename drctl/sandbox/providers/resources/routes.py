"""Subscriptions, resource groups, provider registration and generic resources by id.

Provider registrations list the resource types the sandbox serves, with the api versions the Azure SDKs and the
Azure CLI use (the CLI's ``az resource show`` picks its api version from them) and the estate's regions, in the
shape of ``Providers_Get``. A PUT of a resource group updates it (200) or creates it (201), as
``ResourceGroups_CreateOrUpdate`` does.
"""

from __future__ import annotations

import re
from typing import Any

from drctl.sandbox.arm.core import ArmError, Ctx, Route, deep_merge, not_found, paged
from drctl.sandbox.http import Response, json_response
from drctl.sandbox.ops import OpKind
from drctl.sandbox.providers.resources.model import GenericState
from drctl.sandbox.providers.resources.provider import put_resource_group, resource_groups, store
from drctl.sandbox.regions import display_name, normalize

_GROUP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._()-]{0,89}$")
#: a type the estate's generic resources use in a namespace the sandbox does not emulate: any version works
_GENERIC_VERSIONS = ("2024-01-01", "2023-01-01")


def routes() -> list[Route]:
    read, write = OpKind.ARM_READ, OpKind.ARM_WRITE
    return [
        Route.of("GET", "subscriptions", read, _subscriptions),
        Route.of("GET", "subscriptions/{sub}", read, _subscription),
        Route.of("GET", "subscriptions/{sub}/resourcegroups", read, _groups),
        Route.of("GET", "subscriptions/{sub}/resourcegroups/{rg}", read, _group),
        Route.of("PUT", "subscriptions/{sub}/resourcegroups/{rg}", write, _put_group),
        Route.of("HEAD", "subscriptions/{sub}/resourcegroups/{rg}", read, lambda ctx: Response(204)),
        Route.of("GET", "subscriptions/{sub}/resourcegroups/{rg}/resources", read, _group_resources),
        Route.of("GET", "subscriptions/{sub}/resources", read, _all_resources),
        Route.of("GET", "subscriptions/{sub}/providers", read, _providers),
        Route.of("GET", "subscriptions/{sub}/providers/{ns}", read, _provider),
        Route.of("POST", "subscriptions/{sub}/providers/{ns}/register", write, _provider),
    ]


def _subscription_json(ctx: Ctx) -> dict[str, Any]:
    estate = ctx.world.estate
    return {
        "id": f"/subscriptions/{ctx.sub}",
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": ctx.sub,
        "tenantId": ctx.world.tenant_id,
        "displayName": estate.subscription_name,
        "state": "Enabled",
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "PayAsYouGo_2014-09-01",
            "spendingLimit": "Off",
        },
    }


def _subscriptions(ctx: Ctx) -> Response:
    return paged(ctx, [_subscription_json(ctx)])


def _subscription(ctx: Ctx) -> Response:
    return json_response(200, _subscription_json(ctx))


def _group_json(ctx: Ctx, name: str, location: str, tags: dict[str, str]) -> dict[str, Any]:
    return {
        "id": ctx.rg_id(name),
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "tags": tags,
        "properties": {"provisioningState": "Succeeded"},
    }


def _groups(ctx: Ctx) -> Response:
    groups = sorted(resource_groups(ctx.world).values(), key=lambda g: g[0].lower())
    return paged(ctx, [_group_json(ctx, *g) for g in groups])


def _group(ctx: Ctx) -> Response:
    name, location, tags = resource_groups(ctx.world)[ctx.rg.lower()]
    return json_response(200, _group_json(ctx, name, location, tags))


def _put_group(ctx: Ctx) -> Response:
    body = ctx.body()
    location = body.get("location")
    if not isinstance(location, str) or not location.strip():
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    tags = body.get("tags") or {}
    if not isinstance(tags, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: tags must be an object.")
    name = ctx.params["rg"]
    if not _GROUP_NAME.match(name) or name.endswith("."):
        raise ArmError(
            400,
            "InvalidResourceGroup",
            f"The provided resource group name '{name}' has these invalid characters or length: 1 to 90 letters, "
            "digits, periods, underscores, hyphens and parentheses, not ending in a period.",
        )
    existing = resource_groups(ctx.world).get(name.lower())
    if existing is not None:
        if normalize(existing[1]) != normalize(location):
            raise ArmError(
                409,
                "InvalidResourceGroupLocation",
                f"Invalid resource group location '{location}'. The Resource group already exists in location "
                f"'{existing[1]}'.",
            )
        name = existing[0]
    region = next((k for k, r in ctx.world.regions.items() if normalize(r.location) == normalize(location)), None)
    if region is None:
        available = ",".join(r.location for r in ctx.world.regions.values())
        raise ArmError(
            400,
            "LocationNotAvailableForResourceGroup",
            f"The provided location '{location}' is not available for resource group. List of available regions "
            f"is '{available}'.",
        )
    put_resource_group(ctx.world, name, region, {str(k): str(v) for k, v in tags.items()})
    group = resource_groups(ctx.world)[name.lower()]
    return json_response(200 if existing is not None else 201, _group_json(ctx, *group))


def _served() -> dict[str, tuple[tuple[str, ...], tuple[tuple[str, bool, bool], ...]]]:
    """namespace -> (api versions newest first, resource types (type, regional, top level)) of every provider."""
    from drctl.sandbox.registry import PROVIDERS

    # two services can share a namespace (DNS zones and Traffic Manager are both Microsoft.Network): one entry
    # with the types of both, and the versions of the first registered
    served: dict[str, tuple[tuple[str, ...], tuple[tuple[str, bool, bool], ...]]] = {}
    for p in PROVIDERS:
        if p.namespace:
            versions, types = served.get(p.namespace, (p.api_versions, ()))
            served[p.namespace] = (versions, types + p.resource_types)
    return served


def _namespaces(ctx: Ctx) -> list[str]:
    served = _served()
    extra = sorted({g.type.split("/", 1)[0] for g in store(ctx.world).generics.values()} - set(served), key=str.lower)
    return [*served, *extra]


def _providers(ctx: Ctx) -> Response:
    return paged(ctx, [_provider_json(ctx, ns) for ns in _namespaces(ctx)])


def _provider(ctx: Ctx) -> Response:
    wanted = ctx.params["ns"].lower()
    namespace = next((ns for ns in _namespaces(ctx) if ns.lower() == wanted), ctx.params["ns"])
    return json_response(200, _provider_json(ctx, namespace))


def _resource_types(ctx: Ctx, namespace: str) -> list[dict[str, Any]]:
    regions = [display_name(r.location) for r in ctx.world.regions.values()]
    versions_and_types = _served().get(namespace)
    served = list(versions_and_types[1]) if versions_and_types else []
    known = {t.lower() for t, _, _ in served}
    for generic in store(ctx.world).generics.values():
        ns, _, rtype = generic.type.partition("/")
        if ns.lower() == namespace.lower() and rtype.lower() not in known:
            known.add(rtype.lower())
            served.append((rtype, True, "/" not in rtype))
    versions = list(versions_and_types[0] if versions_and_types else _GENERIC_VERSIONS)
    return [
        {
            "resourceType": rtype,
            "locations": regions if located else ["global"] if top else [],
            "apiVersions": versions,
            "defaultApiVersion": versions[0],
            "capabilities": "SupportsTags, SupportsLocation" if top else "None",
        }
        for rtype, located, top in served
    ]


def _provider_json(ctx: Ctx, namespace: str) -> dict[str, Any]:
    # never MissingSubscriptionRegistration: every namespace is registered in the sandbox
    return {
        "id": f"/subscriptions/{ctx.sub}/providers/{namespace}",
        "namespace": namespace,
        "registrationState": "Registered",
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": _resource_types(ctx, namespace),
    }


def summary(ctx: Ctx) -> list[dict[str, Any]]:
    """Every resource as the generic resources list shows it (id, name, type, location, tags...)."""
    from drctl.sandbox.registry import PROVIDERS

    out = [entry for provider in PROVIDERS for entry in provider.listed(ctx)]
    return sorted(out, key=lambda r: str(r["id"]).lower())


def _group_resources(ctx: Ctx) -> Response:
    prefix = ctx.rg_id(ctx.rg).lower() + "/"
    return paged(ctx, [r for r in summary(ctx) if str(r["id"]).lower().startswith(prefix)])


def _all_resources(ctx: Ctx) -> Response:
    return paged(ctx, summary(ctx))


# ---- generic resources by id ---------------------------------------------------------------------------
def fallback(method: str, segments: list[str]) -> tuple[Route, dict[str, str], OpKind]:
    """Routes for ids no provider module knows: the estate's generic resources, else a proper 404."""
    lower = [s.lower() for s in segments]
    is_resource = (
        len(lower) >= 8
        and lower[0] == "subscriptions"
        and lower[2] == "resourcegroups"
        and lower[4] == "providers"
        and len(lower) % 2 == 0
    )
    if not is_resource:
        raise ArmError(
            404,
            "InvalidResourceType",
            f"The resource type could not be found for the request path '/{'/'.join(segments)}'.",
        )
    key = "/" + "/".join(lower)
    params = {"key": key, "type": "/".join([segments[5], *segments[6::2]]), "name": segments[-1]}
    if method in ("GET", "HEAD"):
        return Route("GET", (), OpKind.ARM_READ, _generic_get), params, OpKind.ARM_READ
    if method == "PATCH":
        return Route("PATCH", (), OpKind.ARM_WRITE, _generic_patch), params, OpKind.ARM_WRITE
    raise ArmError(405, "MethodNotAllowed", f"The sandbox does not support {method} on '{params['type']}' resources.")


def _generic(ctx: Ctx) -> GenericState:
    generic = store(ctx.world).generics.get(ctx.params["key"])
    if generic is None:
        raise not_found(ctx.params["type"], ctx.params["name"], ctx.rg)
    return generic


def generic_json(ctx: Ctx, generic: GenericState) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": generic.id,
        "name": generic.name,
        "type": generic.type,
        "location": ctx.world.regions[generic.region].location,
        "tags": generic.tags,
    }
    if generic.kind:
        body["kind"] = generic.kind
    if generic.sku is not None:
        body["sku"] = generic.sku
    body["properties"] = {"provisioningState": "Succeeded", **generic.properties}
    return body


def _generic_get(ctx: Ctx) -> Response:
    generic = _generic(ctx)
    ctx.check_region(generic.region, write=False)
    return json_response(200, generic_json(ctx, generic))


def _generic_patch(ctx: Ctx) -> Response:
    generic = _generic(ctx)
    ctx.check_region(generic.region, write=True)
    body = ctx.body()
    if isinstance(body.get("properties"), dict):
        generic.properties = deep_merge(generic.properties, body["properties"])
    if isinstance(body.get("sku"), dict):
        generic.sku = {**(generic.sku or {}), **body["sku"]}
    if isinstance(body.get("tags"), dict):
        generic.tags = {str(k): str(v) for k, v in body["tags"].items()}
    return json_response(200, generic_json(ctx, generic))
