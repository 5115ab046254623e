"""Showing a run while it runs: a Rich live table at a terminal, timestamped lines otherwise, or the journal's
own JSON lines (``--output jsonl``). Every view is a journal listener: it sees exactly what was journaled,
already redacted, in journal order."""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Sequence
from contextlib import suppress
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from drctl.cli.facts_view import describe_fact
from drctl.cli.prompts import AreaPrompts
from drctl.cli.verdict_view import banner, verdict_line
from drctl.core.schedule import Node
from drctl.durations import format_duration as fd
from drctl.engine import events as ev
from drctl.engine.identity import describe as person
from drctl.engine.journal import Record
from drctl.engine.objectives import in_order, projected_finish
from drctl.engine.replay import RunView, StepState, StepView

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text


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


def live_terminal(stream: IO[str]) -> bool:
    """A terminal the live table can redraw: a tty that understands cursor movement (not TERM=dumb)."""
    try:
        if not stream.isatty():
            return False
    except (OSError, ValueError):
        return False
    return os.environ.get("TERM", "").lower() not in ("dumb", "unknown")


# a number with its unit or its digits (6ms, 100ms, 5m03s, 3/3, 1.5, 99.9%): one unit, never split
_NUMBER = re.compile(r"\d+(?:[.,:/]\d+)*[A-Za-zµ%]*")
_SPACES = re.compile(r"\s+")


def ellipsize(text: str, width: int) -> str:
    """``text`` on one line of at most ``width`` characters; when cut, cut at a word (a number keeps its unit:
    ``p95 6ms`` is never ``p95 6m``) and say so with a visible ``…``."""
    text = _SPACES.sub(" ", text).strip()
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    limit = width - 1  # room for the ellipsis
    cut = limit
    space = text.rfind(" ", 0, limit + 1)
    if space >= limit // 2:
        cut = space  # a word boundary not too far back
    else:
        # one long word (a URL, an id): cut between characters, but never inside a number and its unit
        for number in _NUMBER.finditer(text):
            if number.start() < cut < number.end():
                cut = number.start() if number.start() > 0 else cut
                break
            if number.start() >= cut:
                break
    kept = text[:cut].rstrip(" ,;:(-")
    return f"{kept}…"


#: events that end a step: its row keeps their line (the final summary), whatever comes after
_ENDINGS = (ev.StepSucceeded, ev.StepFailed, ev.StepSkipped, ev.StepChecked, ev.RepeatFinished)


def step_line(event: ev.Event) -> tuple[str, str] | None:
    """The step an event is about and its line as the step's row shows it (the latest one wins)."""
    step = getattr(event, "step", None)
    if not isinstance(step, str) or not step:
        return None
    match event:
        case ev.StepStarted():
            return step, f"attempt {event.attempt}" if event.attempt > 1 else ""
        case ev.StepSucceeded():
            return step, event.summary
        case ev.StepFailed():
            return step, event.error
        case ev.StepSkipped():
            return step, f"skipped: {event.reason}"
        case ev.StepInterrupted():
            return step, "stopped by the pause"
        case ev.ApprovalRequested():
            who = ", ".join(event.approvers) or "any operator"
            return step, f"waiting for approval by {who}: {event.prompt}"
    line = describe(event)
    prefix = f"{step}: "
    if line is None or not line.startswith(prefix):
        return None
    return step, line[len(prefix) :]


def fallback_note(step: StepView) -> str:
    """A step's line when this view saw none of its events (a resumed run): what its state says last."""
    if step.state is StepState.FAILED:
        return step.error
    if step.state in (StepState.SUCCEEDED, StepState.SKIPPED):
        return step.summary or step.last_progress
    if step.state in (StepState.RUNNING, StepState.WAITING):
        return step.last_progress or step.error
    return ""


_ACTIVE = (StepState.RUNNING, StepState.WAITING, StepState.FAILED)


def visible_steps(steps: Sequence[StepView], room: int) -> tuple[list[StepView], str | None]:
    """The rows that fit in ``room`` lines, in playbook order, and a line for the rest.

    What a person must see comes first: steps running, waiting or failed; then the latest to finish; then the
    next to start. A playbook of 2,000 steps keeps the header and the prompt on the screen.
    """
    if len(steps) <= room:
        return list(steps), None
    room = max(1, room - 1)  # the line that counts the rest
    order = {s.id: i for i, s in enumerate(steps)}
    active = [s for s in steps if s.state in _ACTIVE]
    done = sorted(
        (s for s in steps if s.state not in _ACTIVE and s.finished_at is not None),
        key=lambda s: s.finished_at or datetime.min,
        reverse=True,
    )
    waiting = [s for s in steps if s.state not in _ACTIVE and s.finished_at is None]
    chosen = (active + done + waiting)[:room]
    shown = sorted(chosen, key=lambda s: order[s.id])
    ids = {s.id for s in shown}
    hidden: dict[str, int] = {}
    for s in steps:
        if s.id not in ids:
            hidden[s.state.value] = hidden.get(s.state.value, 0) + 1
    counts = ", ".join(f"{n:,} {state}" for state, n in hidden.items())
    return shown, f"… {len(steps) - len(shown):,} more steps: {counts}"


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

#: columns between the table's cells (Rich's default padding, no edge)
_GAP = 2
#: the narrowest a note gets before the terminal is simply too narrow
_MIN_NOTE = 16


class LiveTable:
    """A Rich live table (step, state, attempt, elapsed, budget, latest line), an RTO bar and the projected finish,
    with an area below it for the question being asked.

    Lines worth reading later (failures, approvals, objectives) print above the table as they happen. The display
    keeps running while a person answers (its clock is the run's, and the run's clock does not stop for them);
    ``stop`` gives the terminal back on every way out: the final frame, a new line, the cursor shown, the
    terminal's modes restored.
    """

    def __init__(self, view: RunView | None = None, now: Any = None, console: Any = None) -> None:
        from rich.console import Console
        from rich.live import Live

        self.view = view or RunView()
        self._lock = threading.Lock()
        self._now = now or (lambda: datetime.now().astimezone())
        self.console = console or Console(stderr=False)
        self.live = Live(self, console=self.console, refresh_per_second=4, transient=False)
        self._started = False
        self._stopping = threading.Event()
        #: step -> its latest line, from the events this view saw
        self._latest: dict[str, str] = {}
        self._prompt_lines: list[str] = []
        self._entry: tuple[str, str] | None = None
        self._prompts: AreaPrompts | None = None
        self._last: RenderableType | None = None

    def __call__(self, record: Record) -> None:
        event = record.event
        with self._lock:
            self.view.apply(event)
            latest = step_line(event)
            if latest is not None:
                step = self.view.steps.get(latest[0])
                ended = step is not None and step.state in (StepState.SUCCEEDED, StepState.FAILED, StepState.SKIPPED)
                if not ended or isinstance(event, _ENDINGS):
                    self._latest[latest[0]] = latest[1]
        if self._stopping.is_set():
            return  # the terminal was handed back: the journal has the rest
        self._ensure_started()
        if not isinstance(event, ev.StepStarted | ev.StepSucceeded | ev.StepProgress | ev.AttemptStarted):
            line = describe(event)
            if line is not None:
                self.console.print(f"{event.at.astimezone().strftime('%H:%M:%S')}  {line}", highlight=False)
        if isinstance(event, ev.ApprovalRequested):
            self.console.print(f"{' ' * 8}  {approve_hint(self.view.run_id, event)}", highlight=False)

    def _ensure_started(self) -> None:
        if not self._started and not self._stopping.is_set():
            self._started = True
            if self._prompts is not None:
                self._prompts.quiet()
            self.live.start()

    def prompts(self, fd: int | None = None) -> AreaPrompts:
        """Questions asked in this display's area, answers read from ``fd`` (stdin)."""
        self._prompts = AreaPrompts(self, fd)
        return self._prompts

    def show_prompt(self, lines: Sequence[str], entry: tuple[str, str] | None) -> None:
        with self._lock:
            changed = (list(lines), entry) != (self._prompt_lines, self._entry)
            self._prompt_lines, self._entry = list(lines), entry
        if changed and not self._stopping.is_set():
            self._ensure_started()
            self.live.refresh()  # echo a key now, not at the next tick

    def clear_prompt(self) -> None:
        self.show_prompt([], None)

    def stop(self) -> None:
        """Give the terminal back: safe from any thread, from a signal handler, and more than once."""
        if self._stopping.is_set():
            # a stop already under way was cut short (a signal during it): at least show the cursor
            if self._started:
                self._write_raw("\x1b[?25h")
            return
        self._stopping.set()
        if self._prompts is not None:
            self._prompts.close()  # the terminal's modes first: the process may be about to end
        if self._lock.acquire(timeout=0.5):
            self._prompt_lines, self._entry = [], None
            self._lock.release()
        if not self._started:
            return
        # Live's lock may be held by its refresh thread waiting on the console, which this very thread may hold
        # when a signal arrived mid-print: wait a moment, then hand back without the final frame
        live_lock = self.live._lock
        if live_lock.acquire(timeout=1.0):
            try:
                self.live.stop()  # the final frame, a new line, the cursor shown, stdout and stderr back
                return
            except Exception:  # noqa: S110 - fall through to the plain hand-back below
                pass
            finally:
                live_lock.release()
        self.live._disable_redirect_io()
        self._write_raw("\r\n\x1b[?25h")

    def _write_raw(self, text: str) -> None:
        with suppress(OSError, ValueError, AttributeError):  # the terminal is gone: nothing to give back
            os.write(self.console.file.fileno(), text.encode())

    def __rich__(self) -> RenderableType:
        # a render called from a signal handler must not wait for the thread it interrupted
        if not self._lock.acquire(timeout=0.5):
            return self._last if self._last is not None else ""
        try:
            self._last = self._render()
            return self._last
        finally:
            self._lock.release()

    def _render(self) -> RenderableType:
        width, height = self.console.size
        return self.render(width, height)

    def render(self, width: int, height: int) -> RenderableType:
        """The display for a terminal of this size: the steps that fit, the question always in sight."""
        from rich.console import Group
        from rich.text import Text

        view = self.view
        started = view.started
        if started is None:
            return Text("starting...")
        now = self._now()
        end = view.finished.at if view.finished else now
        elapsed = (end - started.t0).total_seconds()
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
            no_wrap=True,
            overflow="ellipsis",
        )
        rehearsal = banner(started)
        top: list[RenderableType] = [Text(rehearsal, style="bold black on yellow", no_wrap=True)] if rehearsal else []
        prompt = self._prompt_area()
        prompt_height = sum(max(1, -(-len(t.plain) // max(1, width))) for t in prompt)
        room = height - len(top) - 3 - prompt_height - 1  # head, bar, column titles; the cursor's own line
        return Group(*top, head, bar, self._table(now, width, room), *prompt)

    def _table(self, now: datetime, width: int, room: int) -> RenderableType:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        shown, rest = visible_steps(list(self.view.steps.values()), room)
        cells: list[list[str]] = []
        for step in shown:
            if step.started_at is None:
                took = ""
            elif step.duration is not None and step.state is not StepState.RUNNING:
                took = fd(step.duration)
            else:
                took = fd((now - step.started_at).total_seconds())
            state = step.state.value + (" (check)" if step.by_check else "")
            cells.append([step.id, state, str(step.attempt or ""), took, fd(step.info.budget_seconds)])
        titles = ("step", "state", "attempt", "elapsed", "budget")
        used = sum(max(len(c) for c in [title, *(row[i] for row in cells)]) for i, title in enumerate(titles))
        note_width = max(_MIN_NOTE, width - used - _GAP * len(titles))
        table = Table(box=None, pad_edge=False, expand=False)
        for title in titles:
            table.add_column(title, no_wrap=True)
        table.add_column("note", no_wrap=True, overflow="ellipsis", max_width=note_width)
        for step, (sid, state, attempt, took, budget) in zip(shown, cells, strict=True):
            over = step.duration is not None and step.duration > step.info.budget_seconds > 0
            note = self._latest[sid] if sid in self._latest else fallback_note(step)
            table.add_row(
                sid,
                Text(state, style=_STYLE[step.state]),
                attempt,
                Text(took, style="red" if over else ""),
                budget,
                ellipsize(note, note_width),
            )
        if rest is not None:
            return Group(table, Text(rest, style="dim", no_wrap=True, overflow="ellipsis"))
        return table

    def _prompt_area(self) -> list[Text]:
        from rich.text import Text

        if not self._prompt_lines and self._entry is None:
            return []
        area: list[Text] = [Text("")]  # a blank line between the steps and the question
        area += [Text(line, style="yellow") for line in self._prompt_lines if line.strip()]
        if self._entry is not None:
            question, typed = self._entry
            area.append(Text.assemble((question, "bold"), typed, (" ", "reverse")))
        return area

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
