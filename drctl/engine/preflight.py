"""``plan --preflight``: every action's read-only preflight, current state against intended, never a change.

Preflight runs each step's ``preflight`` in plan order with a context that cannot change anything: it journals
nothing, asks nobody, and an action that tries to wait for a person fails its preflight instead. Steps whose
action has no preflight (messages, approvals, waits) are listed as such, never skipped silently.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from drctl.actions import registry
from drctl.actions.base import Scope
from drctl.actions.runtime import ActionError, Approval, Finding, TransientError, load_implementation
from drctl.engine.context import NETWORK, ServiceBag
from drctl.net.config import NetworkConfig
from drctl.planning.load import LoadedPlaybook
from drctl.playbook import graph
from drctl.playbook.enums import Mode
from drctl.playbook.model import Playbook
from drctl.playbook.refs import env_names
from drctl.playbook.secrets import SecretStore


@dataclass(frozen=True)
class StepPreflight:
    step: str
    uses: str
    findings: tuple[Finding, ...] = ()
    #: why there are no findings: the action has no preflight, or its preflight failed
    note: str | None = None

    @property
    def worst(self) -> str:
        order = ["ok", "info", "warning", "error"]
        levels = [f.severity for f in self.findings] + (["error"] if self.note and "failed" in self.note else [])
        return max(levels, key=order.index, default="ok")


@dataclass
class _PreflightContext:
    """A ``StepContext`` that can read and nothing else."""

    step_id: str
    mode: Mode
    scope: Scope
    secrets: SecretStore
    services: ServiceBag
    t0: datetime
    facts: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    run_id: str = "preflight"
    attempt: int = 1
    repetition: int | None = None
    cancelled: bool = False

    @property
    def playbook(self) -> Playbook:
        return self.scope.playbook

    @property
    def rto_deadline(self) -> datetime:
        return self.t0 + self.scope.playbook.objectives.rto

    def now(self) -> datetime:
        return datetime.now(UTC)

    def run_facts(self) -> Mapping[str, str]:
        return {"playbook": self.playbook.name, "mode": self.mode.value, "status": "preflight"}

    def record(self, kind: str, data: Mapping[str, Any]) -> None:
        self.facts.append((kind, dict(data)))

    def progress(self, text: str) -> None:
        del text

    def check_cancelled(self) -> None:
        return None

    def sleep(self, seconds: float, *, interruptible: bool = False) -> None:
        del interruptible
        time.sleep(min(seconds, 1.0))

    def request_approval(
        self, prompt: str, *, require_reason: bool = False, approvers: Sequence[str] = (), topic: str = "gate"
    ) -> Approval:
        del require_reason, approvers, topic
        raise ActionError(f"a preflight never asks for approval ({prompt})")

    def prior_approval(self) -> Approval | None:
        return None

    def journaled(self, kind: str) -> list[dict[str, Any]]:
        return [dict(data) for k, data in self.facts if k == kind]

    def run_journaled(self, kind: str) -> list[dict[str, Any]]:
        # a preflight has no run: nothing any step journaled
        del kind
        return []


def run_preflight(
    loaded: LoadedPlaybook, mode: Mode, *, reverse: bool, services: ServiceBag, environ: Mapping[str, str] | None = None
) -> list[StepPreflight]:
    env = os.environ if environ is None else environ
    if not services.provides(NETWORK):  # the caller's own settings (a sandbox's) win
        network = NetworkConfig.from_environ(env)
        services.register(NETWORK, lambda: network)
    pb = loaded.playbook
    source, target = graph.direction_for(pb, reverse=reverse)
    scope = Scope(pb, source, target)
    label = "reverse" if reverse else "forward"
    # a reviewer may lack the channels' secrets: read what the environment has, and let a step that needs more say so
    names = env_names(pb.model_dump(mode="json", by_alias=True))
    secrets = SecretStore({name: env[name] for name in names if name in env})
    t0 = datetime.now(UTC)
    results: list[StepPreflight] = []
    for step in graph.steps_for(pb, mode):
        spec = registry.get(step.uses)
        params = loaded.params.get((step.id, label))
        if spec is None or params is None:
            continue
        implementation = load_implementation(spec)
        if implementation is None or implementation.preflight is None:
            results.append(StepPreflight(step.id, step.uses, note=_no_preflight(spec.mutating)))
            continue
        ctx = _PreflightContext(step.id, mode, scope, secrets, services, t0)
        try:
            findings = implementation.preflight(params, ctx)
        except (ActionError, TransientError, KeyError) as exc:
            results.append(StepPreflight(step.id, step.uses, note=f"preflight failed: {exc}"))
            continue
        results.append(StepPreflight(step.id, step.uses, tuple(findings)))
    return results


def _no_preflight(mutating: bool) -> str:
    if mutating:
        return "no read-only preflight for this action: it is checked when it runs"
    return "nothing to read beforehand (it acts when the run reaches it)"
