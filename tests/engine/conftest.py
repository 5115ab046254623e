"""Helpers for engine tests: playbooks of test.record steps, runs on a fake clock, scripted operators."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from drctl.actions.runtime import Implementation
from drctl.core.clock import FakeClock
from drctl.engine import events as ev
from drctl.engine.journal import Record, read_journal
from drctl.engine.operator import ApprovalAnswer, ApprovalPrompt, Decision, DecisionPrompt, Operator, Unattended
from drctl.engine.runplan import RunPlan, build_run_plan
from drctl.engine.session import Host, RunOptions, RunRequest, RunResult, start_planned
from drctl.planning.load import load_playbook
from drctl.playbook.enums import Mode
from tests.conftest import cut_as_a_crash

HEAD = """\
version: 1
name: {name}
objectives: {{rto: {rto}, rpo: {rpo}}}
azure: {{subscription: "00000000-0000-0000-0000-000000000000"}}
direction: {{source: east, target: west}}
regions:
  east: {{location: australiaeast, resource_group: rg-east}}
  west: {{location: australiasoutheast, resource_group: rg-west}}
steps:
"""

ME = ev.Identity(os_user="tester", host="testhost")


@pytest.fixture(autouse=True)
def test_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRCTL_ENABLE_TEST_ACTIONS", "1")


def playbook_text(steps: str, *, name: str = "app", rto: str = "1h", rpo: str = "15m") -> str:
    return HEAD.format(name=name, rto=rto, rpo=rpo) + steps


@dataclass
class Workspace:
    root: Path

    @property
    def record(self) -> str:
        return str(self.root / "record.jsonl")

    state_dir: Path | None = None

    @property
    def state(self) -> Path:
        return self.state_dir or self.root / "state"

    @state.setter
    def state(self, value: Path) -> None:
        self.state_dir = value

    def playbook(self, steps: str, **head: str) -> Path:
        """Write a playbook; ``{record}`` in the steps is the record file."""
        path = self.root / "playbook.yaml"
        path.write_text(playbook_text(steps.replace("{record}", self.record), **head))
        return path


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


class ScriptedOperator:
    """An operator at a terminal whose answers are written in advance (None: cannot answer)."""

    interactive = True

    def __init__(
        self,
        *,
        decisions: list[Decision | None] | None = None,
        approvals: list[ApprovalAnswer | None] | None = None,
    ) -> None:
        self.decisions = list(decisions or [])
        self.approvals = list(approvals or [])
        self.asked: list[DecisionPrompt | ApprovalPrompt] = []

    def approve(self, prompt: ApprovalPrompt, settled: threading.Event) -> ApprovalAnswer | None:
        self.asked.append(prompt)
        return self.approvals.pop(0) if self.approvals else None

    def decide(self, prompt: DecisionPrompt) -> Decision | None:
        self.asked.append(prompt)
        return self.decisions.pop(0) if self.decisions else None


@dataclass
class Captured:
    """What a listener saw: the records in order."""

    records: list[Record] = field(default_factory=list)

    def __call__(self, record: Record) -> None:
        self.records.append(record)

    @property
    def events(self) -> list[ev.Event]:
        return [r.event for r in self.records]


@dataclass
class Ran:
    result: RunResult
    seen: Captured

    @property
    def events(self) -> list[ev.Event]:
        return read_journal(self.result.journal).events()

    def of(self, kind: type[ev.Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def types(self) -> list[str]:
        return [e.type for e in self.events]

    @property
    def exit_code(self) -> int:
        return int(self.result.outcome.exit_code)


def plan_for(
    path: Path,
    *,
    mode: Mode = Mode.FAILOVER,
    environ: Mapping[str, str] | None = None,
    impls: Mapping[str, Implementation[Any] | Callable[..., Any]] | None = None,
) -> RunPlan:
    """The run plan of a playbook, with some steps' implementations replaced by test functions."""
    plan = build_run_plan(load_playbook(path), mode, environ or {})
    for step_id, impl in (impls or {}).items():
        implementation = impl if isinstance(impl, Implementation) else Implementation(run=impl)
        plan.steps[step_id] = dataclasses.replace(plan.steps[step_id], implementation=implementation)
    return plan


def run_plan(
    plan: RunPlan,
    ws: Workspace,
    *,
    clock: FakeClock | None = None,
    operator: Operator | None = None,
    yes: bool = False,
    concurrency: int = 8,
    declared_at: Any = None,
    abandon_grace: float = 30.0,
    listeners: list[Callable[[Record], None]] | None = None,
) -> Ran:
    seen = Captured()
    host = Host(
        clock=clock or FakeClock(),
        operator=operator or Unattended(),
        listeners=[seen, *(listeners or [])],
        abandon_grace=abandon_grace,
    )
    options = RunOptions(state_dir=ws.state, yes=yes, concurrency=concurrency)
    request = RunRequest(playbook=plan.loaded.path, mode=plan.mode, options=options, declared_at=declared_at)
    return Ran(start_planned(plan, request, host), seen)


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Block (really) until ``condition`` holds; for hand-offs between a test and worker threads."""
    event = threading.Event()
    deadline = 0.0
    while not condition():
        deadline += 0.005
        if deadline > timeout:
            raise AssertionError("condition not reached")
        event.wait(0.005)


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    return FakeClock()


def resume_run_in(
    ws: Workspace,
    run_id: str,
    *,
    clock: FakeClock | None = None,
    operator: Operator | None = None,
    yes: bool = False,
    **request: Any,
) -> Ran:
    from drctl.engine.resume import ResumeRequest, resume_run

    seen = Captured()
    host = Host(clock=clock or FakeClock(), operator=operator or Unattended(), listeners=[seen])
    options = RunOptions(state_dir=ws.state, yes=yes)
    result = resume_run(ResumeRequest(run_id=run_id, options=options, **request), host)
    return Ran(result, seen)


def crash_after(ran: Ran, line_type: str, step: str | None = None, nth: int = 1) -> int:
    """Cut the journal right after the ``nth`` event of ``line_type`` (for ``step``): what a kill there leaves,
    since every line is fsynced before the run goes on. Returns the number of lines kept."""
    path = ran.result.journal
    count = 0
    for index, event in enumerate(read_journal(path).events()):
        if event.type == line_type and (step is None or getattr(event, "step", None) == step):
            count += 1
            if count == nth:
                cut_as_a_crash(path, index + 1)
                return index + 1
    raise AssertionError(f"no {line_type} for {step}")


def forget_done(ws: Workspace, step: str) -> None:
    """Take the step's 'done' out of the record: the crash came before its change was made."""
    import json

    kept = [e for e in _record_entries(ws) if not (e["event"] == "done" and e["step"] == step)]
    Path(ws.record).write_text("".join(json.dumps(e) + "\n" for e in kept))


def _record_entries(ws: Workspace) -> list[dict[str, Any]]:
    from drctl.actions.testing import read_record

    return read_record(ws.record)
