"""Facts as one short line for a person. The journal keeps every fact whole; views need only the gist. Each action
family says how its facts read (``drctl/actions/<family>/facts.py``); this module only looks them up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drctl.actions.facts import generic_line
from drctl.actions.registry import FACTS


def describe_fact(kind: str, data: Mapping[str, Any]) -> str | None:
    known = FACTS.get(kind)
    if known is not None and known.line is not None:
        return known.line(data)
    return generic_line(kind, data)
