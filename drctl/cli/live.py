"""Showing a run while it runs: a Rich live table at a terminal, timestamped lines otherwise, or the journal's
own JSON lines (``--output jsonl``). Every view is a journal listener: it sees exactly what was journaled,
already redacted, in journal order."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from drctl.cli.facts_view import describe_fact
from drctl.cli.verdict_view import banner, verdict_line
from drctl.core.schedule import Node
from drctl.durations import format_duration as fd
from drctl.engine import events as ev
from drctl.engine.identity import describe as person
from drctl.engine.journal import Record
from drctl.engine.objectives import in_order, projected_finish
from drctl.engine.replay import RunView, StepState

if TYPE_CHECKING:
    from rich.console import RenderableType


def describe(event: ev.Event) -> str | None:  # noqa: PLR0912 - one line per event type
    """One human line for an event, or None for those a person need not see as a line."""
    match event:
        case ev.RunStarted():
            declared = " (declared)" if event.declared else ""
            back = ""
            if event.drill is not None:
                back = f", hold {fd(event.drill.hold_seconds)}, then {event.target} -> {event.source}"
            rehearsal = banner(event)
            return (
                (f"{rehearsal}\n          " if rehearsal else "")
                + f"run {event.run_id}: {event.mode} of {event.playbook_name}, {event.source} -> {event.target}{back}; "
                f"T0 {event.t0.isoformat(timespec='seconds')}{declared}, RTO {fd(event.rto_seconds)}, "
                f"RPO {fd(event.rpo_seconds)}" + _window(event.drill)
            )
        case ev.RunResumed():
            forced = f" (playbook changed; forced: {event.reason})" if event.forced else ""
            return f"resumed by {person(event.operator)}{forced}"
        case ev.JournalRepaired():
            return f"journal: cut off torn line {event.line} ({event.dropped_bytes} bytes kept in {event.saved_to})"
        case ev.LockTakenOver():
            p = event.previous
            return f"lock: took over a stale lock of run {p.run_id} (pid {p.pid} on {p.host} is gone)"
        case ev.StepStarted():
            return f"{event.step}: started" + (f" (attempt {event.attempt})" if event.attempt > 1 else "")
        case ev.AttemptStarted():
            return f"{event.step}: attempt {event.attempt}"
        case ev.AttemptFailed():
            return f"{event.step}: attempt {event.attempt} failed: {event.error}; retry in {fd(event.retry_in_seconds)}"
        case ev.StepSucceeded():
            return f"{event.step}: succeeded in {fd(event.duration_seconds)}: {event.summary}"
        case ev.StepFailed():
            took = fd(event.duration_seconds)
            return f"{event.step}: FAILED after {took}: {event.error} (on_failure {event.on_failure})"
        case ev.StepInterrupted():
            return f"{event.step}: stopped by the pause; it runs again on continue or resume"
        case ev.StepChecked():
            return f"{event.step}: done-check says {'already done' if event.done else 'not done: running it again'}"
        case ev.StepSkipped():
            return f"{event.step}: skipped by {person(event.by)}: {event.reason}"
        case ev.StepProgress():
            return f"{event.step}: {event.text}"
        case ev.Fact() if event.kind in ("drill.probe", "drill.hold"):
            return _hold_line(event)
        case ev.Fact():
            text = describe_fact(event.kind, event.data)
            return f"{event.step}: {text}" if text else None
        case ev.RepeatFinished():
            return f"{event.step}: repetition {event.repetition} {event.outcome.value}: {event.summary}"
        case ev.ApprovalRequested():
            who = ", ".join(event.approvers) or "any operator"
            return (
                f"{event.step}: waiting for approval by {who} until {event.deadline.isoformat(timespec='seconds')}: "
                f"{event.prompt}"
            )
        case ev.ApprovalGranted() | ev.ApprovalRejected():
            verb = "approved" if isinstance(event, ev.ApprovalGranted) else "REJECTED"
            because = f": {event.reason}" if event.reason else ""
            return f"{event.step}: {verb} by {person(event.approver)} ({event.via}){because}"
        case ev.ApprovalRefused():
            return f"{event.step}: answer from {person(event.approver)} refused: {event.why}"
        case ev.ApprovalTimedOut():
            return f"{event.step}: no approval before the timeout"
        case ev.DecisionRequested():
            return f"{event.step or 'run'}: decision needed ({event.question.value})"
        case ev.DecisionMade():
            return f"{event.step or 'run'}: {person(event.by)} chose {event.choice.value}" + (
                f": {event.reason}" if event.reason else ""
            )
        case ev.RunPaused():
            return f"run paused ({event.reason.value}): {event.next}"
        case ev.ObjectiveAtRisk():
            return (
                f"RTO AT RISK: projected finish T+{fd(event.projected_seconds)} > RTO {fd(event.rto_seconds)} "
                f"({event.projected_finish.isoformat(timespec='seconds')})"
            )
        case ev.RtoBreached():
            return f"RTO BREACHED: T+{fd(event.elapsed_seconds)} > {fd(event.rto_seconds)}"
        case ev.RpoBreached():
            return f"RPO BREACHED: exposure {fd(event.exposure_seconds)} > {fd(event.rpo_seconds)} ({event.step})"
        case ev.RunInterrupted():
            return "run interrupted (forced)"
        case ev.RunFinished():
            if event.verdict is not None:
                return verdict_line(event.verdict)
            return f"run {event.ending.value} (exit {event.exit_code}); see `drctl report` for its verdict"
    return None


def _window(drill: ev.DrillInfo | None) -> str:
    if drill is None or not drill.window.declared:
        return ""
    if drill.window.inside:
        return f"; change window {drill.window.window}"
    if drill.window.sandbox:
        return "; outside the change windows (a sandbox rehearsal: they do not apply)"
    return f"; OUTSIDE the change windows: {drill.window.override_reason}"


def _hold_line(event: ev.Fact) -> str:
    """A drill's hold in words: each probe, then the hold's result."""
    data = event.data
    if event.kind == "drill.hold":
        verdict = "passed" if data.get("passed") else "FAILED"
        return f"{event.step}: {verdict}: {data.get('probes')} probes, {data.get('failed')} failed"
    seconds = data.get("seconds")
    took = f" in {fd(seconds)}" if isinstance(seconds, int | float) else ""
    result = f"{data.get('status')} ok" if data.get("ok") else f"FAILED ({data.get('error')})"
    return f"{event.step}: probe {data.get('n')} of {data.get('url')}: {result}{took}"


def approve_hint(run_id: str, event: ev.ApprovalRequested) -> str:
    reason = '--reason "..."' if event.require_reason else '[--reason "..."]'
    return f"{event.step}: to answer from another terminal: drctl approve {run_id} {event.step} {reason} [--reject]"


class PlainLines:
    """Timestamped lines, for logs and pipes (stdout is not a terminal)."""

    def __init__(self, stream: IO[str] | None = None, run_id: str = "RUN") -> None:
        self.stream = stream or sys.stdout
        self.run_id = run_id

    def __call__(self, record: Record) -> None:
        event = record.event
        if isinstance(event, ev.RunStarted):
            self.run_id = event.run_id
        line = describe(event)
        if line is not None:
            stamp = event.at.astimezone().strftime("%H:%M:%S")
            print(f"{stamp}  {line}", file=self.stream, flush=True)
        if isinstance(event, ev.ApprovalRequested):
            print(f"{' ' * 8}  {approve_hint(self.run_id, event)}", file=self.stream, flush=True)


class JsonLines:
    """The journal's own lines on stdout, for automation (already redacted)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout

    def __call__(self, record: Record) -> None:
        print(record.line, file=self.stream, flush=True)


_STYLE = {
    StepState.PENDING: "dim",
    StepState.RUNNING: "cyan",
    StepState.WAITING: "yellow",
    StepState.SUCCEEDED: "green",
    StepState.FAILED: "red",
    StepState.SKIPPED: "magenta",
}


class LiveTable:
    """A Rich live table (step, state, attempt, elapsed, budget), an RTO bar and the projected finish.

    Lines worth reading later (failures, approvals, objectives) print above the table as they happen.
    """

    def __init__(self, view: RunView | None = None, now: Any = None) -> None:
        from rich.console import Console
        from rich.live import Live

        self.view = view or RunView()
        self._lock = threading.Lock()
        self._now = now or (lambda: datetime.now().astimezone())
        self.console = Console(stderr=False)
        self.live = Live(self, console=self.console, refresh_per_second=4, transient=False)
        self._started = False

    def __call__(self, record: Record) -> None:
        event = record.event
        with self._lock:
            self.view.apply(event)
        if not self._started:
            self.live.start()
            self._started = True
        if not isinstance(event, ev.StepStarted | ev.StepSucceeded | ev.StepProgress | ev.AttemptStarted):
            line = describe(event)
            if line is not None:
                self.console.print(f"{event.at.astimezone().strftime('%H:%M:%S')}  {line}", highlight=False)
        if isinstance(event, ev.ApprovalRequested):
            self.console.print(f"{' ' * 8}  {approve_hint(self.view.run_id, event)}", highlight=False)

    @contextmanager
    def suspended(self) -> Iterator[None]:
        """Stop redrawing while someone types an answer."""
        running = self._started
        if running:
            self.live.stop()
        try:
            yield
        finally:
            if running:
                self.live.start()

    def stop(self) -> None:
        if self._started:
            self.live.refresh()
            self.live.stop()

    def __rich__(self) -> RenderableType:
        with self._lock:
            return self._render()

    def _render(self) -> RenderableType:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        view = self.view
        started = view.started
        if started is None:
            return Text("starting...")
        now = self._now()
        end = view.finished.at if view.finished else now
        elapsed = (end - started.t0).total_seconds()
        table = Table(box=None, pad_edge=False, expand=False)
        for column in ("step", "state", "attempt", "elapsed", "budget", "note"):
            table.add_column(column)
        for step in view.steps.values():
            if step.started_at is None:
                took = ""
            elif step.duration is not None and step.state is not StepState.RUNNING:
                took = fd(step.duration)
            else:
                took = fd((now - step.started_at).total_seconds())
            over = step.duration is not None and step.duration > step.info.budget_seconds > 0
            note = step.error or step.last_progress or step.summary
            table.add_row(
                step.id,
                Text(step.state.value + (" (check)" if step.by_check else ""), style=_STYLE[step.state]),
                str(step.attempt or ""),
                Text(took, style="red" if over else ""),
                fd(step.info.budget_seconds),
                Text(note[:60], overflow="ellipsis"),
            )
        rto = started.rto_seconds
        projection = self._projection(now)
        style = "red" if elapsed > rto or projection > rto else "green"
        filled = round(40 * min(1.0, elapsed / rto)) if rto else 40
        bar = Text.assemble(
            ("━" * filled, style), ("━" * (40 - filled), "grey37"), f"  {elapsed / rto:.0%} of the RTO" if rto else ""
        )
        phase = self._phase()
        # the RTO is when clients reach the target (the previous TTL after the DNS swap), not the run's end
        clients = ""
        if view.restored_at is not None:
            clients = f"   clients on the target by T+{fd((view.restored_at - started.t0).total_seconds())}"
        head = Text(
            f"{started.mode} {started.playbook_name} {started.source} -> {started.target}{phase}   "
            f"T+{fd(elapsed)} of RTO {fd(rto)}   projected finish T+{fd(projection)}{clients}",
            style="bold",
        )
        rehearsal = banner(started)
        if rehearsal:
            return Group(Text(rehearsal, style="bold black on yellow"), head, bar, table)
        return Group(head, bar, table)

    def _phase(self) -> str:
        """A drill's current phase: that of the latest step to start."""
        running = [s for s in self.view.steps.values() if s.started_at is not None and s.info.phase is not None]
        if not running:
            return ""
        latest = max(running, key=lambda s: s.started_at or datetime.min)
        phase = latest.info.phase
        return f"   phase: {phase.value}" if phase is not None else ""

    def _projection(self, now: datetime) -> float:
        started = self.view.started
        assert started is not None
        # the RTO is about a drill's failover phase alone (every step of any other run)
        nodes = [
            Node(i.id, i.needs, i.budget_seconds, i.background_every_seconds is not None)
            for i in (s.info for s in self.view.steps.values())
            if i.phase in (None, ev.Phase.FAILOVER)
        ]
        t0 = started.t0
        began = {s.id: (s.started_at - t0).total_seconds() for s in self.view.steps.values() if s.started_at}
        ended = {s.id: (s.finished_at - t0).total_seconds() for s in self.view.steps.values() if s.finished_at}
        return projected_finish(in_order(nodes), now=(now - t0).total_seconds(), started=began, finished=ended)
