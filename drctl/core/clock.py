"""Time, injectable: the system clock for real runs, a fake one whose sleep advances time for tests.

Every wait in the engine and in actions goes through a ``Clock`` (``ctx.sleep``, retry back-off, approval
polling), so a test of a 20-minute approval timeout takes milliseconds. Two readings: ``now()`` (aware UTC
datetime: T0, event times, the RTO) and ``monotonic()`` (seconds: deadlines).

The runner's scheduling loop blocks on its own queue, not on the clock; ``idle_wait`` says how long it may block
(in real seconds) before reading the clock again, and ``subscribe`` lets a fake clock wake it when time moves.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float, *, cancel: threading.Event | None = None) -> bool:
        """Sleep; True if ``cancel`` was set (at once or meanwhile), False when the time passed."""
        ...

    def idle_wait(self, seconds: float) -> float:
        """How long (real seconds) the runner may block when its next timer is ``seconds`` away on this clock."""
        ...

    def subscribe(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever time jumps (fake clocks only; the system clock never calls it)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float, *, cancel: threading.Event | None = None) -> bool:
        if cancel is None:
            time.sleep(max(0.0, seconds))
            return False
        return cancel.wait(max(0.0, seconds))

    def idle_wait(self, seconds: float) -> float:
        return max(0.0, seconds)

    def subscribe(self, callback: Callable[[], None]) -> None:
        return None


class FakeClock:
    """Time moves only when someone sleeps (or ``advance`` is called): sleeping advances it at once.

    Parallel sleepers add up (two threads each sleeping 1 s move time by 2 s), so tests that measure time run
    steps one at a time. ``call_at`` schedules a callback at a point of fake time (an approval arriving from
    "another terminal" five minutes in), run by whichever thread moves time past it.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
        self._elapsed = 0.0
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        return self._elapsed

    def sleep(self, seconds: float, *, cancel: threading.Event | None = None) -> bool:
        if cancel is not None and cancel.is_set():
            return True
        self.advance(seconds)
        time.sleep(0)  # let the other threads see the new time
        return cancel is not None and cancel.is_set()

    def advance(self, seconds: float) -> None:
        due: list[Callable[[], None]] = []
        with self._lock:
            self._elapsed += max(0.0, seconds)
            while self._timers and self._timers[0][0] <= self._elapsed:
                due.append(heapq.heappop(self._timers)[2])
            listeners = list(self._listeners)
        for callback in due:
            callback()
        for listener in listeners:
            listener()

    def call_at(self, seconds: float, callback: Callable[[], None]) -> None:
        """Run ``callback`` once fake time reaches ``seconds`` after the clock's start."""
        with self._lock:
            heapq.heappush(self._timers, (seconds, next(self._order), callback))

    def idle_wait(self, seconds: float) -> float:
        # time moves only when another thread sleeps, and that wakes the runner (subscribe): block briefly
        return min(max(0.0, seconds), 0.05)

    def subscribe(self, callback: Callable[[], None]) -> None:
        with self._lock:
            self._listeners.append(callback)
