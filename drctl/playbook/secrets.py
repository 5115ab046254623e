"""Secrets: every ``${ENV}`` a playbook names, read once at run start, and kept out of every output.

The values are read before anything runs, so a missing variable is an error at the start of a failover, not
forty minutes into it. Every value (and its URL- and JSON-escaped forms, which is how a secret usually leaks
through an error message) is replaced by ``[redacted:NAME]`` in every event before the journal or the console
sees it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from drctl.errors import UsageError
from drctl.playbook.refs import ENV, env_names

#: shorter values cannot be told from ordinary text (redacting "1" would mangle every number): not secrets
MIN_SECRET_LENGTH = 4


class SecretStore:
    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)
        forms: dict[str, str] = {}
        for name, value in self._values.items():
            if len(value) < MIN_SECRET_LENGTH:
                continue
            for form in {value, quote(value, safe=""), quote(value), json.dumps(value)[1:-1]}:
                forms.setdefault(form, name)
        # longest first: a secret that contains another is replaced whole
        ordered = sorted(forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(f) for f in ordered)) if ordered else None
        self._names = forms

    @classmethod
    def resolve(cls, sources: Iterable[tuple[str, Any]], environ: Mapping[str, str]) -> SecretStore:
        """Read every ``${NAME}`` in ``sources`` ((where, value) pairs); raise ``UsageError`` naming what is missing."""
        values: dict[str, str] = {}
        missing: dict[str, list[str]] = {}
        for where, value in sources:
            for name in sorted(env_names(value)):
                if name in environ:
                    values[name] = environ[name]
                else:
                    missing.setdefault(name, []).append(where)
        if missing:
            lines = [f"${{{name}}} (used by {', '.join(places)})" for name, places in sorted(missing.items())]
            raise UsageError(
                "environment variable(s) not set: " + "; ".join(lines) + "; nothing was run",
                hint="export them in this shell (secrets never live in the playbook), then start again",
            )
        return cls(values)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._values))

    def expand(self, value: Any) -> Any:
        if isinstance(value, str):
            return ENV.sub(lambda m: self._values[m.group(1)] if m.group(1) in self._values else m.group(0), value)
        if isinstance(value, Mapping):
            return {k: self.expand(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.expand(v) for v in value]
        return value

    def redact(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: f"[redacted:{self._names[m.group(0)]}]", text)

    def redact_data(self, data: Any) -> Any:
        """Redact every string (keys too) in JSON-able data."""
        if self._pattern is None:
            return data
        if isinstance(data, str):
            return self.redact(data)
        if isinstance(data, Mapping):
            return {self.redact(str(k)): self.redact_data(v) for k, v in data.items()}
        if isinstance(data, list):
            return [self.redact_data(v) for v in data]
        return data


NO_SECRETS = SecretStore({})
