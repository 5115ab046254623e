"""One place decides what an Azure failure means: retry it, stop, or re-read and re-decide."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

#: statuses Azure uses for "try again": throttling, timeouts and a busy or failing front end
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: 409 codes that mean "another operation is still running on this resource", which passes
TRANSIENT_CONFLICTS = frozenset(
    {"AnotherOperationInProgress", "OperationInProgress", "Conflict", "FailoverGroupBusy", "ConflictingServerOperation"}
)


class Kind(StrEnum):
    TRANSIENT = "transient"
    FATAL = "fatal"
    AUTH = "auth"
    NOT_FOUND = "not-found"
    #: an If-Match precondition failed: someone else changed the resource; re-read and re-decide
    PRECONDITION = "precondition"


@dataclass(frozen=True)
class Classified:
    kind: Kind
    message: str
    status: int | None = None
    code: str | None = None
    correlation_id: str | None = None

    @property
    def transient(self) -> bool:
        return self.kind is Kind.TRANSIENT


def classify(exc: BaseException, *, max_retry_after: float | None = None) -> Classified:
    """Map an azure-core / azure-identity exception; anything unknown is fatal.

    An SDK wait that a pause or the step's timeout cut short is no Azure failure: the engine's own ``Interrupted``
    or ``TimedOut`` is raised instead, so the step is interrupted (or times out) as any other wait would be.
    """
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    from drctl.azure.clients import WaitTooLong
    from drctl.azure.config import DEFAULT_MAX_RETRY_AFTER
    from drctl.core.waits import WaitInterrupted

    if isinstance(exc, WaitInterrupted):
        raise exc.cause() from None
    if isinstance(exc, WaitTooLong):
        return Classified(Kind.FATAL, f"{exc}; the step fails and its on_failure applies")

    if isinstance(exc, ClientAuthenticationError):
        return Classified(Kind.AUTH, _first_line(exc), getattr(exc, "status_code", None))
    try:
        from azure.identity import CredentialUnavailableError

        if isinstance(exc, CredentialUnavailableError):
            return Classified(Kind.AUTH, _first_line(exc))
    except ImportError:  # pragma: no cover - azure-identity is a dependency
        pass
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return Classified(Kind.TRANSIENT, f"cannot reach Azure: {_first_line(exc)}")
    if isinstance(exc, HttpResponseError):
        status = exc.status_code
        code = _error_code(exc)
        correlation = _correlation(exc)
        message = _first_line(exc)
        if status in (401, 403):
            return Classified(Kind.AUTH, message, status, code, correlation)
        if status == 412:
            return Classified(Kind.PRECONDITION, message, status, code, correlation)
        if status == 404:
            return Classified(Kind.NOT_FOUND, message, status, code, correlation)
        asked = _retry_after(exc)
        bound = DEFAULT_MAX_RETRY_AFTER if max_retry_after is None else max_retry_after
        if asked is not None and asked > bound:
            return Classified(
                Kind.FATAL,
                f"{message} (Azure asked to retry after {asked:g} s (Retry-After), longer than drctl waits: "
                f"{bound:g} s, $DRCTL_MAX_RETRY_AFTER; the step fails and its on_failure applies)",
                status,
                code,
                correlation,
            )
        if status in TRANSIENT_STATUSES or (status == 409 and code in TRANSIENT_CONFLICTS):
            return Classified(Kind.TRANSIENT, message, status, code, correlation)
        return Classified(Kind.FATAL, message, status, code, correlation)
    return Classified(Kind.FATAL, f"{type(exc).__name__}: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:500]


def _error_code(exc: object) -> str | None:
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    return str(code) if code else None


def _correlation(exc: object) -> str | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    value = headers.get("x-ms-correlation-request-id") or headers.get("x-ms-request-id")
    return str(value) if value else None


def _retry_after(exc: object) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None  # an HTTP date: azure-core reads those; drctl treats them as no advice
