"""The live view at a real terminal (a pty): its clock keeps ticking while an approval waits at the prompt, the
answer is typed in the view's own area, and the terminal is handed back on every way out (the last frame, then
the final lines, the cursor shown, the terminal's modes as they were). Without a terminal on stdout, the prompt
says what it waits for on stderr and stdout stays timestamped lines or pure JSON lines."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from drctl.durations import parse_duration
from drctl.errors import ExitCode
from tests.cli.run_helpers import Sandbox, wait_for
from tests.conftest import drctl_command

pytestmark = pytest.mark.slow

SHOW_CURSOR = b"\x1b[?25h"
HIDE_CURSOR = b"\x1b[?25l"
#: what a live display redraws with: cursor up, erase line
REDRAW = re.compile(rb"\x1b\[\d*A|\x1b\[2K")
HEADER = re.compile(rb"T\+(\w+) of RTO")

#: a sandbox estate behind one DNS record, with an approval gate before the swap
GATED_SANDBOX = """\
version: 1
name: status-page
objectives: {rto: 30m, rpo: 1h}
azure: {subscription: "${AZURE_SUBSCRIPTION_ID}"}
direction: {source: primary, target: secondary}
regions:
  primary:
    location: australiaeast
    resource_group: rg-status-aue
    web_apps: [app-status-aue]
    health_url: https://status-aue.example.com/healthz
    dns: {status: 20.53.1.1}
  secondary:
    location: australiasoutheast
    resource_group: rg-status-aus
    web_apps: [app-status-aus]
    health_url: https://status-aus.example.com/healthz
    dns: {status: 20.70.1.1}
dns:
  zone: example.com
  resource_group: rg-dns
  records: [{name: status, type: A}]
steps:
  - id: start-standby
    uses: standby.start_web_apps
  - id: target-health
    uses: health.http
    with: {url: "${{ target.health_url }}", samples: 2, interval: 100ms, max_p95: 10s}
  - id: approve
    uses: gate.approval
    with: {message: "Swap DNS to the secondary?"}
  - id: dns-swap
    needs: [approve, target-health]
    uses: dns.swap
"""

GATE = """\
  - {id: gate, uses: gate.approval, with: {message: "Fail over to west?"}}
  - {id: after, uses: test.record, with: {file: '{record}'}}
"""


class Terminal:
    """A drctl process at a pseudo-terminal of a fixed size, and everything it wrote there."""

    def __init__(self, box: Sandbox, *args: str, rows: int = 40, columns: int = 150) -> None:
        self.leader, self.follower = pty.openpty()
        fcntl.ioctl(self.follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.modes = termios.tcgetattr(self.follower)
        self.process = subprocess.Popen(
            drctl_command(*args),
            stdin=self.follower,
            stdout=self.follower,
            stderr=self.follower,
            cwd=box.root,
            env=box.env(TERM="xterm-256color", COLUMNS=str(columns), LINES=str(rows)),
        )
        self.output = bytearray()
        self._done = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._done.is_set():
            if select.select([self.leader], [], [], 0.05)[0]:
                try:
                    data = os.read(self.leader, 65536)
                except OSError:
                    return
                if not data:
                    return
                self.output.extend(data)

    def wait_for(self, text: bytes, after: int = 0, timeout: float = 30) -> int:
        """Where ``text`` first appears at or after ``after``, waiting for it."""
        wait_for(lambda: bytes(self.output).find(text, after) >= 0, timeout)
        return bytes(self.output).find(text, after)

    def type(self, keys: bytes) -> None:
        os.write(self.leader, keys)

    def finish(self, timeout: float = 30) -> int:
        code = self.process.wait(timeout)
        time.sleep(0.2)  # the last bytes on their way through the pty
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._done.set()
        self._reader.join(2)
        os.close(self.leader)
        os.close(self.follower)


@contextmanager
def terminal(box: Sandbox, *args: str) -> Iterator[Terminal]:
    term = Terminal(box, *args)
    try:
        yield term
    finally:
        term.close()


def header_seconds(output: bytes) -> list[float]:
    return [parse_duration(m.decode()).total_seconds() for m in HEADER.findall(output)]


def assert_handed_back(term: Terminal, last_words: bytes) -> None:
    """The live region stopped before the last words: the cursor shown after it was last hidden, nothing redrawn
    after that (no frame over the shell's prompt), and the terminal's modes (echo, line editing) as they were."""
    out = bytes(term.output)
    shown = out.rfind(SHOW_CURSOR)
    assert shown > out.rfind(HIDE_CURSOR) >= 0, "the cursor is left hidden"
    after = out[shown:]
    assert not REDRAW.search(after), f"redrawn after the hand-back: {after[-600:]!r}"
    assert last_words in after, f"{last_words!r} not after the live region: {after[-600:]!r}"
    modes = termios.tcgetattr(term.follower)
    assert modes[3] & (termios.ECHO | termios.ICANON) == term.modes[3] & (termios.ECHO | termios.ICANON)


def test_the_clock_ticks_while_the_prompt_waits_and_the_terminal_is_handed_back(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.playbook.write_text(GATED_SANDBOX)
    with terminal(box, "failover", str(box.playbook), "--sandbox") as term:
        asked = term.wait_for(b"Approve? [y/n] ")
        time.sleep(3.5)  # a person reading the question
        waited = header_seconds(bytes(term.output)[asked:])
        assert waited, "the header was not redrawn while the prompt waited"
        assert max(waited) - min(waited) >= 2, f"the header's clock stood still at the prompt: {waited}"

        typed = len(term.output)
        term.type(b"y")
        term.wait_for(b"Approve? [y/n] \x1b[0my", after=typed, timeout=5)  # echoed in the view's area
        term.type(b"\r")
        assert term.finish() == 0, bytes(term.output)[-2000:]
        assert_handed_back(term, b"journal: ")
    events = box.journal(box.run_ids()[0])
    granted = next(e for e in events if e["type"] == "approval.granted")
    assert granted["via"] == "prompt"
    assert events[-1]["type"] == "run.finished"


def test_ctrl_c_twice_while_the_table_runs_hands_the_terminal_back(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.write("  - {id: slow, uses: test.record, with: {file: '{record}', sleep: 20s}}\n")
    with terminal(box, "failover", str(box.playbook)) as term:
        wait_for(lambda: any(e["event"] == "run" for e in box.entries()))
        term.wait_for(b"T+")  # the live table is up
        # a key pressed while it runs (Enter, to wake the screen) is not echoed under the display
        assert not termios.tcgetattr(term.follower)[3] & termios.ECHO
        term.process.send_signal(signal.SIGINT)
        term.wait_for(b"pausing: ")
        term.process.send_signal(signal.SIGINT)
        assert term.finish() == ExitCode.INTERRUPTED
        assert_handed_back(term, b"forced: run ")


def test_sigterm_at_the_prompt_pauses_and_hands_the_terminal_back(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    box.write(GATE)
    with terminal(box, "failover", str(box.playbook)) as term:
        term.wait_for(b"Approve? [y/n] ")
        term.type(b"ye")  # half an answer: the keys are being read one by one
        term.wait_for(b"\x1b[0mye")
        term.process.send_signal(signal.SIGTERM)
        assert term.finish() == ExitCode.PAUSED
        assert_handed_back(term, b"paused: to go on: drctl resume ")
    assert box.journal(box.run_ids()[0])[-1]["type"] == "run.paused"


@contextmanager
def piped(box: Sandbox, *args: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """stdout a pipe (a log, CI), stdin and stderr a terminal (the operator's)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        drctl_command(*args),
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=follower,
        cwd=box.root,
        env=box.env(TERM="xterm-256color"),
        text=True,
    )
    os.close(follower)
    try:
        yield process, leader
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)


def read_until(fd: int, text: str, timeout: float = 30) -> str:
    seen = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in seen:
        assert time.monotonic() < deadline, f"never saw {text!r} in {seen.decode(errors='replace')!r}"
        if select.select([fd], [], [], 0.1)[0]:
            seen += os.read(fd, 4096)
    return seen.decode(errors="replace")


@pytest.mark.parametrize("output", ["text", "jsonl"])
def test_without_a_terminal_on_stdout_the_prompt_says_what_it_waits_for_on_stderr(tmp_path: Path, output: str) -> None:
    box = Sandbox(tmp_path)
    box.write(GATE)
    with piped(box, "failover", str(box.playbook), "--output", output) as (process, leader):
        asked = read_until(leader, "Approve? [y/n] ")
        assert "Approval needed for step gate (approvers: any operator):" in asked
        assert "Fail over to west?" in asked
        assert "drctl approve " in asked, "how to answer from another terminal"
        assert "\x1b[" not in asked, "no live display on a terminal that only has the questions"
        os.write(leader, b"y\n")
        stdout, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    lines = stdout.splitlines()
    if output == "jsonl":
        events = [json.loads(line) for line in lines]  # every line of stdout is JSON: nothing else goes there
        assert events[0]["type"] == "run.started"
        assert "approval.granted" in [e["type"] for e in events]
        return
    assert all(re.match(r"\d\d:\d\d:\d\d  |\s{10}", line) for line in lines), stdout
    waiting = next(line for line in lines if "waiting for approval" in line)
    assert waiting.endswith("gate: waiting for approval by any operator until " + waiting.split(" until ")[1])
    assert waiting.endswith(": Fail over to west?")
    assert any("to answer from another terminal: drctl approve" in line for line in lines)
    assert "\x1b[" not in stdout
