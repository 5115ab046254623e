"""Helpers for drill tests: playbooks of test.record steps, a health endpoint per region, drills on a fake clock."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from drctl.actions.runtime import Implementation
from drctl.core.clock import FakeClock
from drctl.engine import events as ev
from drctl.engine.journal import read_journal
from drctl.engine.operator import Operator, Unattended
from drctl.engine.runplan import RunPlan, plan_for_mode
from drctl.engine.session import DrillRequest, Host, RunOptions, RunRequest, RunResult, start_planned
from drctl.planning.load import load_playbook
from drctl.playbook.enums import Mode
from tests.conftest import cut_as_a_crash

HEAD = """\
version: 1
name: {name}
objectives: {{rto: {rto}, rpo: 15m, mttr: 45m}}
azure: {{subscription: "00000000-0000-0000-0000-000000000000"}}
direction: {{source: east, target: west}}
regions:
  east:
    location: australiaeast
    resource_group: rg-east
    health_url: "{base}/east"
{east_sql}  west:
    location: australiasoutheast
    resource_group: rg-west
    health_url: "{base}/west"
{west_sql}drill: {{hold: {hold}, probe_interval: {interval}}}
{windows}steps:
"""

#: a drill of four steps: promote (mutating, restores the service), start apps in parallel, a health check, and
#: a cutover that records service.restored
STEPS = """\
  - id: promote
    uses: test.record
    needs: []
    budget: 5m
    with: {file: "{record}", sleep: 4m, mutating: true}
  - id: start-apps
    uses: test.record
    needs: []
    budget: 2m
    with: {file: "{record}", sleep: 1m, mutating: true}
  - id: check
    uses: test.record
    needs: [promote, start-apps]
    budget: 1m
    with: {file: "{record}", sleep: 30s}
  - id: cutover
    uses: test.record
    needs: [check]
    budget: 2m
    with: {file: "{record}", sleep: 1m, mutating: true, fact: {kind: service.restored, data: {}}}
"""

#: Tue and Thu 02:00-04:00 in Sydney, as the operations appendix says
SYDNEY_WINDOWS = 'change_windows:\n  - {days: [tue, thu], start: "02:00", end: "04:00", timezone: Australia/Sydney}\n'


@pytest.fixture(autouse=True)
def test_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRCTL_ENABLE_TEST_ACTIONS", "1")


class Health:
    """A health endpoint for both regions on loopback: ``/east`` and ``/west`` answer the status set here."""

    def __init__(self) -> None:
        self.status: dict[str, int] = {"/east": 200, "/west": 200}
        #: statuses to answer next for a path, before falling back to ``status``
        self.script: dict[str, list[int]] = {}
        self.hits: list[str] = []
        self._lock = threading.Lock()
        health = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with health._lock:
                    health.hits.append(self.path)
                    queued = health.script.get(self.path)
                    code = queued.pop(0) if queued else health.status.get(self.path, 404)
                body = b"healthy" if code == 200 else b"unhealthy"
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def health() -> Iterator[Health]:
    server = Health()
    yield server
    server.close()


@dataclass
class DrillSpace:
    root: Path
    health: Health

    @property
    def record(self) -> str:
        return str(self.root / "record.jsonl")

    @property
    def state(self) -> Path:
        return self.root / "state"

    def playbook(
        self,
        steps: str = STEPS,
        *,
        name: str = "app",
        rto: str = "1h",
        hold: str = "10m",
        interval: str = "1m",
        windows: str = "",
        sql: bool = False,
    ) -> Path:
        """Write the playbook; ``sql`` gives both regions a SQL failover group (for sql.* steps)."""

        def estate(region: str) -> str:
            return f"    sql: {{server: sql-{region}, failover_group: fog-app, databases: [db]}}\n" if sql else ""

        head = HEAD.format(
            name=name,
            rto=rto,
            base=self.health.base,
            hold=hold,
            interval=interval,
            windows=windows,
            east_sql=estate("east"),
            west_sql=estate("west"),
        )
        path = self.root / "playbook.yaml"
        path.write_text(head + steps.replace("{record}", self.record))
        return path


@pytest.fixture
def space(tmp_path: Path, health: Health) -> DrillSpace:
    return DrillSpace(tmp_path, health)


@dataclass
class Drilled:
    result: RunResult
    events: list[ev.Event] = field(default_factory=list)

    def of(self, kind: type[ev.Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def facts(self, kind: str) -> list[ev.Fact]:
        return [e for e in self.of(ev.Fact) if e.kind == kind]

    @property
    def started(self) -> ev.RunStarted:
        (event,) = self.of(ev.RunStarted)
        return event  # type: ignore[no-any-return]

    @property
    def finished(self) -> ev.RunFinished:
        return self.of(ev.RunFinished)[-1]  # type: ignore[no-any-return]

    def started_keys(self) -> list[str]:
        return [e.step for e in self.of(ev.StepStarted)]

    def first(self, kind: type[ev.Event], step: str) -> Any:
        return next(e for e in self.of(kind) if getattr(e, "step", None) == step)

    @property
    def exit_code(self) -> int:
        return int(self.result.outcome.exit_code)


def drill_plan(
    path: Path, *, impls: Mapping[str, Callable[..., Any]] | None = None, environ: Mapping[str, str] | None = None
) -> RunPlan:
    """A drill's run plan, with some steps' implementations (by key) replaced by test functions."""
    plan = plan_for_mode(load_playbook(path), Mode.DRILL, environ or {})
    for step_key, impl in (impls or {}).items():
        plan.steps[step_key] = dataclasses.replace(plan.steps[step_key], implementation=Implementation(run=impl))
    return plan


def run_drill(
    plan: RunPlan,
    space: DrillSpace,
    *,
    clock: FakeClock | None = None,
    operator: Operator | None = None,
    outside_window: bool = False,
    reason: str | None = None,
    yes: bool = True,
    environment: ev.Environment | None = None,
) -> Drilled:
    host = Host(clock=clock or FakeClock(), operator=operator or Unattended())
    rehearsal = environment is not None and environment.rehearsal
    request = RunRequest(
        playbook=plan.loaded.path,
        mode=Mode.DRILL,
        options=RunOptions(state_dir=space.state, yes=yes, sandbox=rehearsal, environment=environment),
        drill=DrillRequest(outside_window=outside_window, reason=reason),
    )
    result = start_planned(plan, request, host)
    return Drilled(result, read_journal(result.journal).events())


def resume_drill(space: DrillSpace, run_id: str, *, clock: FakeClock | None = None) -> Drilled:
    from drctl.engine.resume import ResumeRequest, resume_run

    host = Host(clock=clock or FakeClock(), operator=Unattended())
    result = resume_run(ResumeRequest(run_id=run_id, options=RunOptions(state_dir=space.state, yes=True)), host)
    return Drilled(result, read_journal(result.journal).events())


def cut_journal_after(journal: Path, predicate: Callable[[ev.Event], bool], nth: int = 1) -> int:
    """Leave the journal as a kill right after the ``nth`` event matching ``predicate`` would: every line is
    fsynced before the run goes on. Returns the number of lines kept."""
    count = 0
    for index, event in enumerate(read_journal(journal).events()):
        if predicate(event):
            count += 1
            if count == nth:
                cut_as_a_crash(journal, index + 1)
                return index + 1
    raise AssertionError("no such event in the journal")


def at(text: str) -> FakeClock:
    """A fake clock starting at an ISO time."""
    return FakeClock(datetime.fromisoformat(text))
