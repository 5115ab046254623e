"""Stakeholder messages: templates filled with run facts, and the payload each channel kind expects; and the same
templates as a plan shows them, filled as far as a plan knows. Pure.

Neither a message nor a plan ever shows a raw ``{field}``: at run time a fact not known yet reads ``n/a``; in a
plan a fact only the run will know reads as a short description in angle brackets (``<elapsed>``), and what the
mode decides (``{mode}``, ``{drill_marker}``, who is messaged) is filled for each mode.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drctl.actions.notify.spec import PLACEHOLDERS


@dataclass(frozen=True)
class Message:
    title: str
    text: str
    drill: bool
    phase: str | None


class _Facts(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "n/a" if key in PLACEHOLDERS else "{" + key + "}"


def render(template: str, facts: Mapping[str, object]) -> str:
    return template.format_map(_Facts({key: str(value) for key, value in facts.items()}))


DRILL_MARKER = "[DRILL] "


def _title(template: str, filled: Mapping[str, object], *, drill: bool) -> str:
    """A title, marked in a drill whatever the template says."""
    title = render(template, {**filled, "drill_marker": DRILL_MARKER if drill else ""})
    return title if not drill or "DRILL" in title else DRILL_MARKER + title


def compose(*, title: str, message: str, facts: Mapping[str, object], drill: bool, phase: str | None) -> Message:
    """Fill both templates; in a drill the title is always marked, whatever the template says."""
    filled = {**facts, "drill_marker": DRILL_MARKER if drill else "", "phase": phase or facts.get("phase", "")}
    return Message(_title(title, filled, drill=drill), render(message, filled), drill, phase)


#: what a plan shows for a fact only the run knows
RUN_TIME = {
    "status": "run state",
    "run_id": "run id",
    "operator": "operator",
    "elapsed": "elapsed",
    "rto_remaining": "RTO left",
    "projected": "projected finish",
    "rpo_exposure": "RPO exposure",
    "steps_done": "steps done",
    "next_update": "next update",
}
#: the modes a plan is made for, and the audience each messages (as ``notify/run.py`` chooses at run time)
MODE_AUDIENCE = {"failover": "production", "failback": "production", "drill": "drill"}


def mode_prefix(mode: str) -> str:
    """How an intent that holds in one mode only begins: ``in a drill: ``."""
    return f"in a {mode}: "


@dataclass(frozen=True)
class Recipient:
    name: str
    kind: str
    audiences: frozenset[str]


def plan_title(template: str, known: Mapping[str, object], *, mode: str, phase: str | None) -> str:
    """A title as a plan of ``mode`` shows it: what the plan knows filled, the rest described, never a raw field."""
    filled = {
        **{name: f"<{words}>" for name, words in RUN_TIME.items()},
        **{name: f"<{name}>" for name in PLACEHOLDERS if name not in RUN_TIME},
        **known,
        "mode": mode,
        "phase": phase or "",
    }
    return _title(template, filled, drill=mode == "drill")


def plan_intents(
    recipients: Sequence[Recipient],
    title: str,
    known: Mapping[str, object],
    *,
    phase: str | None,
    cadence: str = "",
) -> list[str]:
    """A notify step's intent for each mode, each naming only the channels that mode's audience reaches and the
    title as that mode fills it: ``in a drill: message ops-slack (slack): '[DRILL] P1 drill: ...'``. A plan shows
    the one for its mode (``for_mode``)."""
    out = []
    for mode, audience in MODE_AUDIENCE.items():
        reached = [r for r in recipients if audience in r.audiences]
        if not reached:
            left = ", ".join(r.name for r in recipients)
            out.append(f"{mode_prefix(mode)}no message: none of its channels ({left}) takes the {audience} audience")
            continue
        kinds = ", ".join(f"{r.name} ({r.kind})" for r in reached)
        shown = plan_title(title, known, mode=mode, phase=phase)
        out.append(f"{mode_prefix(mode)}message {kinds}: {shown!r}{cadence}")
    return out


def for_mode(intents: Iterable[str], mode: str) -> tuple[str, ...]:
    """The intents that hold in ``mode``: those for every mode, and those for this one without their prefix."""
    mine, others = mode_prefix(mode), tuple(mode_prefix(m) for m in MODE_AUDIENCE if m != mode)
    return tuple(i.removeprefix(mine) for i in intents if not i.startswith(others))


def slack_payload(msg: Message) -> dict[str, Any]:
    return {
        "text": f"{msg.title}\n{msg.text}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": msg.title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": msg.text}},
        ],
    }


def teams_payload(msg: Message) -> dict[str, Any]:
    return {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": msg.title,
        "themeColor": "FFA500" if msg.drill else "D13438",
        "title": msg.title,
        "text": msg.text,
    }


def webhook_payload(msg: Message, facts: Mapping[str, object]) -> dict[str, Any]:
    return {
        "title": msg.title,
        "text": msg.text,
        "drill": msg.drill,
        "phase": msg.phase,
        "facts": {key: str(value) for key, value in facts.items()},
    }
