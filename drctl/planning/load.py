"""Read a playbook file into a validated model, or into every located problem it has."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from drctl.actions.base import Params
from drctl.errors import PlaybookError
from drctl.planning import checks
from drctl.playbook.diagnostics import Collector, Diagnostic, add_validation_errors
from drctl.playbook.model import Playbook
from drctl.playbook.yamlpos import LocatedDocument, YamlSyntaxError, load_located

#: a playbook is a reviewed document, not a data dump; a file this large is a mistake
MAX_BYTES = 5 * 1024 * 1024


class NotAPlaybookFile(OSError):
    """A path that must not be read as a playbook (a device, a FIFO, a file over the size limit)."""


def read_bounded(file: Path) -> bytes:
    """The file's bytes, refusing before reading what cannot be a playbook.

    The size is checked on the open descriptor (not the path, which could be swapped in between) and the read
    itself stops one byte past the limit, so ``/dev/zero`` or a file growing under us is never read whole. A FIFO
    is opened non-blocking: opening it normally would wait forever for a writer.
    """
    import os
    import stat

    fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(str(file))
        if not stat.S_ISREG(info.st_mode):
            kind = "a FIFO" if stat.S_ISFIFO(info.st_mode) else "a device or special file"
            raise NotAPlaybookFile(f"is {kind}, not a regular file: a playbook is read from a file")
        if info.st_size > MAX_BYTES:
            raise NotAPlaybookFile(f"file is {info.st_size} bytes; a playbook is at most {MAX_BYTES}")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_BYTES:
            raise NotAPlaybookFile(f"file grew past {MAX_BYTES} bytes while it was read; a playbook is at most that")
        return b"".join(chunks)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class LoadedPlaybook:
    path: Path
    #: the name the user gave, used in every diagnostic
    display: str
    sha256: str
    playbook: Playbook
    document: LocatedDocument
    warnings: list[Diagnostic] = field(default_factory=list)
    #: each step's parameters, validated with references resolved, per direction ('forward' | 'reverse')
    params: dict[tuple[str, str], Params] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckResult:
    display: str
    diagnostics: list[Diagnostic]
    loaded: LoadedPlaybook | None

    @property
    def ok(self) -> bool:
        return self.loaded is not None


@cache
def vocabulary() -> tuple[str, ...]:
    """Every field name of every model, for 'did you mean' on unknown keys."""
    from drctl.actions import registry
    from drctl.playbook import model

    words: set[str] = set()
    classes: list[type[BaseModel]] = [
        obj for obj in vars(model).values() if isinstance(obj, type) and issubclass(obj, BaseModel)
    ]
    classes += [spec.params for spec in registry.ACTIONS.values()]
    for cls in classes:
        for name, info in cls.model_fields.items():
            words.add(info.alias or name)
    return tuple(sorted(words))


def check_file(path: str | Path) -> CheckResult:
    """Validate one playbook; never raises for a problem in the file itself."""
    display = str(path)
    file = Path(path)
    out = Collector(display, None)
    try:
        raw = read_bounded(file)
    except FileNotFoundError:
        out.add((), "no such file")
        return CheckResult(display, out.items, None)
    except IsADirectoryError:
        out.add((), "is a directory, not a playbook file")
        return CheckResult(display, out.items, None)
    except NotAPlaybookFile as exc:
        out.add((), str(exc))
        return CheckResult(display, out.items, None)
    except OSError as exc:
        out.add((), f"cannot read: {exc.strerror or exc}")
        return CheckResult(display, out.items, None)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        out.items.append(Diagnostic(display, line, 1, "", "file is not UTF-8 text"))
        return CheckResult(display, out.items, None)
    try:
        document = load_located(text)
    except YamlSyntaxError as exc:
        out.items.append(Diagnostic(display, exc.position.line, exc.position.column, "", exc.message))
        return CheckResult(display, out.items, None)
    out.document = document
    if not isinstance(document.data, dict):
        kind = "empty" if document.data is None else f"a {type(document.data).__name__}"
        out.add(
            (),
            f"a playbook is a mapping with version, name, objectives, regions and steps; this file is {kind}",
        )
        return CheckResult(display, out.items, None)
    playbook, step_index, known = _validate_model(document.data, out)
    params: dict[tuple[str, str], Params] = {}
    if playbook is not None:
        params = checks.check_playbook(playbook, out, step_index=step_index, known_ids=known, vocabulary=vocabulary())
    diagnostics = out.sorted()
    if out.errors or playbook is None:
        return CheckResult(display, diagnostics, None)
    loaded = LoadedPlaybook(
        path=file,
        display=display,
        sha256=hashlib.sha256(raw).hexdigest(),
        playbook=playbook,
        document=document,
        warnings=out.warnings,
        params=params,
    )
    return CheckResult(display, diagnostics, loaded)


def load_playbook(path: str | Path) -> LoadedPlaybook:
    """Validate and return the playbook, or raise ``PlaybookError`` carrying every diagnostic."""
    result = check_file(path)
    if result.loaded is None:
        count = sum(1 for d in result.diagnostics if d.severity == "error")
        raise PlaybookError(f"{result.display}: {count} error(s); nothing was run", list(result.diagnostics))
    return result.loaded


def _validate_model(data: dict[str, Any], out: Collector) -> tuple[Playbook | None, dict[str, int], set[str]]:
    """The model, each step id's index in the file, and ids of steps that failed their own schema.

    When only some steps are malformed, the rest are still checked (graph, references, safety), so one run of
    ``validate`` reports everything at once.
    """
    raw_steps = data.get("steps")
    step_index: dict[str, int] = {}
    seen_at: dict[str, int] = {}
    if isinstance(raw_steps, list):
        for i, item in enumerate(raw_steps):
            sid = item.get("id") if isinstance(item, dict) else None
            if isinstance(sid, str):
                if sid in seen_at:
                    out.add(("steps", i, "id"), f"duplicate step id {sid!r} (first at steps[{seen_at[sid]}])")
                else:
                    seen_at[sid] = i
                    step_index[sid] = i
    try:
        playbook = Playbook.model_validate(data)
    except ValidationError as exc:
        failed = add_validation_errors(out, exc, data, vocabulary=vocabulary())
        repaired = _repair(data, failed)
        if repaired is None:
            return None, step_index, set()
        patched, dropped = repaired
        known = {sid for sid, i in step_index.items() if i in dropped}
        if not patched["steps"]:
            return None, step_index, known
        try:
            playbook = Playbook.model_validate(patched)
        except ValidationError:
            return None, step_index, known
        return playbook, step_index, known
    if len(seen_at) != len(playbook.steps):
        # duplicates were reported above; the graph checks would only repeat them
        return None, step_index, set()
    return playbook, step_index, set()


#: sections no step depends on: when one is malformed, a stand-in lets every other check still run. The stand-in
#: RTO/RPO are the longest durations allowed, so no budget finding is made against a value the file did not state
_STAND_INS: dict[str, Any] = {
    "objectives": {"rto": "30d", "rpo": "30d"},
    "azure": {"subscription": "unreadable"},
    "drill": {},
    "change_windows": [],
    "description": None,
    "name": "unreadable",
}
#: a step whose identity or place in the graph is unreadable is left out (and the safety check with it); any
#: other malformed field of a step is dropped, so the step still stands in the graph as its author wrote it
_STEP_IDENTITY = {"id", "uses", "needs", "when", "with"}


def _repair(data: dict[str, Any], failed: set[tuple[str | int, ...]]) -> tuple[dict[str, Any], set[int]] | None:
    """The document with what failed its schema set aside, so the remaining checks report everything in one pass;
    None when what failed is what the other checks read (regions, direction, DNS, channels, version)."""
    patched = dict(data)
    raw_steps = data.get("steps")
    steps = list(raw_steps) if isinstance(raw_steps, list) else None
    dropped: set[int] = set()
    for path in failed:
        root = path[0] if path else None
        if isinstance(root, str) and root in _STAND_INS:
            patched[root] = _STAND_INS[root]
            continue
        if root != "steps" or steps is None or len(path) < 2 or not isinstance(path[1], int):
            return None
        index = path[1]
        item = steps[index] if index < len(steps) else None
        field = path[2] if len(path) > 2 else None
        if not isinstance(item, dict) or field is None or field in _STEP_IDENTITY:
            dropped.add(index)
        else:
            steps[index] = {k: v for k, v in item.items() if k != field}
    if steps is not None:
        patched["steps"] = [s for i, s in enumerate(steps) if i not in dropped]
    return patched, dropped
