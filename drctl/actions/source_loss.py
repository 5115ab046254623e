"""Is the source lost? The decision behind every forced failover, from evidence that is shown. Pure.

Each piece of evidence is a ``Signal`` that says one of:

- ``alive``: the source accepts writes or answers (replication CATCH_UP as ARM reports it, an endpoint that
  answered at all, whatever its status);
- ``lost``: a positive sign of loss (replication not catching up as read from the target's side, a connection
  refused where the source should listen, the source region's ARM answering 503 ServiceUnavailable);
- ``unclear``: a timeout or an error that could be either (a slow region is unhealthy, not lost);
- ``neutral``: recorded, but proves nothing either way (the source's ARM answering a read: Azure serves reads of
  a lost region from the last known state).

The verdict is ``lost`` only when ARM's replication state and at least one other signal say so and nothing is
alive or unclear; ``alive`` when any signal is; ``unclear`` otherwise. Only ``lost`` lets drctl go on to the
RPO gate by itself; ``unclear`` is put to a person; ``alive`` never forces on drctl's judgement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

Says = Literal["alive", "lost", "unclear", "neutral"]
Verdict = Literal["alive", "lost", "unclear"]

#: the fact that journals the evidence and the verdict
FACT_SOURCE_ASSESSMENT = "source.assessment"


@dataclass(frozen=True)
class Signal:
    #: where the evidence comes from: ``arm`` (Azure's own view) or ``probe`` (drctl's requests)
    origin: Literal["arm", "probe"]
    what: str
    finding: str
    says: Says
    #: the failover group's replication state (the one signal a verdict of "lost" always needs)
    replication: bool = False

    def as_fact(self) -> dict[str, str]:
        return {"origin": self.origin, "what": self.what, "finding": self.finding, "says": self.says}


def probe_signal(what: str, *, status: int | None = None, error: str | None = None) -> Signal:
    """An HTTP probe of the source: any answer is life; only a refused connection is a sign of loss."""
    if status is not None:
        return Signal("probe", what, f"answered {status}", "alive")
    text = (error or "no answer").lower()
    if "connection refused" in text:
        return Signal("probe", what, "connection refused", "lost")
    if "timed out" in text:
        return Signal("probe", what, "timed out (unhealthy, not lost)", "unclear")
    return Signal("probe", what, f"error: {error}", "unclear")


def replication_signal(what: str, state: str | None, partner_role: str | None) -> Signal:
    """The failover group's replication state as ARM reports it from the target's side."""
    finding = f"replicationState {state or 'not reported'}, partner {partner_role or 'unknown'}"
    if state == "CATCH_UP":
        return Signal("arm", what, finding, "alive", replication=True)
    if state == "SUSPENDED":
        return Signal("arm", what, finding, "lost", replication=True)
    return Signal("arm", what, finding, "unclear", replication=True)


def decide(signals: Sequence[Signal]) -> Verdict:
    says = [s.says for s in signals]
    if "alive" in says:
        return "alive"
    if "unclear" in says:
        return "unclear"
    arm_lost = any(s.replication and s.says == "lost" for s in signals)
    others = sum(1 for s in signals if s.says == "lost") - (1 if arm_lost else 0)
    return "lost" if arm_lost and others >= 1 else "unclear"


@dataclass(frozen=True)
class Assessment:
    resource: str
    signals: tuple[Signal, ...]

    @property
    def verdict(self) -> Verdict:
        return decide(self.signals)

    def as_fact(self) -> dict[str, Any]:
        return {"resource": self.resource, "verdict": self.verdict, "signals": [s.as_fact() for s in self.signals]}

    @property
    def meaning(self) -> str:
        return {
            "lost": "the source is lost",
            "alive": "the source still answers",
            "unclear": "the source is not clearly lost",
        }[self.verdict]

    def text(self) -> str:
        evidence = "; ".join(f"{s.what}: {s.finding}" for s in self.signals) or "no evidence"
        return f"{self.meaning} ({evidence})"
