"""Faults are data: typed rules, read from the estate, a faults file, the CLI or the admin API.

Two families:

* request faults (``latency``, ``error``, ``throttle``, ``lro_failure``, ``token_endpoint_down``) stay in the
  fault book and act on the requests of one operation kind until they are used up or cleared;
* world faults (``region_outage``, ``replication_lag``, ``dns_propagation_delay``,
  ``front_door_propagation_delay``) change the emulated estate
  once, when applied; they show in the state, and are undone through the state (region up, lag 0...).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from drctl.errors import SandboxError
from drctl.sandbox.ops import LRO_KINDS, ControlPlane, OpKind


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LatencyFault(_Rule):
    """Delay every answer of ``op`` (or of every kind without its own rule when ``op`` is omitted).

    For long-running operations the latency is the operation's duration: the 202 comes at once and the
    async-operation URL says ``InProgress`` until it has elapsed."""

    kind: Literal["latency"]
    op: OpKind | None = None
    seconds: float = Field(ge=0, le=3600)


class ErrorFault(_Rule):
    """Answer the next ``times`` requests of ``op`` with an error (``times: null``: until cleared)."""

    kind: Literal["error"]
    op: OpKind
    times: int | None = Field(default=1, ge=1)
    status: int = Field(default=500, ge=400, le=599)
    code: str = "InternalServerError"
    message: str | None = None
    retry_after: int | None = Field(default=None, ge=0)


class ThrottleFault(_Rule):
    """429 TooManyRequests with ``Retry-After`` for the next ``times`` requests of ``op``."""

    kind: Literal["throttle"]
    op: OpKind
    times: int | None = Field(default=1, ge=1)
    retry_after: int = Field(default=1, ge=0)


class LroFailureFault(_Rule):
    """The next ``times`` long-running operations of ``op`` are accepted, then end ``Failed`` with ``code``."""

    kind: Literal["lro_failure"]
    op: OpKind
    times: int | None = Field(default=1, ge=1)
    code: str = "OperationFailed"
    message: str | None = None

    @field_validator("op")
    @classmethod
    def _long_running(cls, op: OpKind) -> OpKind:
        if op not in LRO_KINDS:
            allowed = ", ".join(sorted(k.value for k in LRO_KINDS))
            raise ValueError(f"{op.value} is not a long-running operation (one of: {allowed})")
        return op


class TokenEndpointDownFault(_Rule):
    """The Entra ID endpoints drop every connection until the fault is cleared."""

    kind: Literal["token_endpoint_down"]


class RegionOutageFault(_Rule):
    """The region goes down: its app endpoint refuses connections, its database stops writing."""

    kind: Literal["region_outage"]
    region: str
    control_plane: ControlPlane = ControlPlane.READ_ONLY


class ReplicationLagFault(_Rule):
    """Set the replication lag of one failover group or storage account (``target``), or of all."""

    kind: Literal["replication_lag"]
    seconds: float = Field(ge=0, le=7 * 86400)
    target: str | None = None


class DnsPropagationDelayFault(_Rule):
    """DNS writes become visible on the DNS server ``seconds`` after ARM accepted them."""

    kind: Literal["dns_propagation_delay"]
    seconds: float = Field(ge=0, le=86400)


class FrontDoorPropagationDelayFault(_Rule):
    """Front Door configuration changes reach the edge ``seconds`` after ARM finished them."""

    kind: Literal["front_door_propagation_delay"]
    seconds: float = Field(ge=0, le=86400)


RequestFault = LatencyFault | ErrorFault | ThrottleFault | LroFailureFault | TokenEndpointDownFault
WorldFault = RegionOutageFault | ReplicationLagFault | DnsPropagationDelayFault | FrontDoorPropagationDelayFault

FaultRule = Annotated[
    LatencyFault
    | ErrorFault
    | ThrottleFault
    | LroFailureFault
    | TokenEndpointDownFault
    | RegionOutageFault
    | ReplicationLagFault
    | DnsPropagationDelayFault
    | FrontDoorPropagationDelayFault,
    Field(discriminator="kind"),
]

FAULT_KINDS = (
    "latency",
    "error",
    "throttle",
    "lro_failure",
    "token_endpoint_down",
    "region_outage",
    "replication_lag",
    "dns_propagation_delay",
    "front_door_propagation_delay",
)

_RULES: TypeAdapter[list[FaultRule]] = TypeAdapter(list[FaultRule])


def parse_faults(data: Any, *, source: str = "faults") -> list[FaultRule]:
    """Validate a list of fault rules (or ``{"faults": [...]}``); errors name the rule index and field."""
    if isinstance(data, dict) and "faults" in data:
        data = data["faults"]
    if data is None:
        return []
    if isinstance(data, dict):
        data = [data]
    try:
        return _RULES.validate_python(data)
    except ValidationError as exc:
        raise SandboxError(f"{source}: invalid fault: {format_validation_error(exc)}") from None


def format_validation_error(exc: ValidationError) -> str:
    """Readable text, one problem after another: ``[0].op: unknown value 'x'; ...``."""
    return "; ".join(f"{dotted(clean_loc(err['loc']))}: {error_message(err)}" for err in exc.errors())


def clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop the discriminator tag pydantic inserts after a list index (``faults.0.latency.seconds``)."""
    out: list[Any] = []
    for part in loc:
        if part in FAULT_KINDS and out and isinstance(out[-1], int):
            continue
        out.append(part)
    return tuple(out)


def dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def error_message(err: Any) -> str:
    if err["type"] == "union_tag_invalid":
        return f"unknown fault kind {err['input'].get('kind')!r}; known kinds: {', '.join(FAULT_KINDS)}"
    if err["type"] == "union_tag_not_found":
        return f"a fault needs a 'kind' (one of: {', '.join(FAULT_KINDS)})"
    if err["type"] == "enum" and "expected" in err.get("ctx", {}):
        return f"unknown value {err['input']!r}; expected {err['ctx']['expected']}"
    return str(err["msg"])


@dataclass
class ActiveFault:
    id: str
    rule: RequestFault
    remaining: int | None
    hits: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule": self.rule.model_dump(mode="json"),
            "remaining": self.remaining,
            "hits": self.hits,
        }


class FaultBook:
    """The active request faults. Shares the state's lock: every method is safe from any thread."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._active: list[ActiveFault] = []

    def add(self, rule: RequestFault) -> ActiveFault:
        remaining = getattr(rule, "times", None)
        fault = ActiveFault(id=uuid.uuid4().hex[:12], rule=rule, remaining=remaining)
        with self._lock:
            self._active.append(fault)
        return fault

    def clear(self) -> int:
        with self._lock:
            count = len(self._active)
            self._active.clear()
        return count

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            before = len(self._active)
            self._active = [f for f in self._active if f.id != fault_id]
            return len(self._active) != before

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_json() for f in self._active]

    def latency(self, op: OpKind) -> float:
        """The op's own latency rule wins over the default (a rule without ``op``); the newest rule wins."""
        with self._lock:
            default = 0.0
            for fault in reversed(self._active):
                rule = fault.rule
                if isinstance(rule, LatencyFault):
                    if rule.op is op:
                        fault.hits += 1
                        return rule.seconds
                    if rule.op is None and not default:
                        default = rule.seconds
            return default

    def take_error(self, op: OpKind) -> ErrorFault | ThrottleFault | None:
        """Consume one use of the oldest error or throttle rule for ``op``, if any."""
        with self._lock:
            for fault in self._active:
                if isinstance(fault.rule, ErrorFault | ThrottleFault) and fault.rule.op is op:
                    self._use(fault)
                    return fault.rule
            return None

    def take_lro_failure(self, op: OpKind) -> LroFailureFault | None:
        with self._lock:
            for fault in self._active:
                if isinstance(fault.rule, LroFailureFault) and fault.rule.op is op:
                    self._use(fault)
                    return fault.rule
            return None

    def token_endpoint_down(self) -> bool:
        with self._lock:
            return any(isinstance(f.rule, TokenEndpointDownFault) for f in self._active)

    def _use(self, fault: ActiveFault) -> None:
        fault.hits += 1
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._active.remove(fault)


def is_world_fault(rule: FaultRule) -> bool:
    return isinstance(
        rule, RegionOutageFault | ReplicationLagFault | DnsPropagationDelayFault | FrontDoorPropagationDelayFault
    )
