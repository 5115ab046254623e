"""Helpers for tests that run against the sandbox (this package's tests, drctl's end-to-end tests).

    from drctl.sandbox.testing import running_sandbox, arm_client

    with running_sandbox(workdir=tmp_path) as sb:
        sql = arm_client(sb, SqlManagementClient)
        sql.failover_groups.get(...)

Nothing here mocks the SDK: clients are the real ones, authenticated by azure-identity against the sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from drctl.sandbox.estate import Estate
from drctl.sandbox.faults import FaultRule
from drctl.sandbox.server import Sandbox

T = TypeVar("T")

#: keep LRO polls and SDK retries short in tests (the sandbox's Retry-After still wins where it sends one)
FAST = {"polling_interval": 0.05, "retry_backoff_factor": 0.05}


@contextmanager
def running_sandbox(
    estate: Estate | str | Path | None = None,
    *,
    faults: list[FaultRule] | str | Path | None = None,
    workdir: str | Path | None = None,
) -> Iterator[Sandbox]:
    """A started sandbox (the demo estate by default), stopped and joined on exit."""
    sandbox = Sandbox.start(estate, faults=faults, workdir=workdir)
    try:
        yield sandbox
    finally:
        sandbox.stop()


def arm_client(sandbox: Sandbox, client_class: type[T], *, credential: Any = None, **kwargs: Any) -> T:
    """A real Azure management client pointed at the sandbox (``ResourceManagementClient``, ``SqlManagement...``)."""
    options = {**FAST, **kwargs}
    return client_class(  # type: ignore[call-arg]
        credential or sandbox.credential(),
        sandbox.subscription_id,
        base_url=sandbox.arm_endpoint,
        connection_verify=sandbox.ca_bundle,
        **options,
    )


def resolve(sandbox: Sandbox, url_host: str, port: int = 443) -> tuple[str, int]:
    """Where a real host name of the estate is served (the DRCTL_RESOLVE mapping as a tuple)."""
    target = sandbox.resolve_map()[f"{url_host.lower()}:{port}"]
    host, _, number = target.rpartition(":")
    return host, int(number)
