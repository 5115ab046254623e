"""How the sandbox writes every timestamp (shared by every provider and front)."""

from __future__ import annotations

import datetime as dt


def iso(ts: float) -> str:
    """ISO 8601 UTC with milliseconds and a ``Z``, how the sandbox writes every timestamp."""
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
