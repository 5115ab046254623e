"""Fixtures for the sandbox tests.

* ``sandbox``: one demo-estate sandbox per test session (per xdist worker), for tests that only read;
* ``fresh_sandbox``: a new sandbox per test, for tests that change the world (failovers, faults, outages);
* ``sdk``: real Azure management clients for a sandbox, authenticated by azure-identity.

Other test suites reuse the same helpers from ``drctl.sandbox.testing``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from drctl.sandbox import Sandbox
from drctl.sandbox.testing import arm_client, running_sandbox


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with running_sandbox(workdir=tmp_path_factory.mktemp("sandbox")) as sb:
        yield sb


@pytest.fixture
def fresh_sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(workdir=tmp_path / "sandbox") as sb:
        yield sb


@dataclass
class Sdk:
    """The management clients drctl uses, bound to one sandbox."""

    sandbox: Sandbox
    options: dict[str, Any]

    def _make(self, cls: type[Any]) -> Any:
        return arm_client(self.sandbox, cls, **self.options)

    @property
    def resources(self) -> Any:
        from azure.mgmt.resource.resources import ResourceManagementClient

        return self._make(ResourceManagementClient)

    @property
    def sql(self) -> Any:
        from azure.mgmt.sql import SqlManagementClient

        return self._make(SqlManagementClient)

    @property
    def dns(self) -> Any:
        from azure.mgmt.dns import DnsManagementClient

        return self._make(DnsManagementClient)

    @property
    def web(self) -> Any:
        from azure.mgmt.web import WebSiteManagementClient

        return self._make(WebSiteManagementClient)

    @property
    def compute(self) -> Any:
        from azure.mgmt.compute import ComputeManagementClient

        return self._make(ComputeManagementClient)

    @property
    def storage(self) -> Any:
        from azure.mgmt.storage import StorageManagementClient

        return self._make(StorageManagementClient)


@pytest.fixture
def sdk() -> Callable[..., Sdk]:
    """``sdk(sb)`` or ``sdk(sb, retry_total=0)``: clients for a sandbox with extra client options."""

    def make(sb: Sandbox, **options: Any) -> Sdk:
        return Sdk(sb, options)

    return make
