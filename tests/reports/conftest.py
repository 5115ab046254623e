"""Runs to report on: drills (from tests/drill) and a failover whose steps record every kind of evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from drctl.core.clock import FakeClock
from drctl.engine.events import Environment, target_digest
from drctl.engine.journal import read_journal
from drctl.engine.operator import Unattended
from drctl.engine.runplan import build_run_plan
from drctl.engine.session import Host, RunOptions, RunRequest, start_planned
from drctl.planning.load import load_playbook
from drctl.playbook.enums import Mode
from drctl.reports.build import load_report
from drctl.reports.model import Report
from tests.drill.conftest import Drilled, DrillSpace, drill_plan, health, run_drill, space, test_actions

__all__ = ["DrillSpace", "drill_plan", "health", "run_drill", "space", "test_actions"]

#: a failover whose test.record steps journal the facts the Azure actions record, with an approval, a retry,
#: an advisory failure and a secret in a summary
EVIDENCE_STEPS = """\
  - id: announce
    uses: test.record
    needs: []
    with:
      file: "{record}"
      fact:
        kind: notify.sent
        data: {channel: ops-slack, kind: slack, message_id: "1712.55", title: P1 failover started, audience: production}
  - id: announce-exec
    uses: test.record
    needs: []
    on_failure: continue
    with: {file: "{record}", fail: true}
  - id: approve
    uses: gate.approval
    needs: [announce]
    with: {message: "Fail over?", require_reason: false}
  - id: replica
    uses: test.record
    retry: {attempts: 3, backoff: 5s}
    with:
      file: "{record}"
      transient_failures: 1
      fact: {kind: rpo.exposure, data: {seconds: 42.5, source: app, basis: last committed write, upper_bound: false}}
  - id: gate
    uses: test.record
    with:
      file: "{record}"
      fact: {kind: rpo.gate, data: {gate_seconds: 900, exposure_seconds: 42.5, passed: true, by: measurement}}
  - id: promote
    uses: test.record
    budget: 2m
    with:
      file: "{record}"
      sleep: 3m
      mutating: true
      fact: {kind: sql.failover, data: {failover_group: fog-app, mode: planned, primary: sql-west, secondary: sql-east}}
  - id: arm
    uses: test.record
    with:
      file: "{record}"
      fact:
        kind: arm.calls
        data:
          operation: failover
          calls:
            - {method: POST, path: /subscriptions/x/failover, status: 202, request_id: req-1, correlation_id: cor-1}
  - id: dns
    uses: test.record
    with:
      file: "{record}"
      sleep: 30s
      fact:
        kind: dns.changed
        data:
          fqdn: api.example.com
          type: A
          previous_values: [20.53.1.1]
          previous_ttl: 3600
          values: [20.70.1.1]
          ttl: 300
          changed_at: "2026-03-03T02:04:00+00:00"
          clients_switch_by: "2026-03-03T03:04:00+00:00"
  - id: verified
    uses: test.record
    with:
      file: "{record}"
      fact: {kind: dns.verified, data: {fqdn: api.example.com, at: "2026-03-03T02:05:00+00:00"}}
  - id: restored
    uses: test.record
    with: {file: "{record}", fact: {kind: service.restored, data: {}}, say: "cut over with ${SECRET_TOKEN}"}
  - id: custom
    uses: test.record
    with: {file: "{record}", fact: {kind: storage.synced, data: {account: stwallet, lag_seconds: 3}}}
"""

SECRET = "s3cr3t-t0ken-value"
#: where the report fixtures' failovers say they ran (a real cloud: not a rehearsal)
AZURE = Environment(
    kind="azure",
    arm_endpoint="https://management.azure.com",
    tenant="72f988bf-86f1-41af-91ab-2d7cd011db47",
    subscription="0b1f6471-1bf0-4dda-aec3-cb9272f09590",
    target_sha256=target_digest("https://management.azure.com", "0b1f6471-1bf0-4dda-aec3-cb9272f09590"),
)


def run_failover(space: DrillSpace, steps: str = EVIDENCE_STEPS, *, rto: str = "1h") -> Drilled:
    path = space.playbook(steps, rto=rto)
    plan = build_run_plan(load_playbook(path), Mode.FAILOVER, {"SECRET_TOKEN": SECRET})
    options = RunOptions(state_dir=space.state, yes=True, environment=AZURE)
    request = RunRequest(playbook=path, mode=Mode.FAILOVER, options=options)
    result = start_planned(plan, request, Host(clock=FakeClock(), operator=Unattended()))
    return Drilled(result, read_journal(result.journal).events())


def report_of(ran: Drilled) -> Report:
    return load_report(ran.result.journal)


@pytest.fixture
def drill_report(space: DrillSpace) -> tuple[Drilled, Report]:
    ran = run_drill(drill_plan(space.playbook()), space)
    return ran, report_of(ran)


@pytest.fixture
def failover_report(space: DrillSpace) -> tuple[Drilled, Report]:
    ran = run_failover(space)
    return ran, report_of(ran)


def journal_path(ran: Drilled) -> Path:
    return ran.result.journal
