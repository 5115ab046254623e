"""Durations as playbook authors write them: ``90s``, ``15m``, ``1h30m``, ``200ms``.

A bare number is refused on purpose: ``timeout: 30`` is ambiguous (seconds? minutes?) and in a failover an
ambiguity costs an RTO.
"""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s|d)")
_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|h|m|s|d))+$")
_UNIT_SECONDS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
#: the longest duration a playbook may state: a run schedules T0 + budgets and deadlines as datetimes, and no
#: objective, budget or wait of a recovery is measured in months; beyond this it is a typo, not a plan
MAX_SECONDS = 30 * 86400.0
#: digits beyond this cannot be a duration anyone meant (and would overflow a float before the bound is checked)
_MAX_TEXT = 40


def parse_duration(text: str) -> timedelta:
    """Parse ``1h30m``-style text; raise ``ValueError`` with a message fit for the user."""
    compact = text.strip().replace(" ", "")
    if len(compact) > _MAX_TEXT:
        raise ValueError(f"a duration of {len(compact)} characters is not a duration: use e.g. 90s, 15m, 1h30m")
    if not compact or not _WHOLE.match(compact):
        raise ValueError(
            f"cannot read {text!r} as a duration: use a number and a unit (ms, s, m, h, d), e.g. 90s, 15m, 1h30m"
        )
    seconds = sum(float(num) * _UNIT_SECONDS[unit] for num, unit in _PART.findall(compact))
    if seconds > MAX_SECONDS:
        raise ValueError(f"{text.strip()} is longer than the 30d a run can schedule")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta | float) -> str:
    """Render a duration compactly (``1h05m``, ``4m30s``, ``850ms``) for plans, live views and reports."""
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 1 and seconds > 0:
        return f"{sign}{round(seconds * 1000)}ms"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        if not minutes and not secs:
            return f"{sign}{hours}h"
        return f"{sign}{hours}h{minutes:02d}m" + (f"{secs:02d}s" if secs else "")
    if minutes:
        return f"{sign}{minutes}m" + (f"{secs:02d}s" if secs else "")
    return f"{sign}{secs}s"
