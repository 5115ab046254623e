"""The Azure SDK clients of one run: created lazily, once, with drctl's endpoints, polling and retry settings.

This package is the only importer of ``azure.*``. Every ARM response (each retry included) passes through a
hook that hands its request and correlation ids to whoever is listening on that thread, so each step's journal
can name the exact ARM calls it made.

Waits are bounded and interruptible. A server's ``Retry-After`` is honoured up to ``$DRCTL_MAX_RETRY_AFTER``
seconds (default 60, read into ``AzureConfig``): beyond it the SDK does not retry (or poll) but hands the answer
back, and the step fails with a message saying so, then its ``on_failure`` applies; a throttled step never stalls
silently for the 15 minutes a ``Retry-After: 900`` asks. Every sleep the SDK makes (retry back-off,
``Retry-After``, LRO polls) goes through ``core.waits.WAITS``, so a pause (Ctrl-C, SIGTERM, SIGHUP) or the step's
timeout ends it within a fraction of a second.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from drctl.azure.config import MAX_RETRY_AFTER_ENV, AzureConfig
from drctl.azure.errors import classify
from drctl.errors import AzureError

#: the SDK retries 10 times by default; inside an RTO we would rather fail, journal and let the step retry
SDK_RETRY = {"retry_total": 4, "retry_backoff_factor": 0.5, "retry_backoff_max": 8}
TIMEOUTS = {"connection_timeout": 10, "read_timeout": 60}


class WaitTooLong(Exception):
    """Azure asked for a wait longer than drctl honours (an LRO poll's ``Retry-After``)."""

    def __init__(self, seconds: float, bound: float) -> None:
        super().__init__(
            f"Azure asked to wait {seconds:g} s before asking again (Retry-After), longer than drctl waits "
            f"({bound:g} s, ${MAX_RETRY_AFTER_ENV})"
        )
        self.seconds = seconds
        self.bound = bound


def _retry_policy(bound: float) -> Any:
    from azure.core.pipeline.policies import RetryPolicy

    class BoundedRetryPolicy(RetryPolicy):  # type: ignore[type-arg]
        """azure-core's retry policy, except that a ``Retry-After`` beyond the bound is not waited for: the
        response goes back to the caller (a 429 or 503 the step reports), instead of a silent stall."""

        def is_retry(self, settings: Any, response: Any) -> bool:
            retry_after = self.get_retry_after(response)
            if retry_after is not None and retry_after > bound:
                return False
            return bool(super().is_retry(settings, response))

    return BoundedRetryPolicy(**SDK_RETRY)


def _transport(bound: float, **kwargs: Any) -> Any:
    from azure.core.pipeline.transport import RequestsTransport

    from drctl.core.waits import WAITS

    class InterruptibleTransport(RequestsTransport):  # type: ignore[misc]
        """The SDK sleeps through its transport (retry back-off, Retry-After, LRO polls): here, in slices a pause
        or the step's timeout can end, and never longer than the bound."""

        def sleep(self, duration: float) -> None:
            if duration > bound:
                raise WaitTooLong(duration, bound)
            WAITS.sleep(duration)

    return InterruptibleTransport(**kwargs)


@dataclass(frozen=True)
class ArmCall:
    method: str
    path: str
    status: int
    request_id: str | None
    correlation_id: str | None
    client_request_id: str | None
    at: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "request_id": self.request_id,
            "correlation_id": self.correlation_id,
            "client_request_id": self.client_request_id,
        }


class CallLog:
    """Routes each ARM response to the sink of the thread that made it (one step runs on one thread)."""

    def __init__(self) -> None:
        self._local = threading.local()

    @contextmanager
    def capture(self, sink: Callable[[ArmCall], None]) -> Iterator[None]:
        previous = getattr(self._local, "sink", None)
        self._local.sink = sink
        try:
            yield
        finally:
            self._local.sink = previous

    def __call__(self, pipeline_response: Any) -> None:
        sink = getattr(self._local, "sink", None)
        if sink is None:
            return
        request = pipeline_response.http_request
        response = pipeline_response.http_response
        headers = response.headers
        sink(
            ArmCall(
                method=request.method,
                path=urlparse(request.url).path,
                status=response.status_code,
                request_id=headers.get("x-ms-request-id"),
                correlation_id=headers.get("x-ms-correlation-request-id"),
                client_request_id=request.headers.get("x-ms-client-request-id"),
                at=time.time(),
            )
        )


class AzureClients:
    """One per run. Thread-safe: steps running in parallel share the clients (the SDK allows it)."""

    def __init__(self, config: AzureConfig, calls: CallLog | None = None) -> None:
        self.config = config
        self.calls = calls or CallLog()
        self._lock = threading.RLock()  # reentrant: a client factory asks for the credential
        self._made: dict[str, Any] = {}

    def _once(self, key: str, factory: Callable[[], Any]) -> Any:
        with self._lock:
            if key not in self._made:
                self._made[key] = factory()
            return self._made[key]

    def _client_kwargs(self) -> dict[str, Any]:
        bound = self.config.max_retry_after
        connection: dict[str, Any] = dict(TIMEOUTS)
        if self.config.ca_bundle:
            connection["connection_verify"] = self.config.ca_bundle
        kwargs: dict[str, Any] = {
            "base_url": self.config.arm_endpoint,
            "credential_scopes": [self.config.credential_scope],
            "polling_interval": self.config.poll_interval,
            "raw_response_hook": self.calls,
            "retry_policy": _retry_policy(bound),
            "transport": _transport(bound, **connection),  # one per client: a client closes its transport
            **SDK_RETRY,
            **connection,
        }
        return kwargs

    @property
    def credential(self) -> Any:
        return self._once("credential", lambda: make_credential(self.config))

    def check_credentials(self) -> str:
        """Get a token now, before any step: a bad secret or an unreachable authority fails fast and clearly."""
        try:
            token = self.credential.get_token(self.config.credential_scope)
        except Exception as exc:
            found = classify(exc, max_retry_after=self.config.max_retry_after)
            raise AzureError(
                f"cannot authenticate to Azure ({self.config.describe()}): {found.message}",
                hint="check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or run `az login`",
            ) from None
        return principal_of(token.token)

    def _make(self, key: str, module: str, name: str, subscription: str | None = None) -> Any:
        def factory() -> Any:
            import importlib

            cls = getattr(importlib.import_module(module), name)
            return cls(self.credential, subscription or self.config.subscription_id, **self._client_kwargs())

        return self._once(f"{key}:{subscription or ''}", factory)

    @property
    def resource(self) -> Any:
        return self._make("resource", "azure.mgmt.resource.resources", "ResourceManagementClient")

    @property
    def sql(self) -> Any:
        return self._make("sql", "azure.mgmt.sql", "SqlManagementClient")

    def dns(self, subscription: str | None = None) -> Any:
        return self._make("dns", "azure.mgmt.dns", "DnsManagementClient", subscription)

    def cdn(self, subscription: str | None = None) -> Any:
        return self._make("cdn", "azure.mgmt.cdn", "CdnManagementClient", subscription)

    @property
    def web(self) -> Any:
        return self._make("web", "azure.mgmt.web", "WebSiteManagementClient")

    @property
    def compute(self) -> Any:
        return self._make("compute", "azure.mgmt.compute", "ComputeManagementClient")

    @property
    def storage(self) -> Any:
        return self._make("storage", "azure.mgmt.storage", "StorageManagementClient")

    @property
    def containerservice(self) -> Any:
        return self._make("containerservice", "azure.mgmt.containerservice", "ContainerServiceClient")

    def trafficmanager(self, subscription: str | None = None) -> Any:
        return self._make("trafficmanager", "azure.mgmt.trafficmanager", "TrafficManagerManagementClient", subscription)

    def close(self) -> None:
        with self._lock:
            made, self._made = self._made, {}
        for client in made.values():
            closer = getattr(client, "close", None)
            if callable(closer):
                try:
                    closer()
                except Exception:  # noqa: S112 - closing is best effort at the end of a run
                    continue


def make_credential(config: AzureConfig) -> Any:
    from azure.identity import ClientSecretCredential, DefaultAzureCredential

    kwargs: dict[str, Any] = {}
    if config.authority_host:
        kwargs["authority"] = config.authority_host
    if not config.instance_discovery:
        kwargs["disable_instance_discovery"] = True
    if config.ca_bundle:
        kwargs["connection_verify"] = config.ca_bundle
    if config.tenant_id and config.client_id and config.client_secret:
        # explicit is clearer than DefaultAzureCredential's chain when a principal is configured: its errors
        # name the real problem instead of "no credential in the chain worked"
        return ClientSecretCredential(config.tenant_id, config.client_id, config.client_secret, **kwargs)
    return DefaultAzureCredential(exclude_interactive_browser_credential=True, **kwargs)


def principal_of(token: str) -> str:
    """Who the token speaks for (upn, app id or object id), read from its claims without verifying them.

    Used to name the Azure principal next to the OS user in approvals; an opaque token gives "unknown".
    """
    parts = token.split(".")
    if len(parts) != 3:
        return "unknown"
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return "unknown"
    if not isinstance(claims, dict):
        return "unknown"
    for key in ("upn", "unique_name", "preferred_username", "appid", "azp", "oid"):
        if claims.get(key):
            return str(claims[key])
    return "unknown"
