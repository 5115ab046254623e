"""What every action declares: its parameter model, whether it mutates, its defaults, and how a plan reads it.

This module and the action modules' top level import no Azure SDK: ``validate`` and ``plan`` read the
parameter models and ``describe`` functions offline. What an action does at run time lives in functions that
import ``drctl.azure`` lazily.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from drctl.actions.facts import FactKind
from drctl.playbook.model import Playbook, RegionEstate

if TYPE_CHECKING:  # the run-time interface is imported when a run starts, never by validate or plan
    from drctl.actions.fencing import Fencer
    from drctl.actions.prior import Returner
    from drctl.actions.runtime import Implementation

Role = Literal["source", "target"]


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


P = TypeVar("P", bound=Params)


class SafetyRole(StrEnum):
    """What a step means to safety rule 1 (traffic moves only after promotion and a passing target check)."""

    #: the step moves clients to the target: DNS records, Traffic Manager endpoints, Front Door origins
    MOVES_TRAFFIC = "moves-traffic"
    PROMOTES_TARGET_DATABASE = "promotes-target-database"
    CHECKS_TARGET_HEALTH = "checks-target-health"


@dataclass(frozen=True)
class Scope:
    """A playbook seen in one direction: which region is the source and which the target."""

    playbook: Playbook
    source_name: str
    target_name: str

    @property
    def source(self) -> RegionEstate:
        return self.playbook.regions[self.source_name]

    @property
    def target(self) -> RegionEstate:
        return self.playbook.regions[self.target_name]

    def region(self, role: Role) -> RegionEstate:
        return self.source if role == "source" else self.target

    def region_name(self, role: Role) -> str:
        return self.source_name if role == "source" else self.target_name

    def reference_data(self) -> dict[str, Any]:
        """The plain data that ``${{ ... }}`` references read."""
        pb = self.playbook
        return {
            "source": self.source.model_dump(mode="json", by_alias=True) | {"name": self.source_name},
            "target": self.target.model_dump(mode="json", by_alias=True) | {"name": self.target_name},
            "dns": pb.dns.model_dump(mode="json", by_alias=True) if pb.dns else None,
            "objectives": pb.objectives.model_dump(mode="json", by_alias=True),
        }


@dataclass(frozen=True)
class Problem:
    """A finding about one step's parameters; ``field`` is a path inside ``with``."""

    message: str
    field: tuple[str | int, ...] = ()
    severity: Literal["error", "warning"] = "error"


@dataclass(frozen=True)
class ActionSpec(Generic[P]):
    name: str
    summary: str
    params: type[P]
    mutating: bool
    default_timeout: timedelta
    default_budget: timedelta
    #: human lines for ``plan``: the change a mutating step intends, or what a read-only step checks
    describe: Callable[[P, Scope], list[str]]
    #: cross-checks against the playbook that a field-level schema cannot express (unknown channel names...)
    check: Callable[[P, Scope], list[Problem]] = field(default=lambda _p, _s: [])
    #: what the step means for safety rule 1; gets the raw ``with`` too, to see which region a URL refers to
    safety: Callable[[P, Mapping[str, Any]], set[SafetyRole]] = field(default=lambda _p, _w: set())
    #: steps of this action keep running in the background (periodic messages) and hold nothing up; decided
    #: from the raw ``with`` so that the graph can be built before references are resolved
    background: Callable[[Mapping[str, Any]], bool] = field(default=lambda _w: False)
    #: for an action of no family (the test-only actions): a function that imports and returns its run-time
    #: implementation when a run starts. A family's actions leave it None: their family's ``run`` module has them.
    implementation: Callable[[], Implementation[Any]] | None = None
    #: runs call Azure: the run gets Azure clients and checks its credentials before any step
    needs_azure: bool = False
    #: a per-step answer to "does this change the estate?" when the parameters decide it; ``mutating`` otherwise
    mutates: Callable[[P], bool] | None = None
    #: the step switches clients' traffic (DNS, Front Door, Traffic Manager) and records ``service.restored`` when
    #: it sees them served: with several such steps in a phase, clients are served when the last of them says so
    moves_traffic: bool = False

    def is_mutating(self, params: P) -> bool:
        return self.mutates(params) if self.mutates is not None else self.mutating


class RunModule(Protocol):
    """What a family's ``run`` module offers: mypy checks each family's module against it where the family's
    package returns it (``def _run() -> RunModule``)."""

    def implementation(self, action: str) -> Implementation[Any] | None:
        """The run-time half of one of the family's actions; None for an action it does not know."""
        ...


@dataclass(frozen=True)
class Family:
    """One action family: a package under ``drctl/actions/`` with its ``spec`` (parameters and plan text), ``run``
    (what its actions do at run time, imported only when a run starts) and ``facts`` (how its facts read), registered
    by one entry in ``registry.FAMILIES``."""

    name: str
    actions: tuple[ActionSpec[Any], ...]
    facts: tuple[FactKind, ...]
    #: imports the family's ``run`` module; called only when a run starts, so ``validate`` and ``plan`` never do
    run: Callable[[], RunModule]
    #: imports what the family fences in a region it leaves after a forced failover (``actions/fencing.py``)
    fencer: Callable[[], Fencer] | None = None
    #: imports how the family returns a region to the state journaled before a run changed it (``actions/prior.py``)
    returner: Callable[[], Returner] | None = None


def at_least(ratio: float, capacity: int) -> int:
    """The capacity that keeps degradation under ``1 - ratio``: 80 % of 6 instances is 5, never 4."""
    return math.ceil(ratio * capacity - 1e-9)
