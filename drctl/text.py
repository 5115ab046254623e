"""Small wording helpers shared by every view: counts with the right plural, figures that may be missing, long
paths cut to their ends, and Markdown that quotes outside text literally. Pure and import-light: the actions'
summaries, the CLI views and the reports all use them, so one count reads the same everywhere."""

from __future__ import annotations

import re
from collections.abc import Sequence

#: nouns whose plural is not the singular plus "s"
_IRREGULAR = {"entry": "entries", "retry": "retries", "policy": "policies", "is": "are", "was": "were"}


def plural(count: int, singular: str, many: str | None = None) -> str:
    """``1 web app``, ``2 web apps``, ``0 records``: the count and the noun agreeing with it.

    The last word of ``singular`` is the one made plural (``web app`` -> ``web apps``); ``many`` overrides it.
    """
    if count == 1:
        return f"1 {singular}"
    if many is None:
        head, _, last = singular.rpartition(" ")
        word = _IRREGULAR.get(last) or (last + "es" if last.endswith(("s", "sh", "ch", "x")) else last + "s")
        many = f"{head} {word}" if head else word
    return f"{count:,} {many}"


def milliseconds(value: float | None, *, missing: str = "unmeasured") -> str:
    """A latency in ms (``6 ms``, ``0.4 ms``); a figure never taken reads as ``missing``, never ``None``."""
    if value is None:
        return missing
    return f"{value:.1f} ms" if value < 1 else f"{value:.0f} ms"


#: a path longer than this is shown by its ends: a line must stay readable for a 2,000-step chain
PATH_SHOWN = 8


def path_text(path: Sequence[str], *, arrow: str = " -> ", shown: int = PATH_SHOWN) -> str:
    """``a -> b -> ... (1,992 more steps) -> y -> z`` for a long path; the whole path when it is short."""
    if len(path) <= shown:
        return arrow.join(path)
    head, tail = path[: shown // 2], path[-(shown // 2) :]
    hidden = plural(len(path) - len(head) - len(tail), "more step")
    return f"{arrow.join(head)}{arrow}... ({hidden}){arrow}{arrow.join(tail)}"


#: characters CommonMark reads as markup anywhere in a line (GitHub's tables add ``|``, ``~`` strikes through);
#: ``<`` opens inline HTML or an autolink only before a letter, ``/``, ``!`` or ``?``, ``&`` an entity only when
#: one follows: ``<= 15m`` and ``R&D`` stay as they are
_MD_INLINE = re.compile(r"([\\`*_\[\]|~]|<(?=[A-Za-z/!?])|&(?=#?\w+;))")
#: what would open a heading, quote, list or rule at the start of a line (or of a list item's text)
_MD_LINE_START = re.compile(r"^(\s*)(?:([#>+=-])|(\d+)([.)]))")


def markdown_text(text: str) -> str:
    """Text from outside (a reason, an Azure error, a title, a name) as Markdown that shows it literally.

    Every character Markdown or inline HTML would read as markup there is backslash-escaped (CommonMark renders a
    backslash-escaped punctuation character as itself), so ``<script>`` stays text, ``*`` no emphasis, ``|`` no
    table cell and a backtick no code span; newlines become spaces so a quote cannot open a block of its own.
    """
    flat = " ".join(text.splitlines())
    escaped = _MD_INLINE.sub(r"\\\1", flat)
    return _MD_LINE_START.sub(_escape_opening, escaped)


def _escape_opening(m: re.Match[str]) -> str:
    if m.group(2):
        return f"{m.group(1)}\\{m.group(2)}"
    return f"{m.group(1)}{m.group(3)}\\{m.group(4)}"
