"""Events to JSON-able data and back: the only (de)serialisers of the journal, so readers never drift from writers.

Field types drive decoding (``datetime`` from ISO text, enums from their values, tuples, nested dataclasses), so an
event class is all a new event needs.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Any

from drctl.engine.events import Event, event_class


class UnknownEvent(ValueError):
    """A journal line whose type this drctl does not know (written by a newer version)."""


def to_data(value: Any) -> Any:
    """An event (or any part of one) as JSON-able data; events carry their ``type``."""
    if isinstance(value, Event):
        out: dict[str, Any] = {"type": value.type}
        for f in dataclasses.fields(value):
            out[f.name] = to_data(getattr(value, f.name))
        return out
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple | list):
        return [to_data(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): to_data(v) for k, v in value.items()}
    return value


def from_data(data: Mapping[str, Any]) -> Event:
    """The event a ``to_data`` dict (or a journal line) describes; extra keys (the envelope) are ignored."""
    name = data.get("type")
    cls = event_class(name)
    if cls is None:
        raise UnknownEvent(f"unknown event type {name!r}")
    return typing.cast(Event, _build(cls, data))


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _build(cls: type, data: Mapping[str, Any]) -> Any:
    hints = _hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            kwargs[f.name] = _decode(hints[f.name], data[f.name])
    return cls(**kwargs)


def _decode(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        (inner,) = [a for a in typing.get_args(hint) if a is not type(None)]
        return _decode(inner, value)
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is float:
        return float(value)
    if origin is tuple:
        inner = typing.get_args(hint)[0]
        return tuple(_decode(inner, v) for v in value)
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return hint(value)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value)
    return value
