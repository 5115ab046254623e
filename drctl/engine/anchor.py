"""The journal's head, anchored outside the journal file: its line count and the hash of its last line.

The hash chain proves every line but the last: removing the last lines, or editing the last one, leaves a chain
that verifies. So after each group commit the journal writer replaces ``<journal>.head`` atomically (write a
temporary file, fsync, rename) with ``{"v": 1, "lines": N, "sha256": H}``, H being the sha256 of line N (the
``prev`` line N+1 will carry; the genesis hash for an empty journal). Reading checks the journal against it:

- fewer lines than the head says: the journal was cut short;
- line N not hashing to H: a line up to the head was edited;
- more lines than the head: the lines after it were written in the instant between a journal fsync and the
  head's replacement (a crash there), so they are accepted, and the next writer anchors them;
- no head at all beside a journal with lines: removed (or a journal older than anchoring), so not intact.

The head is read *before* the journal, so a live run that appends meanwhile is never mistaken for a cut one.
The head's short form (``describe``) is printed in the run's final line and can be carried by messages and
reports: a copy kept elsewhere anchors the journal even against someone who can rewrite both files.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

HEAD_SUFFIX = ".head"
VERSION = 1


@dataclass(frozen=True)
class Anchor:
    lines: int
    sha256: str

    def describe(self) -> str:
        return f"{self.lines} lines, head sha256 {self.sha256[:16]}"

    def as_dict(self) -> dict[str, object]:
        return {"v": VERSION, "lines": self.lines, "sha256": self.sha256}


@dataclass(frozen=True)
class HeadFile:
    """What was found beside a journal: an anchor, or why there is none (``missing``, ``unreadable``)."""

    anchor: Anchor | None
    problem: str | None = None


def head_path(journal: Path) -> Path:
    return journal.with_name(journal.name + HEAD_SUFFIX)


def write_anchor(journal: Path, anchor: Anchor, mode: int) -> None:
    """Replace the head atomically; a crash leaves the old head or the new one, never half of one.

    The directory is not fsynced: a rename lost to a power cut leaves an older head, which only lags (accepted),
    never one ahead of the journal (the journal's lines were fsynced before this is called).
    """
    target = head_path(journal)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    try:
        try:
            data = json.dumps(anchor.as_dict(), separators=(",", ":")).encode() + b"\n"
            if os.write(fd, data) != len(data):
                raise OSError(f"short write of {temporary}")
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, target)
    except BaseException:
        # a full disk must not leave a half-written stand-in beside the journal for every failed attempt
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def read_anchor(journal: Path) -> HeadFile:
    try:
        raw = head_path(journal).read_bytes()
    except FileNotFoundError:
        return HeadFile(None, "missing")
    except OSError as exc:
        return HeadFile(None, f"unreadable ({exc.strerror or exc})")
    try:
        data = json.loads(raw)
        return HeadFile(Anchor(lines=int(data["lines"]), sha256=str(data["sha256"])))
    except (ValueError, KeyError, TypeError):
        return HeadFile(None, "unreadable (not a head record)")


def mismatch(head: HeadFile, count: int, hash_of: dict[int, str]) -> tuple[int, str] | None:
    """Where and why a journal of ``count`` intact lines disagrees with its head; None when it agrees.

    ``hash_of`` maps a line number to its hash (only the anchored line's is needed).
    """
    if head.anchor is None:
        if count == 0:
            return None
        return 1, f"the head record beside the journal is {head.problem}: the journal's end is not anchored"
    anchor = head.anchor
    if count < anchor.lines:
        return count + 1, (
            f"the journal ends at line {count} but its anchored head says {anchor.lines} lines: "
            "the end of the journal was removed (cut short)"
        )
    if anchor.lines and hash_of.get(anchor.lines) != anchor.sha256:
        return anchor.lines, (
            f"line {anchor.lines} does not match the head anchored outside the journal (sha256 "
            f"{anchor.sha256[:16]}): a line was edited"
        )
    return None
