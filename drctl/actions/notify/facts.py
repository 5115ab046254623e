"""The facts notify records: one per message, and the intent before each try."""

from __future__ import annotations

from drctl.actions.facts import FactKind, hidden

FACTS = (
    FactKind(
        "notify.sent",
        lambda d: f"message sent to {d.get('channel')} ({d.get('kind')}): {d.get('title')!r}",
        "Messages sent",
    ),
    FactKind(
        "notify.failed",
        lambda d: f"message to {d.get('channel')} NOT delivered: {d.get('error')}",
        "Messages sent",
    ),
    FactKind("notify.sending", hidden),  # the intent before each try: for resume, not for a person
    FactKind(
        "notify.unknown",
        lambda d: f"message to {d.get('channel')} may or may not have arrived; not resent: {d.get('error')}",
        "Messages sent",
    ),
)
