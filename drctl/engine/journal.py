"""The run journal: append-only JSON lines, each fsynced before the run goes on, each chained to the one before.

Line format (docs/journal.md): ``{"v": 1, "seq": N, "type": ..., "at": ..., <event fields>, "prev": H}`` where H is
the sha256 (hex) of the previous line's bytes without its newline, and of ``GENESIS_TEXT`` for the first line.
So an edited, removed or reordered line breaks the chain at a line ``verify`` can name, and a crash mid-write
leaves at most one torn last line, which ``resume`` cuts off (keeping its bytes aside) without losing anything
before it.

A write that fails (disk full, read-only file system, file size limit) marks the journal broken: every later
append raises ``JournalError`` at once, and the runner stops starting steps (safety rule 4).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drctl.engine import codec
from drctl.engine import events as ev
from drctl.engine.redact import SecretStore
from drctl.errors import JournalError

GENESIS_TEXT = b"drctl.journal/v1"
GENESIS = hashlib.sha256(GENESIS_TEXT).hexdigest()
FILE_MODE = 0o600

#: the reliability tests SIGKILL a real run right after line N is durable (only with test actions enabled)
KILL_AFTER_LINE_ENV = "DRCTL_TEST_KILL_AFTER_LINE"


def line_hash(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def fsync_dir(path: Path) -> None:
    """Make a directory entry (a new file or subdirectory) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _kill_point() -> int | None:
    from drctl.actions.registry import test_actions_enabled

    value = os.environ.get(KILL_AFTER_LINE_ENV)
    return int(value) if value and test_actions_enabled() else None


class Journal:
    """One run's journal, open for appending. Thread-safe; ``write``/``fsync`` are seams for failure tests."""

    def __init__(
        self,
        path: Path,
        fd: int,
        *,
        seq: int,
        prev: str,
        write: Callable[[int, memoryview], int] = os.write,
        fsync: Callable[[int], None] = os.fsync,
    ) -> None:
        self.path = path
        self._fd = fd
        self._seq = seq
        self._prev = prev
        self._write = write
        self._fsync = fsync
        self._lock = threading.Lock()
        self._broken: str | None = None
        self._kill_after = _kill_point()

    @classmethod
    def create(cls, path: Path, **seams: Any) -> Journal:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC, FILE_MODE)
            os.fchmod(fd, FILE_MODE)  # whatever the umask
            fsync_dir(path.parent)
        except OSError as exc:
            raise JournalError(f"cannot create the journal {path}: {exc.strerror or exc}; nothing was run") from exc
        return cls(path, fd, seq=0, prev=GENESIS, **seams)

    @classmethod
    def reopen(cls, contents: JournalFile, **seams: Any) -> Journal:
        """Append to a journal read (and repaired) by ``read_journal``; it must be intact."""
        if contents.broken is not None or contents.torn is not None:
            raise JournalError(f"{contents.path}: cannot append to a journal that is not intact")
        try:
            fd = os.open(contents.path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
        except OSError as exc:
            raise JournalError(f"cannot open the journal {contents.path}: {exc.strerror or exc}") from exc
        return cls(contents.path, fd, seq=len(contents.lines), prev=contents.last_hash, **seams)

    def append(self, data: dict[str, Any], *, wait: float | None = None) -> tuple[int, str]:
        """Write one event's data durably; return (seq, line). ``wait``: give up on a busy journal after so long."""
        if not self._lock.acquire(timeout=-1 if wait is None else wait):
            raise JournalError(f"{self.path}: busy")
        try:
            if self._broken is not None:
                raise JournalError(self._broken)
            seq = self._seq + 1
            body = {"v": ev.SCHEMA_VERSION, "seq": seq, **data, "prev": self._prev}
            line = json.dumps(body, separators=(",", ":"), default=str).encode()
            try:
                view = memoryview(line + b"\n")
                while view:
                    view = view[self._write(self._fd, view) :]
                self._fsync(self._fd)
            except OSError as exc:
                self._broken = (
                    f"cannot write the journal {self.path}: {exc.strerror or exc}; the run stopped so that it "
                    "stays resumable"
                )
                raise JournalError(self._broken) from exc
            self._seq, self._prev = seq, line_hash(line)
            if self._kill_after is not None and seq >= self._kill_after:
                os.kill(os.getpid(), signal.SIGKILL)
            return seq, line.decode()
        finally:
            self._lock.release()

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1


@dataclass(frozen=True)
class Record:
    """An event as written: its line number and its exact (redacted) journal line."""

    seq: int
    event: ev.Event
    line: str


Listener = Callable[[Record], None]


class Recorder:
    """Redacts an event, journals it durably, then shows it to listeners, in journal order.

    Listeners (the live view, the jsonl stream) run outside the journal lock but one at a time, so they see
    events in ``seq`` order; they must be quick and must not emit events themselves. A listener that raises is
    dropped: the event is already durable, and a view that broke must not stop the run.
    """

    def __init__(self, journal: Journal, secrets: SecretStore, listeners: Iterable[Listener] = ()) -> None:
        self.journal = journal
        self.secrets = secrets
        self._listeners = list(listeners)
        self._fanout = threading.Lock()
        self._order = threading.Lock()
        #: listeners that raised were dropped (the journal is what counts); why, for the CLI to say at the end
        self.listener_errors: list[str] = []

    def emit(self, event: ev.Event, *, wait: float | None = None) -> Record:
        data = self.secrets.redact_data(codec.to_data(event))
        # hand over hand: take the fan-out turn before another writer can, so listeners keep journal order
        if not self._order.acquire(timeout=-1 if wait is None else wait):
            raise JournalError(f"{self.journal.path}: busy")
        try:
            seq, line = self.journal.append(data, wait=wait)
            self._fanout.acquire()
        finally:
            self._order.release()
        try:
            record = Record(seq, codec.from_data(data), line)
            for listener in list(self._listeners):
                try:
                    listener(record)
                except Exception as exc:  # a broken view (a closed pipe) must not stop a failover
                    self._listeners.remove(listener)
                    self.listener_errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            self._fanout.release()
        return record


# --- reading -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JournalLine:
    number: int
    data: dict[str, Any]
    raw: bytes


@dataclass(frozen=True)
class Torn:
    """The last line is incomplete or unreadable: a crash mid-write."""

    line: int
    offset: int
    size: int


@dataclass(frozen=True)
class Break:
    line: int
    message: str


@dataclass(frozen=True)
class JournalFile:
    path: Path
    #: the intact lines, up to a break or a torn tail
    lines: tuple[JournalLine, ...]
    torn: Torn | None
    broken: Break | None

    @property
    def last_hash(self) -> str:
        return line_hash(self.lines[-1].raw) if self.lines else GENESIS

    def events(self) -> list[ev.Event]:
        """The intact lines as events; types this version does not know are left out."""
        out = []
        for line in self.lines:
            try:
                out.append(codec.from_data(line.data))
            except codec.UnknownEvent:
                continue
        return out


def read_journal(path: Path) -> JournalFile:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise JournalError(f"cannot read the journal {path}: {exc.strerror or exc}") from exc
    chunks = raw.split(b"\n")
    complete, tail = chunks[:-1], chunks[-1]
    lines: list[JournalLine] = []
    prev = GENESIS
    offset = 0
    for index, chunk in enumerate(complete):
        number = index + 1
        last = index == len(complete) - 1 and not tail
        try:
            data = json.loads(chunk)
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except ValueError:
            if last:  # garbage where the last write was: a crash, not an edit
                return JournalFile(path, tuple(lines), Torn(number, offset, len(raw) - offset), None)
            return JournalFile(path, tuple(lines), None, Break(number, "not a JSON object: the line is corrupted"))
        if data.get("prev") != prev:
            what = "the journal's start" if number == 1 else f"line {number - 1}"
            message = f"hash chain broken: 'prev' does not match {what} (a line was edited, removed or reordered)"
            return JournalFile(path, tuple(lines), None, Break(number, message))
        if data.get("seq") != number:
            return JournalFile(path, tuple(lines), None, Break(number, f"seq {data.get('seq')} where {number} belongs"))
        lines.append(JournalLine(number, data, chunk))
        prev = line_hash(chunk)
        offset += len(chunk) + 1
    torn = Torn(len(complete) + 1, offset, len(tail)) if tail else None
    return JournalFile(path, tuple(lines), torn, None)


def repair_torn_tail(contents: JournalFile) -> tuple[JournalFile, Path | None]:
    """Cut a torn last line off (its bytes saved beside the journal); return the intact journal and where."""
    torn = contents.torn
    if torn is None:
        return contents, None
    saved = contents.path.with_name(f"{contents.path.name}.torn-line-{torn.line}")
    with contents.path.open("rb") as source:
        source.seek(torn.offset)
        data = source.read()
    fd = os.open(saved, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    fd = os.open(contents.path, os.O_WRONLY)
    try:
        os.ftruncate(fd, torn.offset)
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(contents.path.parent)
    return JournalFile(contents.path, contents.lines, None, None), saved


@dataclass(frozen=True)
class Verdict:
    ok: bool
    lines: int
    message: str


def verify(path: Path) -> Verdict:
    contents = read_journal(path)
    count = len(contents.lines)
    if contents.broken is not None:
        b = contents.broken
        return Verdict(False, count, f"line {b.line}: {b.message}; lines 1-{b.line - 1} verify")
    if contents.torn is not None:
        t = contents.torn
        return Verdict(
            False,
            count,
            f"line {t.line}: torn ({t.size} bytes, incomplete or unreadable: a crash mid-write); lines 1-{count} "
            "verify; `drctl resume` cuts the torn line off and keeps its bytes aside",
        )
    if count == 0:
        return Verdict(False, 0, "empty journal")
    return Verdict(True, count, f"{count} lines, hash chain intact")
