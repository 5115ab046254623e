"""notify: templated stakeholder messages to webhooks, Slack, Teams and e-mail, once or periodically."""

from __future__ import annotations

import string
from datetime import timedelta

from pydantic import Field, field_validator

from drctl.actions.base import ActionSpec, Params, Problem, Scope
from drctl.durations import format_duration
from drctl.playbook.model import Duration

#: the run facts a template may use, each filled at send time
PLACEHOLDERS: dict[str, str] = {
    "playbook": "the playbook's name",
    "mode": "failover, drill or failback",
    "drill_marker": "'[DRILL] ' in a drill, empty otherwise",
    "phase": "the step's phase label",
    "status": "the run's state: running, succeeded, failed, paused",
    "source": "the source region's name",
    "target": "the target region's name",
    "run_id": "the run's id",
    "operator": "who runs drctl",
    "elapsed": "time since T0 (the declared disaster time or the run start)",
    "rto": "the RTO objective",
    "rto_remaining": "RTO left, negative once breached",
    "projected": "the projected finish from the remaining critical path",
    "rpo": "the RPO objective",
    "rpo_exposure": "the measured RPO exposure, or 'not measured yet'",
    "steps_done": "steps finished so far, e.g. 6/11",
    "next_update": "when the next periodic message goes out",
}


def template_fields(text: str) -> list[str]:
    """The placeholder names a template uses; raises ``ValueError`` on malformed braces."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


class NotifyParams(Params):
    channels: list[str] = Field(min_length=1)
    title: str = Field(min_length=1, max_length=200)
    message: str = Field(min_length=1, max_length=10000)
    phase: str | None = None
    #: repeat every so often until the run ends (the P1 cadence is 30m)
    every: Duration | None = None
    #: a failed message fails the step (otherwise it is reported, retried, and the run goes on)
    required: bool = False

    @field_validator("title", "message")
    @classmethod
    def _template(cls, value: str) -> str:
        try:
            names = template_fields(value)
        except ValueError as exc:
            raise ValueError(
                f"template braces do not pair up ({exc}); write {{{{ and }}}} for literal braces"
            ) from None
        unknown = sorted({n for n in names if n not in PLACEHOLDERS})
        if unknown:
            raise ValueError(
                f"unknown placeholder {{{unknown[0]}}}; known: {', '.join('{' + k + '}' for k in PLACEHOLDERS)}"
            )
        return value

    @field_validator("every")
    @classmethod
    def _cadence(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < timedelta(minutes=1):
            raise ValueError("a periodic message repeats at most once a minute")
        return value


def _check(p: NotifyParams, scope: Scope) -> list[Problem]:
    channels = scope.playbook.notifications.channels if scope.playbook.notifications else {}
    return [
        Problem(
            f"unknown channel {name!r}; notifications.channels has: {', '.join(sorted(channels)) or 'none'}",
            ("channels", i),
        )
        for i, name in enumerate(p.channels)
        if name not in channels
    ]


def _describe(p: NotifyParams, scope: Scope) -> list[str]:
    from drctl.actions.messages import Recipient, plan_intents

    channels = scope.playbook.notifications.channels if scope.playbook.notifications else {}
    recipients = [
        Recipient(name, channels[name].type, frozenset(a.value for a in channels[name].audiences))
        for name in p.channels
        if name in channels
    ]
    known = {
        "playbook": scope.playbook.name,
        "source": scope.source_name,
        "target": scope.target_name,
        "rto": format_duration(scope.playbook.objectives.rto),
        "rpo": format_duration(scope.playbook.objectives.rpo),
    }
    cadence = f", then every {format_duration(p.every)} until the run ends" if p.every else ""
    return plan_intents(recipients, p.title, known, phase=p.phase, cadence=cadence)


NOTIFY = ActionSpec(
    name="notify",
    summary="Send a templated message to notification channels, once or periodically",
    params=NotifyParams,
    mutating=False,
    default_timeout=timedelta(minutes=2),
    default_budget=timedelta(seconds=10),
    describe=_describe,
    check=_check,
    background=lambda raw: raw.get("every") is not None,
)
