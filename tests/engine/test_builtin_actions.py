"""The built-in run-time actions: wait (a duration, or polling a URL) and gate.approval."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from drctl.core.clock import FakeClock
from drctl.engine import events as ev
from drctl.errors import ExitCode
from tests.engine.conftest import Workspace, plan_for, run_plan


@pytest.fixture
def flaky_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A local URL that answers 503 twice, then 200."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    answers = [503, 503, 200]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(answers.pop(0) if len(answers) > 1 else answers[0])
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/ready"
    server.shutdown()


def test_wait_sleeps_its_duration_on_the_run_clock(ws: Workspace) -> None:
    clock = FakeClock()
    ran = run_plan(plan_for(ws.playbook("  - {id: hold, uses: wait, with: {duration: 10m}}\n")), ws, clock=clock)
    assert ran.of(ev.StepSucceeded)[0].summary == "waited 10m"
    assert clock.monotonic() == 600


def test_wait_until_url_polls_until_the_expected_status(ws: Workspace, flaky_endpoint: str) -> None:
    poll = f"until_url: '{flaky_endpoint}', expect_status: 200, poll_interval: 5s"
    path = ws.playbook(f"  - {{id: ready, uses: wait, with: {{{poll}}}}}\n")
    ran = run_plan(plan_for(path), ws)
    assert ran.exit_code == ExitCode.OK
    assert ran.of(ev.StepSucceeded)[0].summary == f"{flaky_endpoint} answered 200 after 3 poll(s)"
    assert [e.text for e in ran.of(ev.StepProgress)] == [f"{flaky_endpoint} answered 503; expecting 200"] * 2


def test_wait_until_url_gives_up_at_the_step_timeout(ws: Workspace) -> None:
    path = ws.playbook(
        "  - {id: ready, uses: wait, timeout: 1m, with: {until_url: 'http://127.0.0.1:9/never', poll_interval: 10s}}\n"
    )
    ran = run_plan(plan_for(path), ws)
    (failed,) = ran.of(ev.StepFailed)
    assert failed.timed_out
