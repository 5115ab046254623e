"""Actions under test, one at a time: ``drctl.actions.testkit``'s fake step context, real Azure SDK clients, and a
sandbox seeded from the sample playbook over HTTPS.

One sandbox per test module (started in about 0.2 s), reset to the playbook's pre-incident estate before every
test: each test starts from the source primary, the target a warm standby, and an empty request log, so the
mutating requests a test counts are its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from drctl.actions.base import Scope
from drctl.actions.testkit import FakeSecrets, FakeServices, FakeStepContext
from drctl.planning.load import load_playbook
from drctl.playbook.model import Playbook
from drctl.sandbox import Sandbox, estate_from_playbook
from drctl.sandbox.ops import Service
from drctl.sandbox.testing import running_sandbox
from tests.conftest import SAMPLE

SOURCE, TARGET = "au-east", "au-southeast"
MUTATING = ("PUT", "PATCH", "POST", "DELETE")


@dataclass
class Estate:
    """The module's sandbox, the sample playbook in its forward direction, and what a context needs."""

    sandbox: Sandbox
    playbook: Playbook
    services: FakeServices
    secrets: FakeSecrets

    @property
    def scope(self) -> Scope:
        return Scope(self.playbook, SOURCE, TARGET)

    def ctx(self, **kwargs: Any) -> FakeStepContext:
        kwargs.setdefault("services", self.services)
        kwargs.setdefault("secrets", self.secrets)
        return FakeStepContext(kwargs.pop("scope", self.scope), **kwargs)

    def arm_requests(self, *, mutating: bool = False) -> list[dict[str, Any]]:
        log = self.sandbox.world.request_log(Service.ARM)
        return [r for r in log if r["method"] in MUTATING] if mutating else log

    def mutations(self) -> list[tuple[str, str]]:
        """Every ARM request that could change Azure, as (method, path): what a test counts."""
        return [(r["method"], r["path"].split("?")[0]) for r in self.arm_requests(mutating=True)]

    def state(self) -> dict[str, Any]:
        return self.sandbox.snapshot()

    def primary(self) -> str:
        return str(self.state()["failover_groups"]["fg-wallet"]["primary"])

    def down(self, region: str = SOURCE) -> None:
        self.sandbox.set_region(region, up=False)


@pytest.fixture(scope="module")
def _module_estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    loaded = load_playbook(SAMPLE)
    with running_sandbox(estate_from_playbook(loaded.playbook), workdir=tmp_path_factory.mktemp("sandbox")) as sb:
        env = sb.env()
        # the sandbox's settings reach the actions only through the service bag (Azure clients, network
        # settings) and the secrets: nothing is exported to os.environ
        services = FakeServices.with_azure(env, subscription=sb.subscription_id)
        yield Estate(sb, loaded.playbook, services, FakeSecrets.for_playbook(loaded.playbook, env))
        services.close()


@pytest.fixture
def estate(_module_estate: Estate) -> Estate:
    _module_estate.sandbox.reset()
    return _module_estate
