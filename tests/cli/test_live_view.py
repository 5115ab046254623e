"""The live view's own logic, without a terminal or a sandbox: notes cut at a word with a visible ellipsis (a
number keeps its unit), each step's row showing its latest line and its final summary once it ends, rows that
fit the screen with the question below them, and the keys of an answer typed with the terminal's echo off."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import struct
import termios
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from drctl.cli.live import LiveTable, ellipsize, step_line, visible_steps
from drctl.cli.prompts import LineEditor
from drctl.engine import events as ev
from drctl.engine.journal import Record
from drctl.engine.replay import StepState, StepView

T0 = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
IDENTITY = ev.Identity(os_user="ops", host="laptop")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def info(step: str) -> ev.StepInfo:
    return ev.StepInfo(
        id=step,
        uses="test.record",
        needs=(),
        budget_seconds=60,
        timeout_seconds=600,
        mutating=False,
        on_failure="abort",
        attempts=1,
    )


def started(*steps: str) -> ev.RunStarted:
    return ev.RunStarted(
        at=T0,
        run_id="20260303T020000Z-abcd",
        playbook_name="wallet",
        playbook_path="/p.yaml",
        playbook_sha256="0" * 64,
        mode="failover",
        source="east",
        target="west",
        operator=IDENTITY,
        pid=1,
        drctl_version="0",
        t0=T0,
        declared=False,
        rto_seconds=3600,
        rpo_seconds=900,
        options={},
        steps=tuple(info(s) for s in steps),
        excluded_steps=(),
        critical_path=steps,
        critical_path_seconds=60.0 * len(steps),
    )


# --- notes: cut at a word, with a visible ellipsis, a number never cut from its unit -------------------------


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("https://status-aus.example.com/healthz: 3/3 ok, p95 6ms over the limit", "6ms"),
        ("https://status-aus.example.com/healthz: 3/3 ok, p95 100ms over the limit", "100ms"),
    ],
)
def test_a_note_cut_inside_a_number_keeps_the_number_whole_or_leaves_it_out(text: str, unit: str) -> None:
    start = text.index(unit)
    for width in range(start + 2, start + len(unit) + 2):  # every cut that once fell inside the number
        note = ellipsize(text, width)
        assert len(note) <= width
        assert note.endswith("…"), note
        assert unit[:-1] not in note or unit in note, f"{note!r} cuts {unit} from its unit"
        assert note[:-1] == text[: len(note) - 1], "the note is the text's beginning"
    assert ellipsize(text, len(text)) == text
    assert ellipsize(text, len(text) - 1).endswith("over the…")


def test_a_note_is_cut_at_a_word_and_says_so() -> None:
    note = ellipsize("1 records moved, verified at the authoritative servers; clients switch by 13:06:12", 40)
    assert note == "1 records moved, verified at the…"
    # one long word (a URL): cut between characters, still with the ellipsis
    assert ellipsize("https://" + "x" * 60, 20) == "https://" + "x" * 11 + "…"
    # no space to cut at: between characters, but a number keeps its unit
    assert ellipsize("latency:p95=6ms,p99=100ms,max=250ms", 23) == "latency:p95=6ms,p99=…"
    assert ellipsize("line one\nline two", 40) == "line one line two"
    assert ellipsize("anything", 1) == "…"
    assert ellipsize("anything", 0) == ""


_NUMBERS = st.builds(lambda n, u: f"{n}{u}", st.integers(0, 99999), st.sampled_from(["ms", "s", "m", "h", "%", ""]))
_WORDS = st.text(alphabet="abcdefghij,:;/-", min_size=1, max_size=10)


@given(
    first=st.text(alphabet="abcdefghij", min_size=1, max_size=10),
    rest=st.lists(st.tuples(st.sampled_from([" ", " ", ",", ""]), st.one_of(_WORDS, _NUMBERS)), max_size=20),
    width=st.integers(2, 90),
)
def test_a_note_fits_its_width_and_never_splits_a_number(first: str, rest: list[tuple[str, str]], width: int) -> None:
    text = first + "".join(sep + word for sep, word in rest)  # "" joins words into one long one (a URL, k=v,k=v)
    note = ellipsize(text, width)
    assert len(note) <= width
    if len(text) <= width:
        assert note == text
        return
    assert note.endswith("…")
    kept = note[:-1]
    assert text.startswith(kept)
    for number in re.finditer(r"\d+(?:[.,:/]\d+)*[A-Za-zµ%]*", text):
        assert not number.start() < len(kept) < number.end(), f"{note!r} splits {number.group()!r}"


# --- each row shows its step's latest line, and its final summary once it ends --------------------------------


def feed(table: LiveTable, *events: ev.Event) -> None:
    for seq, event in enumerate(events, start=table.view.events + 1):
        table(Record(seq, event, ""))


def string_console(width: int, height: int = 40) -> Console:
    return Console(file=io.StringIO(), width=width, height=height, force_terminal=False, color_system=None)


def screen(table: LiveTable, width: int = 120, height: int = 40) -> str:
    out = string_console(width, height)
    out.print(table.render(width, height))
    return out.file.getvalue()  # type: ignore[attr-defined, no-any-return]


def row(text: str, step: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(step))


@pytest.fixture
def table() -> Iterator[LiveTable]:
    made = LiveTable(now=lambda: at(30), console=string_console(120))
    yield made
    made.stop()


def test_each_row_shows_its_latest_line_and_its_final_summary_once_it_ends(table: LiveTable) -> None:
    feed(table, started("standby", "gate", "swap"), ev.StepStarted(at=at(1), step="standby", attempt=1))
    feed(table, ev.StepProgress(at=at(2), step="standby", text="starting web app app-aus"))
    feed(table, ev.StepProgress(at=at(3), step="standby", text="waiting for app-aus to run"))
    assert "waiting for app-aus to run" in row(screen(table), "standby")

    feed(
        table,
        ev.StepSucceeded(
            at=at(4), step="standby", attempt=1, summary="1 web apps Running", changed=True, duration_seconds=3
        ),
        # a line about the step after its end does not replace its summary
        ev.StepProgress(at=at(5), step="standby", text="late progress"),
        ev.StepStarted(at=at(5), step="gate", attempt=1),
        ev.ApprovalRequested(
            at=at(6),
            step="gate",
            request_id="gate.1",
            prompt="Swap DNS?",
            require_reason=False,
            approvers=(),
            deadline=at(600),
        ),
    )
    text = screen(table)
    assert "1 web apps Running" in row(text, "standby")
    assert "starting web app" not in text
    assert "waiting for approval by any operator: Swap DNS?" in row(text, "gate")

    feed(
        table,
        ev.StepStarted(at=at(7), step="swap", attempt=1),
        ev.StepFailed(
            at=at(8),
            step="swap",
            attempt=1,
            error="DNS record not found",
            error_type="NotFound",
            duration_seconds=1,
            on_failure="abort",
        ),
    )
    assert "DNS record not found" in row(screen(table), "swap")


def test_the_lines_of_a_step_are_those_the_plain_view_prints() -> None:
    assert step_line(ev.StepProgress(at=at(1), step="a", text="p95 6ms")) == ("a", "p95 6ms")
    assert step_line(ev.StepStarted(at=at(1), step="a", attempt=2)) == ("a", "attempt 2")
    retry = ev.AttemptFailed(at=at(1), step="a", attempt=1, error="503", error_type="Transient", retry_in_seconds=2)
    assert step_line(retry) == ("a", "attempt 1 failed: 503; retry in 2s")
    assert step_line(ev.RtoBreached(at=at(1), elapsed_seconds=4000, rto_seconds=3600)) is None


def test_a_long_note_is_cut_to_the_terminal_with_its_ellipsis(table: LiveTable) -> None:
    long = "https://status-aus.example.com/healthz: 3/3 ok, p95 6ms, and a good deal more to say about it"
    feed(table, started("health"), ev.StepStarted(at=at(1), step="health", attempt=1))
    feed(table, ev.StepProgress(at=at(2), step="health", text=long))
    line = row(screen(table, width=80), "health")
    assert line.rstrip().endswith("…"), line
    assert len(line.rstrip()) <= 80
    wide = row(screen(table, width=200), "health")
    assert long in wide


# --- the rows that fit, and the question below them ----------------------------------------------------------


def test_rows_that_do_not_fit_keep_what_is_running_waiting_or_failed() -> None:
    steps = [StepView(info(f"s{i:03}")) for i in range(200)]
    for i in range(100):
        steps[i].state, steps[i].finished_at = StepState.SUCCEEDED, at(i)
    steps[150].state = StepState.RUNNING
    steps[160].state = StepState.WAITING
    steps[170].state, steps[170].finished_at = StepState.FAILED, at(500)
    shown, rest = visible_steps(steps, 10)
    ids = [s.id for s in shown]
    assert len(ids) == 9
    assert rest is not None
    assert {"s150", "s160", "s170"} <= set(ids)
    assert ids == sorted(ids), "in playbook order"
    assert "s099" in ids, "then the latest to finish"
    assert rest == "… 191 more steps: 94 succeeded, 97 pending"
    many = [StepView(info(f"s{i:04}")) for i in range(2000)]
    assert visible_steps(many, 10)[1] == "… 1,991 more steps: 1,991 pending"
    assert visible_steps(steps[:5], 10) == (steps[:5], None)


def test_the_question_stays_on_screen_below_a_table_taller_than_the_terminal() -> None:
    made = LiveTable(now=lambda: at(30), console=string_console(100, height=16))
    try:
        feed(made, started(*(f"step{i:02}" for i in range(40))))
        made.show_prompt(
            ["Approval needed for step step07 (approvers: any operator):", "  Swap DNS?"], ("Approve? ", "y")
        )
        lines = screen(made, 100, 16).splitlines()
        assert len(lines) <= 15
        assert lines[-1].rstrip() == "Approve? y"
        assert any("T+30s of RTO 1h" in line for line in lines)
        assert any(line.startswith("… ") and "more steps" in line for line in lines)
    finally:
        made.stop()


# --- an answer typed with the echo off -----------------------------------------------------------------------


def test_the_line_editor_does_what_a_terminal_in_line_mode_would() -> None:
    editor = LineEditor()
    assert editor.feed("yes\x7f\x7f") is None
    assert editor.buffer == "y"
    assert editor.feed("\x1b[A\x1b[D") is None, "arrow keys are ignored"
    assert editor.feed("\r") == "y"
    assert editor.feed("checked the lag\x17replica lag\n") == "checked the replica lag"
    assert editor.feed("wrong\x15right\r\nnext answer\n") == "right"
    assert editor.feed("") == "next answer", "typed ahead: kept for the next question"
    assert editor.feed("\x04") is None
    assert editor.eof
    editor.eof = False
    assert editor.feed("a\x04b\n") == "ab", "Ctrl-D ends input only on an empty line"


# --- the hand-back ---------------------------------------------------------------------------------------------


def test_stop_gives_the_terminal_back_even_when_it_interrupts_an_update_of_the_view() -> None:
    """What a signal handler (a second Ctrl-C) or an exception's ``finally`` does: stop while an answer is being
    typed, on the very thread that holds the view's lock. It must neither hang nor leave the echo off."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    before = termios.tcgetattr(follower)[3] & (termios.ECHO | termios.ICANON)
    written = bytearray()
    reading = threading.Event()

    def drain() -> None:
        while not reading.is_set():
            if select.select([leader], [], [], 0.05)[0]:
                written.extend(os.read(leader, 65536))

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()
    with os.fdopen(os.dup(follower), "w") as file:
        made = LiveTable(now=lambda: at(30), console=Console(file=file, force_terminal=True, width=100, height=30))
        prompts = made.prompts(fd=follower)
        feed(made, started("gate"))
        answers: list[str | None] = []
        asking = threading.Thread(target=lambda: answers.append(prompts.line("Approve? [y/n] ", None)))
        asking.start()
        wait_until(lambda: not termios.tcgetattr(follower)[3] & termios.ICANON)  # the answer's keys, one by one
        with made._lock:  # the handler's thread was inside the view's update
            begun = time.monotonic()
            made.stop()
            took = time.monotonic() - begun
        asking.join(5)
        time.sleep(0.1)
    reading.set()
    drainer.join(2)
    after = termios.tcgetattr(follower)[3] & (termios.ECHO | termios.ICANON)
    os.close(leader)
    os.close(follower)
    assert answers == [None], "the question closed with the view"
    assert after == before, "the terminal's echo and line mode are back"
    assert took < 3
    out = bytes(written)
    assert out.rfind(b"\x1b[?25h") > out.rfind(b"\x1b[?25l") >= 0, "the cursor is shown again"
    assert b"Approve? [y/n]" in out


def wait_until(condition: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
