"""The two kinds of ``${...}`` a playbook may hold.

- ``${{ source.sql.server }}``: an estate reference, resolved when the direction is known (plan and run time).
  ``source`` and ``target`` name the two regions of the run's direction, so one playbook serves failover, drill
  and failback. ``dns`` and ``objectives`` reach the playbook's own sections. A value that is nothing but one
  reference keeps the referenced type (a list stays a list); inside longer text it is interpolated.
- ``${NAME}``: an environment variable, read only at run time. This is the only way a secret enters a playbook,
  and every resolved secret is registered for redaction.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

REF = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
ENV_WHOLE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")
ROOTS = ("source", "target", "dns", "objectives")


class ReferenceError_(ValueError):
    """A reference that cannot be read or resolved; the message is fit for the user."""


@dataclass(frozen=True)
class Reference:
    root: str
    path: tuple[str | int, ...]
    text: str

    def __str__(self) -> str:
        return self.text


def parse_reference(expr: str) -> Reference:
    expr = expr.strip()
    head, _, rest = expr.partition(".")
    head_match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)", head)
    if not head_match or head_match.group(1) not in ROOTS:
        raise ReferenceError_(f"reference '${{{{ {expr} }}}}' must start with one of: {', '.join(ROOTS)}")
    path: list[str | int] = [int(i) for i in re.findall(r"\[(\d+)\]", head_match.group(2))]
    pos = 0
    while pos < len(rest):
        match = _SEGMENT.match(rest, pos)
        if not match:
            raise ReferenceError_(f"cannot read reference '${{{{ {expr} }}}}' at {rest[pos:]!r}")
        path.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        pos = match.end()
        if pos < len(rest) and rest[pos] == ".":
            pos += 1
    if rest.endswith("."):
        raise ReferenceError_(f"reference '${{{{ {expr} }}}}' ends with a dot")
    return Reference(head_match.group(1), tuple(path), expr)


def references_in(value: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every estate reference text in a nested value, with its path inside that value."""
    if isinstance(value, str):
        for match in REF.finditer(value):
            yield (), match.group(1)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            for sub, text in references_in(item):
                yield (key, *sub), text
    elif isinstance(value, list):
        for index, item in enumerate(value):
            for sub, text in references_in(item):
                yield (index, *sub), text


def lookup(scope: Mapping[str, Any], ref: Reference) -> Any:
    """Follow a reference through plain data; raise ``ReferenceError_`` naming the missing part."""
    current: Any = scope.get(ref.root)
    walked = ref.root
    if current is None:
        raise ReferenceError_(f"'{ref.root}' is not available here")
    for part in ref.path:
        if isinstance(part, int):
            if not isinstance(current, list) or part >= len(current):
                raise ReferenceError_(f"'{walked}' has no item [{part}]")
            current = current[part]
            walked += f"[{part}]"
        else:
            if not isinstance(current, Mapping) or part not in current or current[part] is None:
                raise ReferenceError_(f"'{walked}' has no '{part}'")
            current = current[part]
            walked += f".{part}"
    return current


def resolve(value: Any, scope: Mapping[str, Any]) -> Any:
    """Replace every estate reference in ``value`` (recursively); environment references are left alone."""
    if isinstance(value, str):
        whole = REF.fullmatch(value.strip())
        if whole:
            return lookup(scope, parse_reference(whole.group(1)))

        def one(match: re.Match[str]) -> str:
            found = lookup(scope, parse_reference(match.group(1)))
            if isinstance(found, dict | list):
                raise ReferenceError_(
                    f"'${{{{ {match.group(1)} }}}}' is a {type(found).__name__} and cannot sit inside text"
                )
            return str(found)

        return REF.sub(one, value)
    if isinstance(value, Mapping):
        return {key: resolve(item, scope) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, scope) for item in value]
    return value


def env_names(value: Any) -> set[str]:
    """Names of the environment variables a value refers to."""
    if isinstance(value, str):
        return set(ENV.findall(value))
    if isinstance(value, Mapping):
        return set().union(*(env_names(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(env_names(v) for v in value)) if value else set()
    return set()


def expand_env(
    value: Any, environ: Mapping[str, str] | None = None, on_secret: Callable[[str], None] | None = None
) -> Any:
    """Substitute ``${NAME}`` from the environment; ``on_secret`` sees each value so it can be redacted.

    A missing variable raises ``KeyError`` with its name: the caller turns that into a clear error before
    anything runs.
    """
    env = os.environ if environ is None else environ
    if isinstance(value, str):

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise KeyError(name)
            if on_secret is not None:
                on_secret(env[name])
            return env[name]

        return ENV.sub(one, value)
    if isinstance(value, Mapping):
        return {key: expand_env(item, env, on_secret) for key, item in value.items()}
    if isinstance(value, list):
        return [expand_env(item, env, on_secret) for item in value]
    return value
