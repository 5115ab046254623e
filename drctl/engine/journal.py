"""The run journal: append-only JSON lines, each fsynced before the run goes on, each chained to the one before.

Line format (docs/journal.md): ``{"v": 1, "seq": N, "type": ..., "at": ..., <event fields>, "prev": H}`` where H is
the sha256 (hex) of the previous line's bytes without its newline, and of ``GENESIS_TEXT`` for the first line.
So an edited, removed or reordered line breaks the chain at a line ``verify`` can name, and a crash mid-write
leaves at most one torn last line, which ``resume`` cuts off (keeping its bytes aside) without losing anything
before it.

The chain cannot show that lines were removed from the end or that the last line was edited, so each group
commit also anchors the head (line count and last hash) in a file beside the journal (``engine/anchor.py``);
reading checks the journal against it.

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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from drctl.engine import codec
from drctl.engine import events as ev
from drctl.engine.anchor import Anchor, mismatch, read_anchor, write_anchor
from drctl.errors import JournalError
from drctl.playbook.secrets import SecretStore

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
    """One run's journal, open for appending. Thread-safe; ``write``/``fsync`` are seams for failure tests.

    Group commit: ``reserve`` gives a line its ``seq`` and ``prev`` (so the chain follows the file order),
    ``commit`` returns once that line is durable. Whoever commits first writes and fsyncs every line reserved so
    far in one go, so a hundred steps starting together cost a handful of fsyncs, not a hundred, and still no
    caller goes on before its own line is on disk.
    """

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
        self._durable = seq
        self._pending: list[tuple[int, bytes]] = []
        self._write = write
        self._fsync = fsync
        self._lock = threading.Lock()  # seq, prev, pending
        self._flush = threading.Lock()  # one writer at a time
        self._broken: str | None = None
        self._kill_after = _kill_point()

    @classmethod
    def create(cls, path: Path, **seams: Any) -> Journal:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC, FILE_MODE)
            os.fchmod(fd, FILE_MODE)  # whatever the umask
            write_anchor(path, Anchor(0, GENESIS), FILE_MODE)
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
        seq, line = self.reserve(data, wait=wait)
        self.commit(seq, wait=wait)
        return seq, line

    def reserve(self, data: dict[str, Any], *, wait: float | None = None) -> tuple[int, str]:
        """Chain the line after the last one and queue it; nothing is on disk until ``commit``."""
        if not self._lock.acquire(timeout=-1 if wait is None else wait):
            raise JournalError(f"{self.path}: busy")
        try:
            if self._broken is not None:
                raise JournalError(self._broken)
            seq = self._seq + 1
            body = {"v": ev.SCHEMA_VERSION, "seq": seq, **data, "prev": self._prev}
            line = json.dumps(body, separators=(",", ":"), default=str).encode()
            self._seq, self._prev = seq, line_hash(line)
            self._pending.append((seq, line + b"\n"))
            return seq, line.decode()
        finally:
            self._lock.release()

    @property
    def next_seq(self) -> int:
        with self._lock:
            return self._seq + 1

    def commit(self, seq: int, *, wait: float | None = None) -> None:
        """Return once line ``seq`` is durable, writing (with whatever else is queued) if nobody else is."""
        if not self._flush.acquire(timeout=-1 if wait is None else wait):
            raise JournalError(f"{self.path}: busy")
        try:
            while self._durable < seq:
                if self._broken is not None:
                    raise JournalError(self._broken)
                with self._lock:
                    batch = self._pending
                    if self._kill_after is not None:  # the kill tests stop exactly after their line
                        # even when a later line's writer gets here first: write up to the kill line only
                        limit = self._kill_after if self._durable < self._kill_after else seq
                        batch = [item for item in batch if item[0] <= limit]
                    self._pending = self._pending[len(batch) :]
                self._write_durably(batch)
        finally:
            self._flush.release()

    def _write_durably(self, batch: list[tuple[int, bytes]]) -> None:
        try:
            view = memoryview(b"".join(line for _, line in batch))
            while view:
                view = view[self._write(self._fd, view) :]
            self._fsync(self._fd)
            last_seq, last_line = batch[-1]
            write_anchor(self.path, Anchor(last_seq, line_hash(last_line[:-1])), FILE_MODE)
        except OSError as exc:
            self._broken = (
                f"cannot write the journal {self.path}: {exc.strerror or exc}; the run stopped so that it "
                "stays resumable"
            )
            raise JournalError(self._broken) from exc
        self._durable = batch[-1][0]
        if self._kill_after is not None and self._durable >= self._kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    def close(self) -> None:
        with self._flush, self._lock:
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

    Listeners (the live view, the jsonl stream) see each event once it is durable, one at a time and in ``seq``
    order; they must be quick and must not emit events themselves. A listener that raises is dropped: the event
    is already durable, and a view that broke must not stop the run.
    """

    def __init__(self, journal: Journal, secrets: SecretStore, listeners: Iterable[Listener] = ()) -> None:
        self.journal = journal
        self.secrets = secrets
        self._listeners = list(listeners)
        self._turn = threading.Condition()
        self._next = journal.next_seq
        #: listeners that raised were dropped (the journal is what counts); why, for the CLI to say at the end
        self.listener_errors: list[str] = []

    def emit(self, event: ev.Event, *, wait: float | None = None) -> Record:
        data = self.secrets.redact_data(codec.to_data(event))
        seq, line = self.journal.reserve(data, wait=wait)
        record: Record | None = None
        try:
            self.journal.commit(seq, wait=wait)
            record = Record(seq, codec.from_data(data), line)
        finally:
            # whatever happened, pass the turn on: nobody may wait for a line that never came
            self._fan_out(seq, record, wait)
        return record

    def _fan_out(self, seq: int, record: Record | None, wait: float | None) -> None:
        with self._turn:
            if not self._turn.wait_for(lambda: self._next >= seq, timeout=wait):
                return  # best effort (a forced interrupt): the line is durable, the views may miss it
            try:
                if record is not None:
                    self._show(record)
            finally:
                self._next = max(self._next, seq + 1)
                self._turn.notify_all()

    def _show(self, record: Record) -> None:
        for listener in list(self._listeners):
            try:
                listener(record)
            except Exception as exc:  # a broken view (a closed pipe) must not stop a failover
                self._listeners.remove(listener)
                self.listener_errors.append(f"{type(exc).__name__}: {exc}")


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
    #: the head anchored beside the journal when it was read (None: none was found)
    anchor: Anchor | None = None

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
    """The journal's intact lines, and the first break: in the chain, or against the head anchored beside it."""
    head = read_anchor(path)  # first: a live run appending meanwhile only adds lines after the head
    contents = _read_chain(path)
    if contents.broken is not None:
        return replace(contents, anchor=head.anchor)
    anchor = head.anchor
    hashes = {}
    if anchor is not None and 0 < anchor.lines <= len(contents.lines):
        hashes[anchor.lines] = line_hash(contents.lines[anchor.lines - 1].raw)
    found = mismatch(head, len(contents.lines), hashes)
    if found is None:
        return replace(contents, anchor=head.anchor)
    line, message = found
    return JournalFile(path, contents.lines[: line - 1], None, Break(line, message), head.anchor)


def _read_chain(path: Path) -> JournalFile:
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
        view = memoryview(data)
        while view:  # a short write (a file size limit, a nearly full disk) is not a saved copy
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except OSError:
        saved.unlink(missing_ok=True)  # a partial copy would pass for the evidence; the journal is untouched
        raise
    finally:
        os.close(fd)
    fd = os.open(contents.path, os.O_WRONLY)
    try:
        os.ftruncate(fd, torn.offset)
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(contents.path.parent)
    return JournalFile(contents.path, contents.lines, None, None, contents.anchor), saved


@dataclass(frozen=True)
class Verdict:
    ok: bool
    lines: int
    message: str


def verify(path: Path) -> Verdict:
    return verify_contents(read_journal(path))


def verify_contents(contents: JournalFile) -> Verdict:
    """``verify`` of a journal already read (a report reads it once)."""
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
    anchor = contents.anchor
    if anchor is not None and anchor.lines < count:
        return Verdict(
            True,
            count,
            f"{count} lines, hash chain intact; head anchored at line {anchor.lines} (the lines after it were "
            "written just before a crash)",
        )
    return Verdict(True, count, f"{count} lines, hash chain intact, head anchored")
