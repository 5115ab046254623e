"""Located findings about a playbook, and how pydantic's errors become them."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from drctl.playbook.yamlpos import LocatedDocument, Path


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    file: str
    line: int
    column: int
    path: str
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        label = f"{self.path}: " if self.path else ""
        kind = "warning: " if self.severity is Severity.WARNING else ""
        return f"{where}: {label}{kind}{self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "severity": self.severity.value,
            "message": self.message,
        }


def render_path(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class Collector:
    """Gathers diagnostics for one file, placing each at the closest position the YAML knows."""

    def __init__(self, file: str, document: LocatedDocument | None) -> None:
        self.file = file
        self.document = document
        self.items: list[Diagnostic] = []
        self._seen: set[tuple[str, str, Severity]] = set()

    def add(
        self,
        path: Path,
        message: str,
        *,
        severity: Severity = Severity.ERROR,
        prefer_key: bool = False,
    ) -> None:
        key = (render_path(path), message, severity)
        if key in self._seen:
            return
        self._seen.add(key)
        if self.document is not None:
            pos = self.document.position(path, prefer_key=prefer_key)
            line, column = pos.line, pos.column
        else:
            line, column = 1, 1
        self.items.append(Diagnostic(self.file, line, column, key[0], message, severity))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.WARNING]

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=lambda d: (d.line, d.column, d.severity != Severity.ERROR, d.message))


#: friendlier words for the patterns the models use
_PATTERN_HELP = {
    r"^[a-z0-9][a-z0-9_-]{0,62}$": "use lower-case letters, digits, '-' and '_' (at most 63), e.g. promote-database",
    r"^https?://": "must be an http(s) URL",
    r"^[^@\s]+@[^@\s]+$": "must be an e-mail address",
}


_PLAIN_TYPES = {
    "int_parsing": "a whole number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_parsing": "a number",
    "float_type": "a number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "text",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def _walk_loc(data: Any, loc: Sequence[str | int]) -> tuple[list[str | int], Any]:
    """Map a pydantic location onto the document's path: drop union tags, keep the parent value."""
    path: list[str | int] = []
    current = data
    for part in loc:
        if isinstance(current, Mapping) and part in current:  # noqa: SIM114 - split so mypy can narrow the index type
            path.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and part < len(current):
            path.append(part)
            current = current[part]
        elif isinstance(current, Mapping) and current.get("type") == part:
            continue  # a discriminated union names the chosen member in its location
        else:
            path.append(part)
            current = None
    return path, current


def _message(err: Mapping[str, Any], vocabulary: Iterable[str]) -> str:
    kind = err["type"]
    loc = err["loc"]
    given = err.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        close = difflib.get_close_matches(key, list(vocabulary), n=1, cutoff=0.75)
        return f"unknown key '{key}'" + (f" (did you mean '{close[0]}'?)" if close else "")
    if kind == "missing":
        return f"missing required field '{loc[-1]}'"
    if kind == "string_pattern_mismatch":
        pattern = err.get("ctx", {}).get("pattern", "")
        help_text = _PATTERN_HELP.get(pattern, f"must match {pattern}")
        return f"{given!r} is not valid here: {help_text}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = err.get("ctx", {}).get("expected_tags", "")
        if kind == "union_tag_not_found":
            return f"missing 'type' (one of {tags})"
        return f"unknown type {err.get('ctx', {}).get('tag')!r}; expected one of {tags}"
    text = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if text.startswith(prefix):
            return text[len(prefix) :]
    plain = _PLAIN_TYPES.get(kind)
    if plain:
        shown = (
            repr(given)
            if not isinstance(given, dict | list)
            else f"a {'mapping' if isinstance(given, dict) else 'list'}"
        )
        return f"expected {plain}, got {shown}"
    if kind in ("enum", "literal_error"):
        return f"{text}, got {given!r}"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        shown = repr(given) if not isinstance(given, dict | list) else type(given).__name__
        return f"{text}, got {shown}"
    return text


def add_validation_errors(
    collector: Collector,
    error: ValidationError,
    data: Any,
    *,
    prefix: Path = (),
    vocabulary: Iterable[str] = (),
    suffix: str = "",
) -> set[Path]:
    """Record each pydantic error at its place; returns the document paths that failed."""
    failed: set[Path] = set()
    words = list(vocabulary)
    for err in error.errors():
        loc = [p for p in err["loc"] if isinstance(p, str | int)]
        path, _ = _walk_loc(data, loc)
        full = (*prefix, *path)
        # a missing field has no position of its own: Collector falls back to its parent mapping
        collector.add(full, _message(err, words) + suffix, prefer_key=err["type"] == "extra_forbidden")
        failed.add(full)
    return failed
