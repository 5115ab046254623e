"""A periodic message resumed after a crash: the period already sent is not sent again, the next one is.

The real ``notify`` action posts to a real HTTP receiver on loopback; the run uses a fake clock, is cut right after
the first repetition's message was journaled sent (as kill -9 there would leave it), and resumed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from drctl.core.clock import FakeClock
from drctl.engine import events as ev
from drctl.errors import ExitCode
from tests.engine.conftest import Workspace, crash_after, plan_for, resume_run_in, run_plan

STEPS = """\
  - id: updates
    uses: notify
    needs: []
    with: {channels: [hook], title: "P1 update", message: "{steps_done} steps done", every: 30m}
  - {id: work, uses: test.record, needs: [updates], timeout: 3h, with: {file: '{record}', sleep: 33m}}
notifications:
  channels:
    hook: {type: webhook, url: "${HOOK_URL}", audiences: [production, drill]}
"""


class Receiver(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.keys: list[str] = []


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        assert isinstance(self.server, Receiver)
        self.server.keys.append(self.headers.get("Idempotency-Key", ""))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        del format, args


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("HOOK_URL", f"http://127.0.0.1:{server.server_address[1]}/hook")
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_a_period_sent_before_a_crash_is_not_sent_again_on_resume(ws: Workspace, receiver: Receiver) -> None:
    import os

    path = ws.playbook(STEPS)
    first = run_plan(plan_for(path, environ=dict(os.environ)), ws, clock=FakeClock())
    assert first.exit_code == ExitCode.OK
    assert [e.repetition for e in first.of(ev.RepeatFinished)] == [1]
    assert len(receiver.keys) == 2  # the step's own message, then the first repetition after 30 minutes
    assert len(set(receiver.keys)) == 2, "one idempotency key per period"
    kept = crash_after(first, "fact", "updates", nth=4)  # sending, sent; sending, sent: before repeat.finished
    later = FakeClock(start=datetime(2026, 3, 3, 2, 34, tzinfo=UTC))
    again = resume_run_in(ws, first.result.run_id, clock=later)
    assert again.exit_code == ExitCode.OK
    resumed = again.events[kept:]
    assert [e.repetition for e in resumed if isinstance(e, ev.RepeatFinished)] == [1], "period 1 taken up again"
    assert not [e for e in resumed if isinstance(e, ev.Fact) and e.kind.startswith("notify.")], "and not resent"
    assert len(receiver.keys) == 2
