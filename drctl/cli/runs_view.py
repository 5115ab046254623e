"""``drctl runs`` and ``drctl runs --due``: the history with verdicts, and when the next drills are due. Each run's
verdict is the one its report states (``reports/``), read from its journal alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from drctl.engine.history import RunSummary, load_run, summaries
from drctl.engine.journal import verify_contents
from drctl.engine.paths import StateDir
from drctl.errors import DrctlError
from drctl.reports.build import build_report
from drctl.reports.due import Due, RunRecord, describe, due_checks, rehearsals
from drctl.reports.summary import RunLine, run_line, run_record


@dataclass(frozen=True)
class Row:
    summary: RunSummary
    line: RunLine | None
    record: RunRecord | None
    #: an ended run's state is its verdict's result (a breached run's steps succeeded; it did not)
    state: str = ""


def rows(state: StateDir) -> list[Row]:
    out = []
    for summary in summaries(state):
        try:
            loaded = load_run(state, summary.run_id)
            report = build_report(loaded.contents, verify_contents(loaded.contents))
        except DrctlError:  # an unreadable journal is listed as such by summaries()
            out.append(Row(summary, None, None, summary.state))
            continue
        if loaded.broken:  # a journal that does not verify proves nothing: no verdict, no credit for a drill
            out.append(Row(summary, RunLine("?", "?", "BROKEN journal"), None, summary.state))
            continue
        ended = report.verdict.result if report.run.ended else summary.state
        out.append(Row(summary, run_line(report), run_record(report), ended))
    return out


def render_runs(state: StateDir) -> str:
    found = rows(state)
    if not found:
        return f"no runs in {state.root}\n"
    lines = [
        f"{'RUN':22}  {'PLAYBOOK':20}  {'MODE':8}  {'STARTED (UTC)':19}  {'STEPS':7}  {'RTO':14}  {'RPO':14}  "
        f"{'VERDICT':24}  STATE"
    ]
    for row in found:
        item = row.summary
        started = item.started.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if item.started else "?"
        steps = f"{item.steps_done}/{item.steps}"
        line = row.line or RunLine("?", "?", "?")
        lines.append(
            f"{item.run_id:22}  {item.playbook[:20]:20}  {item.mode:8}  {started:19}  {steps:7}  {line.rto:14}  "
            f"{line.rpo:14}  {line.verdict:24}  {row.state}"
        )
    return "\n".join(lines) + "\n"


def runs_data(state: StateDir) -> dict[str, Any]:
    return {
        "schema": "drctl.runs/v1",
        "runs": [
            {
                "run_id": row.summary.run_id,
                "playbook": row.summary.playbook,
                "mode": row.summary.mode,
                "started": row.summary.started.isoformat() if row.summary.started else None,
                "state": row.state,
                "steps_done": row.summary.steps_done,
                "steps": row.summary.steps,
                "rto": row.line.rto if row.line else None,
                "rpo": row.line.rpo if row.line else None,
                "verdict": row.line.verdict if row.line else None,
                "open_risks": row.line.open_risks if row.line else None,
            }
            for row in rows(state)
        ],
    }


def _checks(found: list[Row], now: datetime) -> list[Due]:
    return due_checks([row.record for row in found if row.record is not None], now)


def render_due(state: StateDir, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    found = rows(state)
    checks = _checks(found, now)
    if not checks:
        return (
            f"no runs in {state.root}: no drill or RPO check on record, so for every application a quarterly RTO "
            "drill and a monthly RPO check are due now (`drctl drill PLAYBOOK`)\n"
        )
    lines = [f"{'PLAYBOOK':20}  {'CHECK':22}  {'LAST DONE (UTC)':16}  {'BY RUN':22}  {'DUE (UTC)':10}  STATUS"]
    for entry in checks:
        last = entry.last_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if entry.last_at else "never"
        status = describe(entry) + (f"; {entry.note}" if entry.note else "")
        lines.append(
            f"{entry.playbook[:20]:20}  {entry.check.label:22}  {last:16}  {entry.last_run or '-':22}  "
            f"{entry.due.astimezone(UTC):%Y-%m-%d}  {status}"
        )
    overdue = [e for e in checks if e.overdue]
    if overdue:
        lines.append(f"{len(overdue)} overdue: {', '.join(f'{e.playbook} {e.check.label}' for e in overdue)}")
    practice = _rehearsals(found)
    if practice:
        lines += ["", "Rehearsals on a sandbox (not evidence: they count for no check above):"]
        for row in practice:
            record = row.record
            assert record is not None
            verdict = row.line.verdict if row.line else "?"
            when = record.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
            lines.append(f"  {record.playbook[:20]:20}  {record.mode:8}  {when:16}  {record.run_id:22}  {verdict}")
    return "\n".join(lines) + "\n"


def _rehearsals(found: list[Row]) -> list[Row]:
    chosen = {r.run_id for r in rehearsals([row.record for row in found if row.record is not None])}
    return [row for row in found if row.record is not None and row.record.run_id in chosen]


def due_data(state: StateDir, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    found = rows(state)
    return {
        "schema": "drctl.due/v1",
        "now": now.isoformat(),
        "checks": [
            {
                "playbook": e.playbook,
                "check": e.check.value,
                "every_months": e.check.months,
                "last_run": e.last_run,
                "last_at": e.last_at.isoformat() if e.last_at else None,
                "due": e.due.isoformat(),
                "overdue": e.overdue,
                "days": e.days,
                "status": describe(e),
                "note": e.note or None,
            }
            for e in _checks(found, now)
        ],
        "rehearsals": [
            {
                "playbook": row.record.playbook,
                "mode": row.record.mode,
                "run_id": row.record.run_id,
                "started": row.record.started_at.isoformat(),
                "verdict": row.line.verdict if row.line else None,
            }
            for row in _rehearsals(found)
            if row.record is not None
        ],
    }
