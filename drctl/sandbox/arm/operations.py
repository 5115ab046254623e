"""The URLs a long-running operation is followed on.

Two flavours, as ARM has them:

* status URLs (``Azure-AsyncOperation``): always 200 with ``{"name", "status", "startTime"[, "endTime",
  "error"]}``, ``status`` going ``InProgress`` -> ``Succeeded`` | ``Failed``;
* result URLs (``Location``): 202 while in progress, then the resource the operation produced (200), or the
  operation's error as a CloudError (400: a 5xx would make the SDK retry the poll three times).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drctl.sandbox.arm.core import ArmError, Ctx, Route
from drctl.sandbox.clock import iso
from drctl.sandbox.http import Response, json_response
from drctl.sandbox.ops import OperationStatus, OpKind

if TYPE_CHECKING:
    from drctl.sandbox.arm.router import ArmRouter

STATUS_SEGMENTS = frozenset({"failovergroupazureasyncoperation", "operations", "azureasyncoperation"})
RESULT_SEGMENTS = frozenset({"failovergroupoperationresults", "asyncoperations", "operationresults"})


def routes(router: ArmRouter) -> list[Route]:
    pattern = "subscriptions/{sub}/providers/{ns}/locations/{loc}/{kind}/{id}"
    return [Route.of("GET", pattern, OpKind.ARM_POLL, lambda ctx: _poll(ctx, router))]


def _poll(ctx: Ctx, router: ArmRouter) -> Response:
    kind = ctx.params["kind"].lower()
    operation = ctx.world.operations.get(ctx.params["id"])
    if operation is None or kind not in STATUS_SEGMENTS | RESULT_SEGMENTS:
        raise ArmError(404, "ResourceNotFound", f"The operation '{ctx.params['id']}' was not found.")
    retry = {"Retry-After": str(ctx.world.estate.settings.lro_retry_after)}
    running = operation.status is OperationStatus.IN_PROGRESS
    if kind in STATUS_SEGMENTS:
        body: dict[str, Any] = {
            "name": operation.id,
            "status": operation.status.value,
            "startTime": iso(operation.started),
        }
        if operation.ended is not None:
            body["endTime"] = iso(operation.ended)
        if operation.error is not None:
            body["error"] = operation.error
        return json_response(200, body, retry if running else None)
    if running:
        return Response(202, headers={**retry, "Location": f"{ctx.base_url}{ctx.req.raw_path}?{_query(ctx)}"})
    if operation.error is not None:
        raise ArmError(400, operation.error["code"], operation.error["message"])
    if operation.result_path is None:
        return Response(200)
    return router.render_get(ctx, operation.result_path)


def _query(ctx: Ctx) -> str:
    return "&".join(f"{k}={v}" for k, v in ctx.req.query.items())
