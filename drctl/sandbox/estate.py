"""The estate file: what the sandbox emulates, per region, validated before anything starts.

A malformed estate is a ``SandboxError`` (exit 11) whose message names the file, the line and the field of
every problem found, e.g. ``estate.yaml:14:9: sql.failover_groups[0].primary: unknown SQL server 'sql-x'``.
The format is documented in ``docs/sandbox.md``; ``check_estate`` holds the cross-reference rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, StringConstraints, ValidationError

from drctl.errors import SandboxError
from drctl.sandbox.estate_checks import check_estate
from drctl.sandbox.faults import FaultRule, clean_loc, dotted, error_message
from drctl.sandbox.ops import ControlPlane, RegionStatus
from drctl.sandbox.providers.base import EstateModel, HostName, RegionKey, ResourceName
from drctl.sandbox.providers.cdn.model import CdnSection
from drctl.sandbox.providers.compute.model import ComputeSection
from drctl.sandbox.providers.containerservice.model import ContainerServiceSection
from drctl.sandbox.providers.dns.model import DnsSection
from drctl.sandbox.providers.resources.model import ResourcesSection
from drctl.sandbox.providers.sql.model import SqlSection
from drctl.sandbox.providers.storage.model import StorageSection
from drctl.sandbox.providers.trafficmanager.model import TrafficManagerSection
from drctl.sandbox.providers.web.model import WebSection

GUID = Annotated[
    str, StringConstraints(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
]
UrlPath = Annotated[str, StringConstraints(pattern=r"^/[^\s?#]*$")]


class AppEndpoint(EstateModel):
    """The region's application, reached at ``hosts`` (TLS, port 443 in DRCTL_RESOLVE)."""

    hosts: list[HostName] = Field(min_length=1)
    #: the port drctl connects to on those hosts (mapped to the region's listener in DRCTL_RESOLVE)
    port: int = Field(default=443, ge=1, le=65535)
    health_path: UrlPath = "/healthz"
    replication_path: UrlPath | None = "/replication"
    #: the failover group whose local database this app uses (default: the one with a server in the region)
    failover_group: ResourceName | None = None
    #: web apps and scale sets that must run for a healthy answer (default: all of the region's)
    web_apps: list[ResourceName] | None = None
    scale_sets: list[ResourceName] | None = None


class Region(EstateModel):
    location: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+$")]
    status: RegionStatus = RegionStatus.UP
    #: how ARM treats this region's resources while it is down
    control_plane: ControlPlane = ControlPlane.READ_ONLY
    app: AppEndpoint | None = None


class Smtp(EstateModel):
    #: ``host`` or ``host:port`` names (default port 587) under which drctl reaches the SMTP sink
    hosts: list[str] = Field(default_factory=list)
    username: str = "drctl-sandbox"
    #: generated at start when omitted
    password: str | None = None


class Identity(EstateModel):
    tenant_id: GUID | None = None
    client_id: GUID | None = None
    #: generated at start when omitted
    client_secret: str | None = None


class Settings(EstateModel):
    #: items per page of every ARM list (then ``nextLink``)
    page_size: int = Field(default=100, ge=1, le=1000)
    #: ``Retry-After`` on 202 answers and InProgress polls (0 would make the SDK fall back to 30 s)
    lro_retry_after: int = Field(default=1, ge=1, le=60)
    token_lifetime_seconds: int = Field(default=3600, ge=60, le=86400)
    request_log_size: int = Field(default=5000, ge=100, le=1_000_000)


class Estate(
    ResourcesSection,
    SqlSection,
    WebSection,
    ComputeSection,
    StorageSection,
    DnsSection,
    ContainerServiceSection,
    CdnSection,
    TrafficManagerSection,
):
    """The whole estate file: what every service shares, then each provider's section (its bases)."""

    version: Literal[1] = 1
    name: str = "sandbox"
    subscription_id: GUID
    subscription_name: str = "drctl sandbox"
    identity: Identity = Field(default_factory=Identity)
    regions: dict[RegionKey, Region] = Field(min_length=1)
    smtp: Smtp = Field(default_factory=Smtp)
    settings: Settings = Field(default_factory=Settings)
    faults: list[FaultRule] = Field(default_factory=list)
    #: extra variables printed with the environment; values may use the placeholders of ``VARIABLE_FIELDS``
    #: (e.g. ``SLACK_OPS_WEBHOOK: "{webhook_base}/ops-slack"``, ``SMTP_PASSWORD: "{smtp_password}"``)
    variables: dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], str] = Field(
        default_factory=dict
    )

    def hostnames(self) -> list[str]:
        """Every name the sandbox answers TLS for besides 127.0.0.1 and localhost."""
        names: list[str] = []
        for region in self.regions.values():
            if region.app:
                names.extend(region.app.hosts)
        names.extend(h.rsplit(":", 1)[0] if ":" in h else h for h in self.smtp.hosts)
        names.extend(self.front_door_hosts())
        return sorted({n.lower() for n in names})


def load_estate(path: str | Path) -> Estate:
    """Read, validate and cross-check an estate file; every problem is reported with its line."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SandboxError(f"{file}: estate file not found") from None
    except OSError as exc:
        raise SandboxError(f"{file}: cannot read the estate file: {exc.strerror}") from None
    return parse_estate(text, source=str(file))


def parse_estate(text: str, *, source: str = "<estate>") -> Estate:
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise SandboxError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise SandboxError(f"{source}: an estate file is a YAML mapping (subscription_id, regions, ...)")
    return estate_from_dict(data, source=source, root=root)


def estate_from_dict(data: dict[str, Any], *, source: str = "<estate>", root: yaml.Node | None = None) -> Estate:
    try:
        estate = Estate.model_validate(data)
    except ValidationError as exc:
        errors = [(clean_loc(tuple(err["loc"])), error_message(err)) for err in exc.errors()]
        raise SandboxError(_report(source, root, errors)) from None
    problems = check_estate(estate)
    if problems:
        raise SandboxError(_report(source, root, problems))
    return estate


def _report(source: str, root: yaml.Node | None, problems: list[tuple[tuple[Any, ...], str]]) -> str:
    lines = []
    for loc, message in problems:
        where = source
        mark = _locate(root, loc)
        if mark is not None:
            where = f"{source}:{mark[0]}:{mark[1]}"
        lines.append(f"{where}: {dotted(loc)}: {message}")
    head = f"{source}: invalid estate ({len(lines)} problem{'s' if len(lines) != 1 else ''})"
    return head + "\n  " + "\n  ".join(lines)


def _locate(node: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[int, int] | None:
    """Line and column (1-based) of the deepest YAML node on ``loc`` that exists."""
    if node is None:
        return None
    best = node.start_mark
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    child = value
                    best = key.start_mark
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            best = child.start_mark
        if child is None:
            break
        node = child
    return best.line + 1, best.column + 1


def estate_sha256(estate: Estate) -> str:
    """The estate a sandbox was seeded with, as one hash (``DRCTL_SANDBOX_ESTATE``): a run journals it, and resume
    accepts a sandbox only when it was seeded with the same estate (a ``--sandbox`` run's process, and the
    sandbox with it, is gone)."""
    import hashlib
    import json

    data = json.dumps(estate.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()
