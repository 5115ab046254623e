"""The operator, as the engine sees them: someone who may answer an approval or a decision, or nobody.

The CLI provides a terminal operator (prompts on stdin); tests provide scripted ones; a session without a
terminal has ``Unattended``, and then the engine waits for ``drctl approve`` or pauses the run (exit 10) instead.
The engine calls an operator from one dedicated thread, so questions never interleave on a terminal.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from drctl.engine.events import Choice, Identity, Question

T = TypeVar("T")


@dataclass(frozen=True)
class ApprovalPrompt:
    run_id: str
    step: str
    request_id: str
    prompt: str
    require_reason: bool
    approvers: tuple[str, ...]
    deadline: datetime


@dataclass(frozen=True)
class ApprovalAnswer:
    approved: bool
    approver: Identity
    reason: str | None = None
    #: "prompt", "file" (drctl approve), "yes" (--yes)
    via: str = "prompt"


@dataclass(frozen=True)
class DecisionPrompt:
    run_id: str
    question: Question
    choices: tuple[Choice, ...]
    step: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Decision:
    choice: Choice
    by: Identity
    reason: str | None = None


class Operator(Protocol):
    @property
    def interactive(self) -> bool: ...

    def approve(self, prompt: ApprovalPrompt, settled: threading.Event) -> ApprovalAnswer | None:
        """Ask; return None if ``settled`` is set meanwhile (answered from another terminal) or nobody can say."""
        ...

    def decide(self, prompt: DecisionPrompt) -> Decision | None:
        """Ask for one of ``prompt.choices``; None when nobody can answer (the run then pauses)."""
        ...


class Unattended:
    """No terminal: approvals come from ``drctl approve`` or ``--yes``; decisions pause the run."""

    interactive = False

    def approve(self, prompt: ApprovalPrompt, settled: threading.Event) -> ApprovalAnswer | None:
        return None

    def decide(self, prompt: DecisionPrompt) -> Decision | None:
        return None


class SerialAsker:
    """One daemon thread that asks the operator one question at a time.

    Daemon, because a question left open when the process must exit (second Ctrl-C) must not hold it up.
    """

    def __init__(self, operator: Operator) -> None:
        self.operator = operator
        self._queue: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _loop(self) -> None:
        while (item := self._queue.get()) is not None:
            call, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call())
            except BaseException as exc:
                future.set_exception(exc)

    def submit(self, call: Callable[[], T]) -> Future[T]:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="drctl-operator", daemon=True)
                self._thread.start()
        future: Future[T] = Future()
        self._queue.put((call, future))
        return future

    def close(self) -> None:
        self._queue.put(None)
