"""What every ARM handler shares: the request context, CloudError answers, routes, paging and LRO replies."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import quote, urlencode

from drctl.sandbox.http import Request, Response, json_response
from drctl.sandbox.lro import Operation
from drctl.sandbox.ops import ControlPlane, OpKind, RegionStatus
from drctl.sandbox.providers.base import Placed
from drctl.sandbox.state import World

API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-(preview|beta|alpha|privatepreview))?$", re.IGNORECASE)


class ArmError(Exception):
    """Raised by handlers; becomes a CloudError body ``{"error": {"code", "message", "target"?}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.headers = dict(headers or {})

    def response(self) -> Response:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            error["target"] = self.target
        return json_response(self.status, {"error": error}, self.headers)


def not_found(rtype: str, name: str, rg: str) -> ArmError:
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{rtype}/{name}' under resource group '{rg}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


class InGroup(Protocol):
    resource_group: str


R = TypeVar("R", bound=InGroup)


@dataclass
class Ctx:
    world: World
    req: Request
    params: dict[str, str]
    op: OpKind
    now: float
    #: set by the router when the route names a subscription / resource group (their canonical spelling)
    rg: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sub(self) -> str:
        return self.world.estate.subscription_id

    @property
    def base_url(self) -> str:
        return f"https://{self.req.host}"

    def rg_id(self, rg: str) -> str:
        return f"/subscriptions/{self.sub}/resourceGroups/{rg}"

    def api_version(self) -> str:
        return self.req.param("api-version") or ""

    def body(self) -> dict[str, Any]:
        try:
            data = self.req.json()
        except ValueError:
            raise ArmError(
                400,
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: not valid JSON.",
            ) from None
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ArmError(400, "InvalidRequestContent", "The request content must be a JSON object.")
        return data

    def resource(self, table: Mapping[str, R], rtype: str, param: str = "name") -> R:
        """The resource the route names (``params[param]``, case-insensitively) in the route's resource group, as
        ARM finds it: 404 when it is absent or in another group; for a regional resource (``Placed``) 503 when its
        region is down (``check_region``), reads too when the control plane is gone."""
        name = self.params[param]
        found = table.get(name.lower().rstrip("."))
        if found is None or found.resource_group.lower() != self.rg.lower():
            raise not_found(rtype, name, self.rg)
        if isinstance(found, Placed):
            self.check_region(found.region, write=self.req.method not in ("GET", "HEAD"))
        return found

    def check_region(self, region_key: str, *, write: bool) -> None:
        """A resource in a region that is down: 503 for writes (and reads when the control plane is gone)."""
        region = self.world.regions[region_key]
        if region.status is RegionStatus.UP or region.control_plane is ControlPlane.AVAILABLE:
            return
        if write or region.control_plane is ControlPlane.UNAVAILABLE:
            raise ArmError(
                503,
                "ServiceUnavailable",
                f"The resource provider is unavailable in region '{region.location}' (sandbox region outage).",
            )


Handler = Callable[[Ctx], Response]


@dataclass(frozen=True)
class Route:
    method: str
    #: lower-cased literal segments, ``{name}`` for parameters
    segments: tuple[str, ...]
    op: OpKind
    handler: Handler

    @staticmethod
    def of(method: str, pattern: str, op: OpKind, handler: Handler) -> Route:
        parts = tuple(p if p.startswith("{") else p.lower() for p in pattern.strip("/").split("/"))
        return Route(method, parts, op, handler)

    def match(self, segments: list[str]) -> dict[str, str] | None:
        if len(segments) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for want, got in zip(self.segments, segments, strict=True):
            if want.startswith("{"):
                params[want[1:-1]] = got
            elif want != got.lower():
                return None
        return params


def paged(ctx: Ctx, items: list[dict[str, Any]]) -> Response:
    """An ARM list page (``value``) and a ``nextLink`` carrying ``$skiptoken`` while more remain."""
    size = ctx.world.estate.settings.page_size
    top = ctx.req.param("$top")
    if top and top.isdigit() and int(top) > 0:
        size = min(size, int(top))
    token = ctx.req.param("$skiptoken") or ctx.req.param("$skipToken") or "0"
    start = int(token) if token.isdigit() else 0
    body: dict[str, Any] = {"value": items[start : start + size]}
    if start + size < len(items):
        query = {k: v for k, v in ctx.req.query.items() if k.lower() != "$skiptoken"}
        query["$skiptoken"] = str(start + size)
        body["nextLink"] = f"{ctx.base_url}{ctx.req.raw_path}?{urlencode(query, quote_via=quote)}"
    return json_response(200, body)


def lro_urls(ctx: Ctx, operation: Operation, status_segment: str, result_segment: str | None) -> dict[str, str]:
    """Absolute async-operation and Location URLs back to this sandbox (whatever Host the client used)."""
    root = f"{ctx.base_url}/subscriptions/{ctx.sub}/providers/{operation.namespace}/locations/{operation.location}"
    version = quote(ctx.api_version() or "2025-01-01")
    headers = {
        "Azure-AsyncOperation": f"{root}/{status_segment}/{operation.id}?api-version={version}",
        "Retry-After": str(ctx.world.estate.settings.lro_retry_after),
    }
    if result_segment:
        headers["Location"] = f"{root}/{result_segment}/{operation.id}?api-version={version}"
    return headers


def resource_type_of(provider: str, segments: list[str]) -> str:
    """``Microsoft.Web`` + ``[sites, app]`` -> ``Microsoft.Web/sites`` (nested types joined)."""
    return "/".join([provider, *segments[0::2]])


def summary_entry(
    ctx: Ctx, rg: str, rtype: str, name: str, *, region: str | None, tags: dict[str, str], **extra: Any
) -> dict[str, Any]:
    """A resource as the generic resources list shows it (``region`` None: a global resource)."""
    return {
        "id": f"{ctx.rg_id(rg)}/providers/{rtype}/{name}",
        "name": name,
        "type": rtype,
        "location": ctx.world.regions[region].location if region else "global",
        "tags": tags,
        **extra,
    }


def patch_placed(ctx: Ctx, resource: Placed) -> dict[str, Any]:
    """A PATCH of tags and properties on an emulated resource: tags replace, properties merge (overlay)."""
    ctx.check_region(resource.region, write=True)
    body = ctx.body()
    if isinstance(body.get("tags"), dict):
        resource.tags = {str(k): str(v) for k, v in body["tags"].items()}
    if isinstance(body.get("properties"), dict):
        resource.overlay = deep_merge(resource.overlay, body["properties"])
    return body


def deep_merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out
