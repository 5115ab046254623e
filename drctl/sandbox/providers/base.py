"""What every provider shares: the estate-file building blocks, the placed-resource state and ``Provider``.

A provider owns one Azure service end to end. ``World`` builds each provider's store from the estate (and holds
it by the provider's name); the ARM router serves every provider's routes; the admin snapshot merges every
provider's sections; ``estate_from_playbook`` lets every provider seed its part of the estate.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints

from drctl.sandbox.ops import OpKind

if TYPE_CHECKING:
    from drctl.playbook.model import Playbook
    from drctl.sandbox.arm.core import Ctx, Route
    from drctl.sandbox.estate import Estate
    from drctl.sandbox.state import World

ResourceName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._()-]{0,89}$")]
RegionKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
HostName = Annotated[
    str,
    StringConstraints(
        max_length=253,
        pattern=r"^([A-Za-z0-9_]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
        r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$",
    ),
]

#: ``(location, message)`` pairs of the estate's cross-reference rules (see ``estate_checks``)
Problems = list[tuple[tuple[Any, ...], str]]


class EstateModel(BaseModel):
    """An estate-file section: frozen, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass
class Placed:
    """A resource that lives in a resource group and a region."""

    name: str
    resource_group: str
    region: str
    tags: dict[str, str]
    #: extra JSON merged into the rendered ``properties`` by generic PATCHes
    overlay: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Seeding:
    """What a provider needs to seed its part of an estate from a playbook (see ``drctl.sandbox.playbook``)."""

    playbook: Playbook
    #: the region that holds the primary, and the warm standby
    home: str
    standby: str


@dataclass(frozen=True)
class DnsAnswer:
    """What a provider's DNS-serving front answers for a name it owns (``Provider.dns_answer``)."""

    ttl: int
    #: a CNAME to this host, or
    cname: str | None = None
    #: A records with these addresses; neither: the name does not exist (NXDOMAIN)
    addresses: tuple[str, ...] = ()


class Provider(ABC):
    """One emulated Azure service. Subclasses set the class attributes and implement the abstract methods."""

    #: the key of its store in ``World`` and of its part of the registry
    name: str = ""
    #: ``Microsoft.X`` namespace, its api versions (newest first) and resource types (type, regional, top level)
    namespace: str = ""
    api_versions: tuple[str, ...] = ()
    resource_types: tuple[tuple[str, bool, bool], ...] = ()
    #: the operation kinds its routes classify requests into, besides ``arm.read`` and ``arm.write``
    op_kinds: tuple[OpKind, ...] = ()
    #: the operation kinds of a data plane it serves outside ARM (the AKS clusters' Kubernetes API)
    data_op_kinds: tuple[OpKind, ...] = ()
    #: the keys its ``snapshot`` adds to the admin state (``GET /_sandbox/state``)
    snapshot_keys: tuple[str, ...] = ()

    @abstractmethod
    def build(self, world: World, estate: Estate, now: float) -> object:
        """Its store: the live state of its resources, from the estate (again on every reset)."""

    @abstractmethod
    def routes(self) -> list[Route]:
        """Its ARM routes, each classified into ``arm.read``, ``arm.write`` or one of its ``op_kinds``."""

    @abstractmethod
    def snapshot(self, world: World, now: float) -> dict[str, Any]:
        """Its sections of the admin state (``snapshot_keys``); called with the world lock held."""

    @abstractmethod
    def seed(self, seeding: Seeding, data: dict[str, Any]) -> None:
        """Add its part to the estate data seeded from a playbook."""

    @abstractmethod
    def check(self, estate: Estate, problems: Problems) -> None:
        """Cross-reference rules of its estate section that pydantic cannot express."""

    @abstractmethod
    def placements(self, world: World) -> Iterable[tuple[str, str | None]]:
        """``(resource group, region key or None for global)`` of every resource: groups exist implicitly."""

    @abstractmethod
    def listed(self, ctx: Ctx) -> list[dict[str, Any]]:
        """Its resources as the generic resources list shows them (id, name, type, location, tags...)."""

    def dns_answer(self, world: World, name: str) -> DnsAnswer | None:
        """The answer for ``name`` (lower case, no trailing dot) when the service owns it in DNS, as Traffic
        Manager owns ``*.trafficmanager.net``; None when it does not (the default). The DNS server asks every
        provider through the registry, so the dns provider imports none of them."""
        return None

    def set_lag(self, world: World, seconds: float, target: str | None) -> list[str]:
        """The ``replication_lag`` world fault: the names of what it changed (none by default)."""
        return []
