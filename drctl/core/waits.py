"""How a step is stopped at a safe point, and how a wait drctl does not make itself is cut short.

The cancellation exceptions are part of the action protocol (``actions.runtime`` re-exports them); the wait gate is
what the Azure SDK's transport sleeps through (``azure/clients.py``) and what the runner closes when a run pauses
(``engine/runner.py``). Both sides need them and neither may import the other, so they live here.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Cancelled(BaseException):
    """The engine wants the step to stop; raised by ``ctx.check_cancelled()`` and ``ctx.sleep()``."""


class TimedOut(Cancelled):
    """The step's timeout passed."""


class Interrupted(Cancelled):
    """The run is pausing (Ctrl-C) and this wait has no effect worth finishing; the step runs again later."""


class Stopped(Cancelled):
    """The run cannot go on (the journal cannot be written): stop at the next safe point."""


class WaitInterrupted(Exception):
    """A wait outside the engine's own (an SDK's retry or poll sleep) was cut short by a pause or a timeout.

    An ``Exception``, not a ``Cancelled``: an SDK running the wait in its own thread (azure-core's LRO poller)
    hands an ``Exception`` back to the caller's thread but would swallow a ``BaseException`` and report success.
    ``cause`` is what the step should raise once back in its own thread (``Interrupted`` or ``TimedOut``).
    """

    def __init__(self, cause: type[Cancelled]) -> None:
        super().__init__("the wait was interrupted: the run is pausing or the step's time is up")
        self.cause = cause


class StopSignal(Protocol):
    """What the gate reads of a step's cancellation token (``engine.context.Token``)."""

    @property
    def reason(self) -> type[Cancelled] | None: ...

    @property
    def interrupting(self) -> bool: ...


class WaitGate:
    """Every wait drctl does not make itself (the Azure SDK's retry and poll sleeps), made interruptible.

    Process-wide, because an SDK sleeps in threads it makes (the LRO poller): the runner closes the gate when a
    run starts pausing (Ctrl-C, SIGTERM, SIGHUP) and opens it when the run goes on, and every such wait then
    ends within ``SLICE`` seconds. On a step's own thread the wait also ends when that step is cancelled (its
    timeout), since the step's token is bound to the thread it runs on.
    """

    SLICE = 0.2

    def __init__(self) -> None:
        self._closed = threading.Event()
        self._local = threading.local()

    def close(self) -> None:
        self._closed.set()

    def open(self) -> None:
        self._closed.clear()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def bind(self, token: StopSignal | None) -> None:
        """The step whose thread this is (``None``: no step)."""
        self._local.token = token

    def sleep(self, seconds: float) -> None:
        token: StopSignal | None = getattr(self._local, "token", None)
        end = time.monotonic() + max(0.0, seconds)
        while True:
            if token is not None and token.reason is not None:
                raise WaitInterrupted(token.reason)
            if self._closed.is_set() or (token is not None and token.interrupting):
                raise WaitInterrupted(Interrupted)
            left = end - time.monotonic()
            if left <= 0:
                return
            self._closed.wait(min(self.SLICE, left))


#: the process's gate (see ``WaitGate``)
WAITS = WaitGate()
