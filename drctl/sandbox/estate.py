"""The estate file: what the sandbox emulates, per region, validated before anything starts.

A malformed estate is a ``SandboxError`` (exit 11) whose message names the file, the line and the field of
every problem found, e.g. ``estate.yaml:14:9: sql.failover_groups[0].primary: unknown SQL server 'sql-x'``.
The format is documented in ``docs/sandbox.md``; ``check_estate`` holds the cross-reference rules.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from drctl.errors import SandboxError
from drctl.sandbox.faults import FaultRule, clean_loc, dotted, error_message
from drctl.sandbox.ops import ControlPlane, RegionStatus, ReplicationState, WebAppState

GUID = Annotated[
    str, StringConstraints(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
]
ResourceName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._()-]{0,89}$")]
RegionKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
HostName = Annotated[str, StringConstraints(max_length=253, pattern=r"^([A-Za-z0-9_]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
                                                                    r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")]
UrlPath = Annotated[str, StringConstraints(pattern=r"^/[^\s?#]*$")]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AppEndpoint(_Model):
    """The region's application, reached at ``hosts`` (TLS, port 443 in DRCTL_RESOLVE)."""

    hosts: list[HostName] = Field(min_length=1)
    health_path: UrlPath = "/healthz"
    replication_path: UrlPath | None = "/replication"
    #: the failover group whose local database this app uses (default: the one with a server in the region)
    failover_group: ResourceName | None = None
    #: web apps and scale sets that must run for a healthy answer (default: all of the region's)
    web_apps: list[ResourceName] | None = None
    scale_sets: list[ResourceName] | None = None


class Region(_Model):
    location: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+$")]
    status: RegionStatus = RegionStatus.UP
    #: how ARM treats this region's resources while it is down
    control_plane: ControlPlane = ControlPlane.READ_ONLY
    app: AppEndpoint | None = None


class ResourceGroup(_Model):
    name: ResourceName
    region: RegionKey
    tags: dict[str, str] = Field(default_factory=dict)


class _Placed(_Model):
    name: ResourceName
    resource_group: ResourceName
    region: RegionKey
    tags: dict[str, str] = Field(default_factory=dict)


class SqlServer(_Placed):
    #: databases outside any failover group (the failover groups' databases are implied on both servers)
    databases: list[ResourceName] = Field(default_factory=list)
    administrator_login: str = "sqladmin"


class FailoverGroup(_Model):
    name: ResourceName
    primary: ResourceName
    secondary: ResourceName
    databases: list[ResourceName] = Field(min_length=1)
    replication_lag_seconds: float = Field(default=5.0, ge=0)
    #: the links' state while both regions are up; SUSPENDED is shown whenever a partner region is down
    replication_state: ReplicationState = ReplicationState.CATCH_UP
    failover_policy: Literal["Automatic", "Manual"] = "Manual"
    grace_period_minutes: int = Field(default=60, ge=60)


class Sql(_Model):
    servers: list[SqlServer] = Field(default_factory=list)
    failover_groups: list[FailoverGroup] = Field(default_factory=list)


class WebApp(_Placed):
    state: WebAppState = WebAppState.RUNNING


class ScaleSet(_Placed):
    capacity: int = Field(ge=0, le=1000)
    sku: str = "Standard_D2s_v5"


class StorageAccount(_Placed):
    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{3,24}$")]
    #: the paired region (geo-redundant SKUs); omit for a locally redundant account
    secondary_region: RegionKey | None = None
    sku: str = "Standard_RAGRS"
    replication_lag_seconds: float = Field(default=300.0, ge=0)


class DnsRecord(_Model):
    #: relative name, ``@`` for the apex
    name: Annotated[str, StringConstraints(pattern=r"^(@|[A-Za-z0-9_*]([A-Za-z0-9_.-]{0,200}[A-Za-z0-9])?)$")]
    type: Literal["A", "AAAA", "CNAME", "TXT"]
    ttl: int = Field(default=3600, ge=0, le=2147483647)
    values: list[str] = Field(min_length=1)


class DnsZone(_Model):
    name: HostName
    resource_group: ResourceName
    records: list[DnsRecord] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)


class Dns(_Model):
    zones: list[DnsZone] = Field(default_factory=list)


class GenericResource(_Model):
    """Any other ARM resource drctl reads or PATCHes by id (e.g. an App Service plan)."""

    resource_group: ResourceName
    #: ``Namespace/type`` such as ``Microsoft.Web/serverfarms``
    type: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9.]+/[A-Za-z0-9]+(/[A-Za-z0-9]+)*$")]
    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._()/-]{0,200}$")]
    region: RegionKey
    kind: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    sku: dict[str, Any] | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class Smtp(_Model):
    #: ``host`` or ``host:port`` names (default port 587) under which drctl reaches the SMTP sink
    hosts: list[str] = Field(default_factory=list)
    username: str = "drctl-sandbox"
    #: generated at start when omitted
    password: str | None = None


class Identity(_Model):
    tenant_id: GUID | None = None
    client_id: GUID | None = None
    #: generated at start when omitted
    client_secret: str | None = None


class Settings(_Model):
    #: items per page of every ARM list (then ``nextLink``)
    page_size: int = Field(default=100, ge=1, le=1000)
    #: ``Retry-After`` on 202 answers and InProgress polls (0 would make the SDK fall back to 30 s)
    lro_retry_after: int = Field(default=1, ge=1, le=60)
    token_lifetime_seconds: int = Field(default=3600, ge=60, le=86400)
    request_log_size: int = Field(default=5000, ge=100, le=1_000_000)


class Estate(_Model):
    version: Literal[1] = 1
    name: str = "sandbox"
    subscription_id: GUID
    subscription_name: str = "drctl sandbox"
    identity: Identity = Field(default_factory=Identity)
    regions: dict[RegionKey, Region] = Field(min_length=1)
    resource_groups: list[ResourceGroup] = Field(default_factory=list)
    sql: Sql = Field(default_factory=Sql)
    web_apps: list[WebApp] = Field(default_factory=list)
    scale_sets: list[ScaleSet] = Field(default_factory=list)
    storage_accounts: list[StorageAccount] = Field(default_factory=list)
    dns: Dns = Field(default_factory=Dns)
    generic_resources: list[GenericResource] = Field(default_factory=list)
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


#: placeholders a ``variables`` value may use, filled in at start
VARIABLE_FIELDS = ("webhook_base", "smtp_host", "smtp_port", "smtp_username", "smtp_password", "arm_endpoint",
                   "subscription_id", "tenant_id", "client_id")

_IPV4 = re.compile(r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")


def check_estate(estate: Estate) -> list[tuple[tuple[Any, ...], str]]:
    """Cross-reference rules pydantic cannot express; returns (location, message) pairs."""
    problems: list[tuple[tuple[Any, ...], str]] = []

    def bad(loc: tuple[Any, ...], message: str) -> None:
        problems.append((loc, message))

    def region_ok(loc: tuple[Any, ...], region: str) -> None:
        if region not in estate.regions:
            bad(loc, f"unknown region {region!r} (regions: {', '.join(estate.regions)})")

    def unique(section: tuple[Any, ...], names: list[str], what: str) -> None:
        seen: set[str] = set()
        for i, name in enumerate(names):
            if name.lower() in seen:
                bad((*section, i, "name"), f"duplicate {what} name {name!r}")
            seen.add(name.lower())

    for i, group in enumerate(estate.resource_groups):
        region_ok(("resource_groups", i, "region"), group.region)
    unique(("resource_groups",), [g.name for g in estate.resource_groups], "resource group")
    placed: list[tuple[tuple[Any, ...], _Placed]] = [
        *((("sql", "servers", i), s) for i, s in enumerate(estate.sql.servers)),
        *((("web_apps", i), w) for i, w in enumerate(estate.web_apps)),
        *((("scale_sets", i), s) for i, s in enumerate(estate.scale_sets)),
        *((("storage_accounts", i), s) for i, s in enumerate(estate.storage_accounts)),
    ]
    for loc, resource in placed:
        region_ok((*loc, "region"), resource.region)
    for i, generic in enumerate(estate.generic_resources):
        region_ok(("generic_resources", i, "region"), generic.region)
    unique(("sql", "servers"), [s.name for s in estate.sql.servers], "SQL server")
    unique(("sql", "failover_groups"), [f.name for f in estate.sql.failover_groups], "failover group")
    unique(("web_apps",), [w.name for w in estate.web_apps], "web app")
    unique(("scale_sets",), [s.name for s in estate.scale_sets], "scale set")
    unique(("storage_accounts",), [s.name for s in estate.storage_accounts], "storage account")
    unique(("dns", "zones"), [z.name for z in estate.dns.zones], "DNS zone")

    servers = {s.name.lower(): s for s in estate.sql.servers}
    in_group: dict[str, str] = {}
    for i, fg in enumerate(estate.sql.failover_groups):
        loc = ("sql", "failover_groups", i)
        for role in ("primary", "secondary"):
            name = getattr(fg, role)
            if name.lower() not in servers:
                bad((*loc, role), f"unknown SQL server {name!r}")
        primary, secondary = servers.get(fg.primary.lower()), servers.get(fg.secondary.lower())
        if primary and secondary:
            if primary.name == secondary.name:
                bad((*loc, "secondary"), "the secondary must be another server than the primary")
            elif primary.region == secondary.region:
                bad((*loc, "secondary"), "primary and secondary servers must be in different regions")
        for j, db in enumerate(fg.databases):
            for server in (fg.primary.lower(), fg.secondary.lower()):
                key = f"{server}/{db.lower()}"
                if key in in_group and in_group[key] != fg.name:
                    bad((*loc, "databases", j), f"database {db!r} is already in failover group {in_group[key]!r}")
                in_group[key] = fg.name

    for i, account in enumerate(estate.storage_accounts):
        if account.secondary_region is not None:
            region_ok(("storage_accounts", i, "secondary_region"), account.secondary_region)
            if account.secondary_region == account.region:
                bad(("storage_accounts", i, "secondary_region"), "must differ from the account's region")

    hosts: dict[str, str] = {}
    for key, region in estate.regions.items():
        if region.app is None:
            continue
        loc = ("regions", key, "app")
        for j, host in enumerate(region.app.hosts):
            if host.lower() in hosts:
                bad((*loc, "hosts", j), f"host {host!r} is already the app of region {hosts[host.lower()]!r}")
            hosts[host.lower()] = key
        fg_name = region.app.failover_group
        if fg_name is not None:
            fg_match = [f for f in estate.sql.failover_groups if f.name.lower() == fg_name.lower()]
            if not fg_match:
                bad((*loc, "failover_group"), f"unknown failover group {fg_name!r}")
            elif not any(
                (s := servers.get(n.lower())) and s.region == key for n in (fg_match[0].primary, fg_match[0].secondary)
            ):
                bad((*loc, "failover_group"), f"failover group {fg_name!r} has no server in region {key!r}")
        for field, items in (("web_apps", estate.web_apps), ("scale_sets", estate.scale_sets)):
            names = getattr(region.app, field)
            local = {r.name.lower() for r in items if r.region == key}
            for j, name in enumerate(names or []):
                if name.lower() not in local:
                    bad((*loc, field, j), f"no {field[:-1].replace('_', ' ')} {name!r} in region {key!r}")

    for name, value in estate.variables.items():
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
        except ValueError as exc:
            bad(("variables", name), f"malformed template: {exc}")
            continue
        for field in fields:
            if field not in VARIABLE_FIELDS:
                bad(("variables", name), f"unknown placeholder {{{field}}} (known: {', '.join(VARIABLE_FIELDS)})")

    for i, zone in enumerate(estate.dns.zones):
        seen: dict[str, set[str]] = {}
        for j, record in enumerate(zone.records):
            loc = ("dns", "zones", i, "records", j)
            types = seen.setdefault(record.name.lower(), set())
            if record.type in types:
                bad((*loc, "name"), f"duplicate {record.type} record set {record.name!r}")
            elif types and "CNAME" in (types | {record.type}):
                bad((*loc, "name"), f"a CNAME record set cannot share the name {record.name!r} with another type")
            types.add(record.type)
            problem = record_values_problem(record.type, record.values)
            if problem:
                bad((*loc, "values"), problem)
    return problems


def record_values_problem(rtype: str, values: list[str]) -> str | None:
    """Why these values are not valid for a record set of ``rtype`` (None when they are)."""
    import ipaddress

    if rtype == "A":
        bad = [v for v in values if not _IPV4.match(v)]
        return f"not IPv4 addresses: {', '.join(bad)}" if bad else None
    if rtype == "AAAA":
        for value in values:
            try:
                ipaddress.IPv6Address(value)
            except ValueError:
                return f"not an IPv6 address: {value}"
        return None
    if rtype == "CNAME":
        if len(values) != 1:
            return "a CNAME record set holds exactly one value"
        if not re.match(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9])?\.?$", values[0]):
            return f"not a host name: {values[0]}"
        return None
    if any(len(v) > 1024 for v in values):
        return "a TXT value is at most 1024 characters"
    return None
