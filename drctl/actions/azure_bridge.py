"""Calling Azure from an action: clients from the run's services, errors mapped once, ARM calls journaled.

Every logical operation (``arm(ctx, "start web app x", standby.start_web_app, rg, name)``) journals the ARM
calls it made, each retry and poll included, as one ``arm.calls`` fact with their request and correlation ids:
what Azure support asks for first when an operation misbehaves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from drctl.actions.runtime import ActionError, StepContext, TransientError

if TYPE_CHECKING:
    from drctl.azure.clients import ArmCall, AzureClients
    from drctl.azure.errors import Classified

T = TypeVar("T")
AZURE_SERVICE = "azure"


class AzureFailure(ActionError):
    """A call Azure refused for good; ``found`` says how (not found, precondition failed, forbidden...)."""

    def __init__(self, message: str, found: Classified) -> None:
        super().__init__(message)
        self.found = found


def clients(ctx: StepContext) -> AzureClients:
    found: AzureClients = ctx.services.get(AZURE_SERVICE)
    return found


def arm(ctx: StepContext, what: str, operation: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    from drctl.azure.errors import Kind, classify

    azure = clients(ctx)
    calls: list[ArmCall] = []
    try:
        with azure.calls.capture(calls.append):
            return operation(azure, *args, **kwargs)
    except Exception as exc:
        found = classify(exc)
        where = f" (correlation id {found.correlation_id})" if found.correlation_id else ""
        if found.transient:
            raise TransientError(f"{what}: {found.message}{where}", retry_after=_retry_after(exc)) from None
        if found.kind is Kind.AUTH:
            raise AzureFailure(f"{what}: not authorised: {found.message}{where}", found) from None
        raise AzureFailure(f"{what}: {found.message}{where}", found) from None
    finally:
        if calls:
            ctx.record("arm.calls", {"operation": what, "calls": [c.as_dict() for c in calls]})


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def in_parallel(items: list[T], operation: Callable[[T], Any], *, limit: int = 8) -> list[Any]:
    """Run ``operation`` on every item at once (Azure works on them concurrently), results in item order.

    Every item is tried; the first failure, in item order, is raised once all have finished, so no call is left
    running behind the step's back.
    """
    from concurrent.futures import ThreadPoolExecutor

    if len(items) <= 1:
        return [operation(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(limit, len(items)), thread_name_prefix="drctl-arm") as pool:
        futures = [pool.submit(operation, item) for item in items]
    outcomes: list[Any] = []
    for future in futures:
        error = future.exception()
        if error is not None:
            raise error
        outcomes.append(future.result())
    return outcomes
