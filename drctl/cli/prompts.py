"""Questions at the terminal: approvals, failure decisions, Ctrl-C. The engine asks them from its operator
thread; this module reads the answer without blocking for good, so an answer that arrives from another terminal
(``drctl approve``) closes the question here.

Where a question is shown depends on the view. Under the live table (``AreaPrompts``) it lives in the table's own
area, below the steps: the table keeps running, so its clock keeps ticking while a person thinks, and keys are
read one at a time with the terminal's echo off (the area echoes them; a terminal echoing under a redrawing
display would scribble over it). Otherwise (``StreamPrompts``) it is plain lines on stderr and a line from stdin,
which keeps stdout free for the timestamped lines or the journal's JSON lines.
"""

from __future__ import annotations

import codecs
import os
import re
import select
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from drctl.engine.approvals import needs_another
from drctl.engine.events import Choice, Question
from drctl.engine.identity import current as current_identity
from drctl.engine.identity import describe
from drctl.engine.operator import ApprovalAnswer, ApprovalPrompt, Decision, DecisionPrompt

_KEYS = {Choice.RETRY: "r", Choice.SKIP: "s", Choice.ABORT: "a", Choice.CONTINUE: "c", Choice.RERUN: "rerun"}

#: how often a waiting read looks whether the question was settled elsewhere
_POLL_SECONDS = 0.2

CLOSED = "(this question is closed: answered elsewhere, or the run is pausing)"


class InterruptCount:
    """Ctrl-C presses in the current pause: the first pauses, the second forces. Reset when the run goes on."""

    def __init__(self) -> None:
        self.presses = 0

    def reset(self) -> None:
        self.presses = 0


class PromptIO(Protocol):
    """Where a question is shown and its answer typed."""

    def asking(self) -> AbstractContextManager[None]:
        """One question, from its first words to its answer."""
        ...

    def say(self, text: str) -> None: ...

    def line(self, question: str, settled: threading.Event | None) -> str | None:
        """One answer; None at end of input, when the question was settled elsewhere, or once closed."""
        ...

    def close(self) -> None:
        """Give the terminal back as it was (the run is over, or the process is going down)."""
        ...


class StreamPrompts:
    """Plain lines on stderr, an answer line from stdin: for pipes, logs and ``--output jsonl``."""

    def __init__(self, stream_in: TextIO | None = None) -> None:
        self._in = stream_in or sys.stdin

    def asking(self) -> AbstractContextManager[None]:
        return nullcontext()

    def say(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def line(self, question: str, settled: threading.Event | None) -> str | None:
        sys.stderr.write(question)
        sys.stderr.flush()
        while True:
            if settled is not None and settled.is_set():
                self.say(f"\n{CLOSED}")
                return None
            readable, _, _ = select.select([self._in], [], [], _POLL_SECONDS)
            if readable:
                line = self._in.readline()
                return None if line == "" else line.strip()

    def close(self) -> None:
        """Nothing to give back: the terminal's modes were never changed."""


# a key that sends an escape sequence (arrows, function keys): ignored, never half-typed into an answer
_ESCAPE = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|O.|.)?", re.DOTALL)


@dataclass
class LineEditor:
    """What the echo-less terminal would have done with the keys: a line with backspace, Ctrl-U and Ctrl-W.

    Keys typed after Enter (a paste of two answers) are kept for the next question.
    """

    buffer: str = ""
    pending: str = ""
    eof: bool = False

    def feed(self, typed: str) -> str | None:
        """Take keys; the finished line when Enter came, else None (``eof`` tells Ctrl-D on an empty line)."""
        text = _ESCAPE.sub("", self.pending + typed)
        self.pending = ""
        for at, char in enumerate(text):
            if char in "\r\n":
                line, self.buffer = self.buffer, ""
                rest = text[at + 1 :]
                self.pending = rest[1:] if char == "\r" and rest.startswith("\n") else rest
                return line.strip()
            if char in "\x7f\x08":
                self.buffer = self.buffer[:-1]
            elif char == "\x15":  # Ctrl-U
                self.buffer = ""
            elif char == "\x17":  # Ctrl-W: the last word
                kept = self.buffer.rstrip()
                self.buffer = kept[: kept.rfind(" ") + 1]
            elif char == "\x04":  # Ctrl-D: end of input on an empty line, as a terminal in line mode does
                if not self.buffer:
                    self.eof = True
                    return None
            elif char.isprintable():
                self.buffer += char
        return None


class PromptArea(Protocol):
    """The part of a display where questions are shown (the live table's area below its steps)."""

    def show_prompt(self, lines: Sequence[str], entry: tuple[str, str] | None) -> None:
        """Show these lines, and the question being answered with what has been typed so far."""
        ...

    def clear_prompt(self) -> None: ...


class AreaPrompts:
    """Questions inside a display that keeps running: keys read one by one from the terminal, echoed by the area."""

    def __init__(self, area: PromptArea, fd: int | None = None) -> None:
        self._area = area
        self._fd = sys.stdin.fileno() if fd is None else fd
        self._lines: list[str] = []
        self._editor = LineEditor()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._closed = threading.Event()
        self._modes_lock = threading.Lock()
        #: the modes before a question changed them, and before the display turned the echo off
        self._saved: list[Any] | None = None
        self._original: list[Any] | None = None

    @contextmanager
    def asking(self) -> Iterator[None]:
        self._lines = []
        try:
            yield
        finally:
            self._lines = []
            self._area.clear_prompt()

    def say(self, text: str) -> None:
        self._lines.extend(text.strip("\n").splitlines())
        self._area.show_prompt(self._lines, None)

    def line(self, question: str, settled: threading.Event | None) -> str | None:
        with self._keys():
            typed = ""  # first, what was typed ahead (a paste of two answers)
            while True:
                answer = self._editor.feed(typed)
                if answer is not None:
                    self._lines.append(f"{question}{answer}")
                    self._area.show_prompt(self._lines, None)
                    return answer
                if self._editor.eof:
                    self._editor.eof = False
                    return None
                if self._closed.is_set():
                    return None
                if settled is not None and settled.is_set():
                    self.say(CLOSED)
                    return None
                self._area.show_prompt(self._lines, (question, self._editor.buffer))
                read = self._read()
                if read is None:
                    return None
                typed = read

    def _read(self) -> str | None:
        """What was typed in the last moment ("" for nothing); None at end of input (the terminal is gone)."""
        try:
            readable, _, _ = select.select([self._fd], [], [], _POLL_SECONDS)
            if not readable:
                return ""
            data = os.read(self._fd, 1024)
        except (OSError, ValueError):
            return None
        if not data:
            return None
        return self._decoder.decode(data)

    def quiet(self) -> None:
        """Echo off while the display runs: a key pressed between questions (Enter, to wake the screen) would move
        the cursor under the display and leave copies of it behind. Keys typed ahead still wait for the next
        question; ``close`` puts the terminal back as it was here."""
        import termios

        with self._modes_lock:
            if self._closed.is_set() or self._original is not None:
                return
            try:
                self._original = termios.tcgetattr(self._fd)
                mode = termios.tcgetattr(self._fd)
                mode[3] &= ~termios.ECHO
                termios.tcsetattr(self._fd, termios.TCSANOW, mode)
            except (termios.error, OSError):
                self._original = None  # not a terminal: nothing to quieten

    @contextmanager
    def _keys(self) -> Iterator[None]:
        """Key by key, no echo, while an answer is typed; Ctrl-C still interrupts (the signals stay on)."""
        import termios

        with self._modes_lock:
            if not self._closed.is_set():
                try:
                    saved = termios.tcgetattr(self._fd)
                    mode = termios.tcgetattr(self._fd)
                    mode[3] &= ~(termios.ICANON | termios.ECHO)
                    mode[6][termios.VMIN], mode[6][termios.VTIME] = 1, 0
                    termios.tcsetattr(self._fd, termios.TCSANOW, mode)
                    self._saved = saved
                except (termios.error, OSError):
                    self._saved = None  # not a terminal after all: read what comes
        try:
            yield
        finally:
            with self._modes_lock:
                between, self._saved = self._saved, None
                if between is not None and not self._closed.is_set():  # once closed, the terminal is given back
                    self._set(between)

    def _set(self, modes: list[Any]) -> None:
        import termios

        with suppress(termios.error, OSError):  # the terminal went away (SIGHUP): nothing to give back
            termios.tcsetattr(self._fd, termios.TCSADRAIN, modes)

    def close(self) -> None:
        """The terminal's modes as they were before the display (or the question) changed them; no more asking."""
        with self._modes_lock:
            self._closed.set()
            modes = self._original or self._saved
            self._original, self._saved = None, None
            if modes is not None:
                self._set(modes)


class TerminalOperator:
    interactive = True

    def __init__(self, *, interrupts: InterruptCount, io: PromptIO | None = None) -> None:
        self.interrupts = interrupts
        self.io: PromptIO = io or StreamPrompts()
        self._lock = threading.Lock()

    @contextmanager
    def _asking(self) -> Iterator[None]:
        with self._lock, self.io.asking():
            yield

    def approve(self, prompt: ApprovalPrompt, settled: threading.Event) -> ApprovalAnswer | None:
        if needs_another(prompt.approvers):
            self._wait_for_another(prompt, settled)
            return None
        with self._asking():
            who = ", ".join(prompt.approvers) or "any operator"
            self.io.say(f"\nApproval needed for step {prompt.step} (approvers: {who}):\n  {prompt.prompt}")
            self.io.say(
                f"  (or from another terminal: drctl approve {prompt.run_id} {prompt.step} --reason ...; "
                f"until {prompt.deadline.isoformat(timespec='seconds')})"
            )
            answer = self._choose("Approve? [y/n] ", settled, {"y": True, "yes": True, "n": False, "no": False})
            if answer is None:
                return None
            reason: str | None = None
            if prompt.require_reason or not answer:
                reason = self._reason(settled)
                if reason is None:
                    return None
            return ApprovalAnswer(answer, current_identity(), reason, via="prompt")

    def _choose(self, question: str, settled: threading.Event | None, by_key: dict[str, Any]) -> Any:
        while True:
            answer = self.io.line(question, settled)
            if answer is None:
                return None
            if answer.lower() in by_key:
                return by_key[answer.lower()]

    def _reason(self, settled: threading.Event | None) -> str | None:
        reason: str | None = ""
        while reason == "":
            reason = self.io.line("Reason: ", settled)
        return reason

    def _wait_for_another(self, prompt: ApprovalPrompt, settled: threading.Event) -> None:
        """Separation of duties: the operator cannot answer; say who can and how, and leave the terminal free."""
        with self._asking():
            self.io.say(
                f"\nApproval needed for step {prompt.step} from someone other than you "
                f"({describe(current_identity())}):\n  {prompt.prompt}\n  they answer from their own account: "
                f"drctl approve {prompt.run_id} {prompt.step} --reason ... "
                f"(until {prompt.deadline.isoformat(timespec='seconds')})"
            )
            settled.wait()

    def decide(self, prompt: DecisionPrompt) -> Decision | None:
        with self._asking():
            options = " / ".join(f"[{_KEYS[c]}] {c.value}" for c in prompt.choices)
            if prompt.question is Question.FAILURE:
                self.io.say(f"\nStep {prompt.step} failed: {prompt.error}")
            elif prompt.question is Question.INTERRUPT:
                self.io.say("\nPaused: no new step starts; the steps in flight have finished.")
            else:
                self.io.say(
                    f"\nStep {prompt.step} changes the estate, started before the crash and cannot be checked. "
                    "Check the estate by hand before running it again."
                )
            by_key = {_KEYS[c]: c for c in prompt.choices} | {c.value: c for c in prompt.choices}
            choice: Choice | None = self._choose(f"{options}? ", None, by_key)
            if choice is None:
                return None
            reason = None
            if choice in (Choice.SKIP, Choice.ABORT, Choice.RERUN):
                reason = self._reason(None)
                if reason is None:
                    return None
            if choice is Choice.CONTINUE:
                self.interrupts.reset()
            return Decision(choice, current_identity(), reason)
