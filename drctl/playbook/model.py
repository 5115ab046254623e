"""The playbook: what to do, as frozen typed data. Reading a file is the only I/O of this package.

Every model forbids unknown keys: a misspelt ``on_faliure`` must be an error, never a silently ignored line.
Action parameters (``with``) are kept as plain data here and validated by each action's own model once
estate references are resolved (see ``checks.py``), so a reference is type-checked through to its value.
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, field_validator

from drctl.durations import format_duration, parse_duration
from drctl.playbook.enums import Audience, Mode, OnFailure, RecordType, Weekday
from drctl.playbook.refs import ENV_WHOLE


def _duration(value: object) -> object:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError("a duration is text with a unit, e.g. 90s, 15m, 1h30m")
    return parse_duration(value)


Duration = Annotated[timedelta, BeforeValidator(_duration), PlainSerializer(format_duration, return_type=str)]


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than 0s: a step that may not run at all would fail at once")
    return value


#: a limit on time (a timeout, an interval): zero would fail or spin at once
PositiveDuration = Annotated[Duration, AfterValidator(_positive)]


def _secret(value: object) -> object:
    if not isinstance(value, str) or not ENV_WHOLE.match(value.strip()):
        raise ValueError(
            "secrets never live in a playbook: write an environment reference such as ${SLACK_WEBHOOK_URL}"
        )
    return value.strip()


#: a field that may only hold ``${ENV_VAR}``; its value is read at run time and redacted everywhere
Secret = Annotated[str, BeforeValidator(_secret)]

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
Identifier = Annotated[str, Field(pattern=ID_PATTERN)]
Name = Annotated[str, Field(min_length=1, max_length=260)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class Objectives(Model):
    rto: Duration
    rpo: Duration
    mttr: Duration | None = None


class AzureSettings(Model):
    #: a subscription id, or ${AZURE_SUBSCRIPTION_ID} to take it from the environment
    subscription: Name
    tenant: Name | None = None


class Direction(Model):
    source: Name
    target: Name


class SqlEstate(Model):
    server: Name
    failover_group: Name
    databases: list[Name] = Field(min_length=1)


class ScaleSetEstate(Model):
    name: Name
    #: the capacity this region runs in production; used when the other region cannot be read
    capacity: int = Field(ge=0, le=1000)


class NodePoolEstate(Model):
    name: Name
    #: the nodes this pool runs in production; used when the other region's cluster cannot be read
    count: int = Field(ge=0, le=1000)


class DeploymentEstate(Model):
    name: Name
    namespace: Name = "default"
    #: the replicas this Deployment runs in production; used when the other region's cluster cannot be read
    replicas: int = Field(ge=0, le=10000)


class AksEstate(Model):
    """One AKS cluster of a region: its node pools and the Deployments (the app tier) it runs."""

    cluster: Name
    #: the region's ``resource_group`` when omitted
    resource_group: Name | None = None
    node_pools: list[NodePoolEstate] = []
    deployments: list[DeploymentEstate] = []


class RegionEstate(Model):
    #: the Azure region, e.g. australiaeast
    location: Name
    resource_group: Name
    sql: SqlEstate | None = None
    web_apps: list[Name] = []
    scale_sets: list[ScaleSetEstate] = []
    storage_accounts: list[Name] = []
    health_url: Annotated[str, Field(pattern=r"^https?://")] | None = None
    #: where the app (or an exporter beside the database) reports the last committed write: RPO evidence
    replication_url: Annotated[str, Field(pattern=r"^https?://")] | None = None
    #: this region's value for each record named in ``dns.records``
    dns: dict[Name, Name] = {}
    aks: AksEstate | None = None
    #: this region's origin in ``front_door.origin_group``
    front_door_origin: Name | None = None
    #: this region's endpoint in the ``traffic_manager`` profile
    traffic_manager_endpoint: Name | None = None


class DnsRecord(Model):
    name: Annotated[str, Field(pattern=r"^(@|[A-Za-z0-9_*]([A-Za-z0-9_.-]*[A-Za-z0-9_])?)$")]
    type: RecordType
    ttl: int | None = Field(default=None, ge=1, le=2147483647)


class DnsSettings(Model):
    zone: Annotated[str, Field(pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")]
    resource_group: Name
    subscription: Name | None = None
    ttl: int = Field(default=300, ge=1, le=2147483647)
    records: list[DnsRecord] = Field(min_length=1)


class FrontDoorSettings(Model):
    """An Azure Front Door (Standard/Premium) profile in front of both regions: one origin per region."""

    profile: Name
    resource_group: Name
    subscription: Name | None = None
    #: the AFD endpoint whose public hostname clients use
    endpoint: Name
    origin_group: Name


class TrafficManagerSettings(Model):
    """An Azure Traffic Manager profile in front of both regions: one endpoint per region."""

    profile: Name
    resource_group: Name
    subscription: Name | None = None


class ChannelBase(Model):
    #: who a channel serves; drills only message channels whose audiences include ``drill``
    audiences: list[Audience] = [Audience.PRODUCTION]


class WebhookChannel(ChannelBase):
    type: Literal["webhook"]
    url: Secret
    headers: dict[Name, Secret] = {}


class SlackChannel(ChannelBase):
    type: Literal["slack"]
    webhook: Secret


class TeamsChannel(ChannelBase):
    type: Literal["teams"]
    webhook: Secret


class SmtpSettings(Model):
    host: Name
    port: int = Field(default=587, ge=1, le=65535)
    #: STARTTLS before authenticating; only a relay on loopback may go without
    starttls: bool = True
    username: Secret | None = None
    password: Secret | None = None


class EmailChannel(ChannelBase):
    type: Literal["email"]
    smtp: SmtpSettings
    sender: Annotated[str, Field(alias="from", pattern=r"^[^@\s]+@[^@\s]+$")]
    to: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]] = Field(min_length=1)


Channel = Annotated[WebhookChannel | SlackChannel | TeamsChannel | EmailChannel, Field(discriminator="type")]


class Notifications(Model):
    channels: dict[Identifier, Channel] = Field(min_length=1)


_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class ChangeWindow(Model):
    days: list[Weekday] = Field(min_length=1)
    start: str
    end: str
    timezone: Name = "Australia/Sydney"

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError("a time of day is HH:MM on a 24-hour clock, e.g. 02:00")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as Australia/Sydney") from None
        return value


class DrillSettings(Model):
    #: how long the drill holds on the target, probing its health, before failing back
    hold: Duration = timedelta(minutes=10)
    probe_interval: PositiveDuration = timedelta(minutes=1)


class RetryPolicy(Model):
    attempts: int = Field(default=1, ge=1, le=100)
    #: the first wait; each later wait doubles, with jitter, up to max_backoff
    backoff: Duration = timedelta(seconds=2)
    max_backoff: Duration = timedelta(minutes=1)


def _retry(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return {"attempts": value}
    return value


def _needs(value: object) -> object:
    return [value] if isinstance(value, str) else value


def _when(value: object) -> object:
    return [value] if isinstance(value, str) else value


class Step(Model):
    id: Identifier
    name: str | None = None
    uses: Name
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    #: None: after the previous step in file order; []: no dependency at all
    needs: Annotated[list[Identifier] | None, BeforeValidator(_needs)] = None
    timeout: PositiveDuration | None = None
    budget: Duration | None = None
    retry: Annotated[RetryPolicy | None, BeforeValidator(_retry)] = None
    on_failure: OnFailure = OnFailure.ABORT
    when: Annotated[list[Mode], BeforeValidator(_when)] = [Mode.FAILOVER, Mode.DRILL, Mode.FAILBACK]


class Playbook(Model):
    version: Literal[1]
    name: Name
    description: str | None = None
    objectives: Objectives
    azure: AzureSettings
    direction: Direction
    regions: dict[Identifier, RegionEstate] = Field(min_length=2)
    dns: DnsSettings | None = None
    front_door: FrontDoorSettings | None = None
    traffic_manager: TrafficManagerSettings | None = None
    notifications: Notifications | None = None
    change_windows: list[ChangeWindow] = []
    drill: DrillSettings = DrillSettings()
    steps: list[Step] = Field(min_length=1)

    @cached_property
    def _steps_by_id(self) -> dict[str, Step]:
        # the checks look steps up by id for every edge: a scan each time made validation quadratic
        return {step.id: step for step in reversed(self.steps)}

    def step(self, step_id: str) -> Step:
        """The first step with this id (duplicates are a validation error of their own)."""
        return self._steps_by_id[step_id]
