"""Questions at the terminal: approvals, failure decisions, Ctrl-C. The engine asks them from its operator
thread; this module reads the answer without blocking for good, so an answer that arrives from another terminal
(``drctl approve``) closes the question here."""

from __future__ import annotations

import select
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TextIO

from drctl.engine.approvals import needs_another
from drctl.engine.events import Choice, Question
from drctl.engine.identity import current as current_identity
from drctl.engine.identity import describe
from drctl.engine.operator import ApprovalAnswer, ApprovalPrompt, Decision, DecisionPrompt

_KEYS = {Choice.RETRY: "r", Choice.SKIP: "s", Choice.ABORT: "a", Choice.CONTINUE: "c", Choice.RERUN: "rerun"}


class InterruptCount:
    """Ctrl-C presses in the current pause: the first pauses, the second forces. Reset when the run goes on."""

    def __init__(self) -> None:
        self.presses = 0

    def reset(self) -> None:
        self.presses = 0


class TerminalOperator:
    interactive = True

    def __init__(
        self,
        *,
        interrupts: InterruptCount,
        suspend: Callable[[], AbstractContextManager[None]] | None = None,
        stream_in: TextIO | None = None,
    ) -> None:
        self.interrupts = interrupts
        self._suspend = suspend or nullcontext
        self._in = stream_in or sys.stdin
        self._lock = threading.Lock()

    def _say(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def _line(self, question: str, settled: threading.Event | None) -> str | None:
        """One line of input; None at end of input or when the question was settled elsewhere."""
        sys.stderr.write(question)
        sys.stderr.flush()
        while True:
            if settled is not None and settled.is_set():
                self._say("\n(this question is closed: answered elsewhere, or the run is pausing)")
                return None
            readable, _, _ = select.select([self._in], [], [], 0.2)
            if readable:
                line = self._in.readline()
                return None if line == "" else line.strip()

    @contextmanager
    def _asking(self) -> Iterator[None]:
        with self._lock, self._suspend():
            yield

    def approve(self, prompt: ApprovalPrompt, settled: threading.Event) -> ApprovalAnswer | None:
        if needs_another(prompt.approvers):
            self._wait_for_another(prompt, settled)
            return None
        with self._asking():
            who = ", ".join(prompt.approvers) or "any operator"
            self._say(f"\nApproval needed for step {prompt.step} (approvers: {who}):\n  {prompt.prompt}")
            self._say(
                f"  (or from another terminal: drctl approve {prompt.run_id} {prompt.step} --reason ...; "
                f"until {prompt.deadline.isoformat(timespec='seconds')})"
            )
            while True:
                answer = self._line("Approve? [y/n] ", settled)
                if answer is None:
                    return None
                if answer.lower() in ("y", "yes", "n", "no"):
                    break
            approved = answer.lower().startswith("y")
            reason: str | None = None
            if prompt.require_reason or not approved:
                while not reason:
                    reason = self._line("Reason: ", settled)
                    if reason is None:
                        return None
            return ApprovalAnswer(approved, current_identity(), reason, via="prompt")

    def _wait_for_another(self, prompt: ApprovalPrompt, settled: threading.Event) -> None:
        """Separation of duties: the operator cannot answer; say who can and how, and leave the terminal free."""
        self._say(
            f"\nApproval needed for step {prompt.step} from someone other than you ({describe(current_identity())}):"
            f"\n  {prompt.prompt}\n  they answer from their own account: drctl approve {prompt.run_id} {prompt.step} "
            f"--reason ... (until {prompt.deadline.isoformat(timespec='seconds')})"
        )
        settled.wait()

    def decide(self, prompt: DecisionPrompt) -> Decision | None:
        with self._asking():
            options = " / ".join(f"[{_KEYS[c]}] {c.value}" for c in prompt.choices)
            if prompt.question is Question.FAILURE:
                self._say(f"\nStep {prompt.step} failed: {prompt.error}")
            elif prompt.question is Question.INTERRUPT:
                self._say("\nPaused: no new step starts; the steps in flight have finished.")
            else:
                self._say(
                    f"\nStep {prompt.step} changes the estate, started before the crash and cannot be checked. "
                    "Check the estate by hand before running it again."
                )
            by_key = {_KEYS[c]: c for c in prompt.choices} | {c.value: c for c in prompt.choices}
            while True:
                answer = self._line(f"{options}? ", None)
                if answer is None:
                    return None
                choice = by_key.get(answer.lower())
                if choice is not None:
                    break
            reason = None
            if choice in (Choice.SKIP, Choice.ABORT, Choice.RERUN):
                while not reason:
                    reason = self._line("Reason: ", None)
                    if reason is None:
                        return None
            if choice is Choice.CONTINUE:
                self.interrupts.reset()
            return Decision(choice, current_identity(), reason)
