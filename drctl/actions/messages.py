"""Stakeholder messages: templates filled with run facts, and the payload each channel kind expects. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from drctl.actions.notify import PLACEHOLDERS


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


def compose(*, title: str, message: str, facts: Mapping[str, object], drill: bool, phase: str | None) -> Message:
    """Fill both templates; in a drill the title is always marked, whatever the template says."""
    filled = {**facts, "drill_marker": "[DRILL] " if drill else "", "phase": phase or facts.get("phase", "")}
    rendered_title = render(title, filled)
    if drill and "DRILL" not in rendered_title:
        rendered_title = f"[DRILL] {rendered_title}"
    return Message(rendered_title, render(message, filled), drill, phase)


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
