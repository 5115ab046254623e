"""Long-running ARM operations, started once and followed by their URLs.

The SDK's pollers hold an operation in memory only: a process that dies while one runs forgets it, and the
next attempt starts a second. Here the initial request is sent with ``polling=False`` and its answer returned
as ``Accepted`` (the ``Azure-AsyncOperation`` and ``Location`` URLs, plain strings the journal keeps), and
``poll`` reads an operation's state from those URLs, from this process or any later one. Whoever follows the
operation does the waiting (``actions/azure_bridge.py``), so a wait can be cancelled and journaled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drctl.azure.clients import AzureClients

#: the terminal states ARM reports in an async-operation body
SUCCEEDED = "Succeeded"
FAILED = "Failed"
CANCELED = "Canceled"
IN_PROGRESS = "InProgress"
#: the operation's URL no longer answers (purged, or a restarted endpoint): only the resource can tell
UNKNOWN = "Unknown"


@dataclass(frozen=True)
class Accepted:
    """Azure's answer to the request that starts an operation."""

    status: int
    status_url: str | None
    location_url: str | None
    retry_after: float | None

    @property
    def running(self) -> bool:
        """The operation goes on after the answer: an ``Azure-AsyncOperation`` URL (a PUT or PATCH may answer 200
        with one, as a scale set update does), or a 202 with a ``Location``."""
        if self.status_url is not None:
            return self.status in (200, 201, 202)
        return self.status == 202 and self.location_url is not None

    def as_fact(self) -> dict[str, Any]:
        return {"http_status": self.status, "status_url": self.status_url, "location_url": self.location_url}


@dataclass(frozen=True)
class Progress:
    state: str
    error: str | None = None
    retry_after: float | None = None

    @property
    def finished(self) -> bool:
        return self.state != IN_PROGRESS


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def begin(clients: AzureClients, start: Callable[..., Any], *args: Any, **kwargs: Any) -> Accepted:
    """Send the initial request of an SDK ``begin_*`` method and return at once with what to follow it on.

    ``polling=False`` keeps the SDK from waiting; its answer (headers, no body to deserialise) is read through a
    per-request response hook, which replaces the client's own for that request, so it hands on to the call log.
    """
    answers: list[Any] = []

    def hook(pipeline_response: Any) -> None:
        clients.calls(pipeline_response)
        answers.append(pipeline_response.http_response)

    start(*args, polling=False, raw_response_hook=hook, **kwargs)
    if not answers:
        raise RuntimeError("the SDK sent no request")
    response = answers[-1]
    headers = response.headers
    return Accepted(
        status=int(response.status_code),
        status_url=headers.get("Azure-AsyncOperation"),
        location_url=headers.get("Location"),
        retry_after=_seconds(headers.get("Retry-After")),
    )


def poll(clients: AzureClients, client: str, status_url: str | None, location_url: str | None) -> Progress:
    """One look at an operation: its async-operation status, else its Location (202 while it runs).

    ``client`` names the SDK client whose pipeline (credential, retries, call log) sends the GET.
    """
    from azure.core.exceptions import HttpResponseError
    from azure.core.rest import HttpRequest

    sender = getattr(clients, client)
    url = status_url or location_url
    if url is None:
        return Progress(UNKNOWN)
    # newer generated clients (azure-mgmt-containerservice 40) name it ``_send_request``
    send = getattr(sender, "send_request", None) or sender._send_request
    response = send(HttpRequest("GET", url))
    retry_after = _seconds(response.headers.get("Retry-After"))
    if response.status_code == 404:
        return Progress(UNKNOWN, "the operation is no longer known to Azure")
    if status_url is not None:
        if response.status_code >= 300:
            raise HttpResponseError(response=response)
        body = response.json() or {}
        state = str(body.get("status") or IN_PROGRESS)
        error = body.get("error") or None
        message = f"{error.get('code')}: {error.get('message')}" if isinstance(error, dict) else None
        if state not in (SUCCEEDED, FAILED, CANCELED):
            state = IN_PROGRESS
        return Progress(state, message, retry_after)
    if response.status_code == 202:
        return Progress(IN_PROGRESS, retry_after=retry_after)
    if response.status_code < 300:
        return Progress(SUCCEEDED)
    if response.status_code >= 500 or response.status_code == 429:
        raise HttpResponseError(response=response)
    try:
        error = (response.json() or {}).get("error") or {}
    except ValueError:
        error = {}
    return Progress(FAILED, f"{error.get('code', response.status_code)}: {error.get('message', '')}".strip())
