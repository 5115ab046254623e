"""``drctl status``: a run read back from its journal, as text for a person or JSON for a script."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from drctl.cli.live import describe
from drctl.cli.verdict_view import banner, describe_environment, objective_text
from drctl.durations import format_duration as fd
from drctl.engine.codec import to_data
from drctl.engine.events import Phase, RunStarted, RunVerdict
from drctl.engine.history import Liveness, LoadedRun
from drctl.engine.identity import describe as person
from drctl.engine.replay import OpenRisk, RunState, StepState
from drctl.engine.verdict import verdict_of_journal
from drctl.text import plural


def _end(run: LoadedRun) -> datetime:
    """Now for a live run; otherwise the last thing the journal says happened."""
    if run.liveness is Liveness.LIVE or run.view.last_at is None:
        return datetime.now(UTC)
    return run.view.last_at


def next_action(run: LoadedRun) -> str:
    view, rid = run.view, run.run_id
    if run.liveness is Liveness.BROKEN:
        return (
            f"nothing: the journal does not verify ({run.integrity.message}); resume refuses a broken journal. "
            f"Keep it as evidence, `drctl runs verify {rid}` names the line"
        )
    if run.liveness is Liveness.LIVE:
        if view.pending_approvals:
            request = next(iter(view.pending_approvals.values()))
            return f'approve (or --reject): drctl approve {rid} {request.step} --reason "..."'
        if view.state is RunState.PAUSED:
            return "answer the question in the terminal that runs it"
        return f"it is running (pid {run.holder.pid if run.holder else '?'}); follow it with `drctl status {rid}`"
    if run.liveness is Liveness.STOPPED:
        return f"the process is gone without an ending (a crash?): drctl resume {rid}"
    risks = view.open_risks
    if view.state is RunState.PAUSED and view.paused is not None:
        return view.paused.next
    if risks and view.state is RunState.SUCCEEDED:
        # a run that did not succeed is resumed, and a resume fences what is open too
        return f"fence what stays open once {risks[0].region} answers again: drctl fence {rid}"
    if view.state in (RunState.FAILED, RunState.ABORTED, RunState.INTERRUPTED):
        return f"fix the cause, then `drctl resume {rid}` runs what did not finish"
    if _verdict(run).result == "breached":
        return f"nothing to run; an objective was breached: see `drctl report {rid}`"
    return "nothing: the run passed"


def _verdict(run: LoadedRun) -> RunVerdict:
    """The journaled verdict (the one every view shows); for a run that has not ended, the interim one."""
    return verdict_of_journal(run.contents.events())


def _state(run: LoadedRun, verdict: RunVerdict) -> str:
    """An ended run's state is its verdict: steps that all succeeded under a breached objective did not pass."""
    if run.view.finished is None:
        return run.state_label
    return verdict.headline + (f" (exit {verdict.exit_code})" if verdict.exit_code is not None else "")


def _drill_lines(started: RunStarted) -> list[str]:
    drill = started.drill
    if drill is None:
        return []
    probe = f" probing {drill.probe_url} every {fd(drill.probe_interval_seconds)}" if drill.probe_url else ""
    phases = "; ".join(
        f"hold {fd(drill.hold_seconds)} on {p.target}{probe}"
        if p.name is Phase.HOLD
        else f"{p.name.value} {p.source} -> {p.target}"
        for p in drill.phases
    )
    window = drill.window
    if not window.declared:
        where = "no change windows declared"
    elif window.inside:
        where = f"inside the change window {window.window}"
    elif window.sandbox:
        where = "outside the change windows (a sandbox rehearsal: they do not apply)"
    else:
        where = f"OUTSIDE every change window: {window.override_reason}"
    return [f"Drill: {phases}; {where}"]


def _standby_lines(run: LoadedRun) -> list[str]:
    """Where the run left warm standby: each resource a ``standby.return`` put back (the latest word on each), each
    region it left as it was, or, before any return, how many resources the standby steps changed."""
    from drctl.actions.standby.facts import FACT_NOTHING, FACT_RETURNED, FACTS

    lines = {f.kind: f.line for f in FACTS}
    latest: dict[tuple[object, object, object], str] = {}
    left: list[str] = []
    changed: set[tuple[object, object, object]] = set()
    for fact in run.view.facts:
        key = (fact.data.get("kind"), fact.data.get("name"), fact.data.get("region"))
        line = lines.get(fact.kind)
        if fact.kind == FACT_RETURNED and line is not None:
            latest[key] = line(fact.data) or ""
        elif fact.kind == FACT_NOTHING and line is not None:
            left.append(f"{fact.step}: {line(fact.data)}")
        elif fact.kind == "standby.prior":
            changed.add(key)
    if not (latest or left or changed):
        return []
    if not (latest or left):
        return [f"Warm standby: {len(changed)} resource(s) changed by this run, not returned yet (standby.return)", ""]
    return ["Warm standby:", *(f"  {text}" for text in (*latest.values(), *left)), ""]


def render_status(run: LoadedRun) -> str:
    view = run.view
    started = view.started
    assert started is not None
    elapsed = (_end(run) - started.t0).total_seconds()
    rto = started.rto_seconds
    t0_kind = "declared" if started.declared else "run start"
    verdict = _verdict(run)
    rehearsal = banner(started)
    lines = [rehearsal] if rehearsal else []
    lines += [
        f"Run {run.run_id}: {started.mode} of {started.playbook_name}, {started.source} -> {started.target}",
        f"Playbook: {started.playbook_path} (sha256 {started.playbook_sha256[:12]})",
        f"Operator: {person(started.operator)}; drctl {started.drctl_version}",
        f"T0: {started.t0.isoformat(timespec='seconds')} ({t0_kind}); RTO {fd(rto)}, RPO {fd(started.rpo_seconds)}",
        f"State: {_state(run, verdict)}" + (f" (pid {run.holder.pid} on {run.holder.host})" if run.holder else ""),
        f"Elapsed: T+{fd(elapsed)} of the RTO {fd(rto)} ({elapsed / rto:.0%})" if rto else f"Elapsed: T+{fd(elapsed)}",
    ]
    lines += _drill_lines(started)
    lines.append(f"Verdict: {verdict.headline}" + ("" if view.finished else " (interim: the run has not ended)"))
    lines += [f"  {objective_text(o)}" for o in verdict.objectives]
    lines += [f"  why: {reason}" for reason in verdict.reasons if view.finished]
    if started.environment is not None:
        lines.append(f"Environment: {describe_environment(started.environment)}")
    lines += [f"Objective: {describe(e)}" for e in view.objective_events]
    lines += open_risk_lines(view.open_risks, run.run_id)
    lines.append("")
    width = max((len(s) for s in view.steps), default=4)
    lines.append(f"{'STEP':{width}}  {'STATE':10}  {'TRY':3}  {'TOOK':>7}  {'BUDGET':>7}  NOTE")
    for step in view.steps.values():
        took = fd(step.duration) if step.duration is not None else ""
        if step.state in (StepState.RUNNING, StepState.WAITING) and step.started_at:
            took = fd((_end(run) - step.started_at).total_seconds())
        note = step.error if step.state is StepState.FAILED else (step.last_progress or step.summary)
        if step.by_check:
            note = "completed by done-check on resume"
        state = step.state.value + ("*" if step.advisory else "")
        lines.append(
            f"{step.id:{width}}  {state:10}  {step.attempt or '':>3}  {took:>7}  "
            f"{fd(step.info.budget_seconds):>7}  {note[:70]}"
        )
    if any(s.advisory for s in view.steps.values()):
        lines.append("* failed with on_failure: continue (advisory); the run went on")
    if started.excluded_steps:
        lines.append(f"Not in {started.mode} mode: {', '.join(started.excluded_steps)}")
    lines.append("")
    lines += _standby_lines(run)
    if run.contents.torn is not None:
        lines.append(f"Journal: line {run.contents.torn.line} is torn (a crash mid-write); resume cuts it off")
    last = next((describe(e) for e in reversed(run.contents.events()) if describe(e)), None)
    if last:
        lines.append(f"Last event: {last}")
    lines.append(f"Next: {next_action(run)}")
    return "\n".join(lines) + "\n"


def open_risk_lines(risks: list[OpenRisk], run_id: str) -> list[str]:
    """What stays unfenced (``replay.open_risks``), said as an open risk, with the command that closes it."""
    if not risks:
        return []
    lines = [f"OPEN RISK: {plural(len(risks), 'item')} of the old primary NOT FENCED (it may still take writes):"]
    lines += [f"  {r.label}: {r.detail}" for r in risks]
    lines.append(f"  once the region answers: drctl fence {run_id}")
    return lines


def status_data(run: LoadedRun) -> dict[str, Any]:
    view = run.view
    started = view.started
    assert started is not None
    verdict = _verdict(run)
    return {
        "schema": "drctl.status/v1",
        "run_id": run.run_id,
        "playbook": started.playbook_name,
        "mode": started.mode,
        "state": view.state.value,
        "liveness": run.liveness.value,
        "t0": started.t0.isoformat(),
        "elapsed_seconds": (_end(run) - started.t0).total_seconds(),
        "rto_seconds": started.rto_seconds,
        "rpo_seconds": started.rpo_seconds,
        "rpo_exposure_seconds": view.rpo_exposure,
        "rehearsal": verdict.rehearsal,
        "environment": to_data(started.environment) if started.environment is not None else None,
        "verdict": to_data(verdict),
        "objective_events": [e.type for e in view.objective_events],
        "open_risks": [
            {"kind": r.kind, "name": r.name, "region": r.region, "detail": r.detail, "step": r.step}
            for r in view.open_risks
        ],
        "pending_approvals": sorted({r.step for r in view.pending_approvals.values()}),
        "steps": [
            {
                "id": s.id,
                "state": s.state.value,
                "attempt": s.attempt,
                "duration_seconds": s.duration,
                "budget_seconds": s.info.budget_seconds,
                "advisory": s.advisory,
                "completed_by_check": s.by_check,
                "phase": s.info.phase.value if s.info.phase else None,
                "error": s.error or None,
            }
            for s in view.steps.values()
        ],
        "next": next_action(run),
        "journal": str(run.path),
        "journal_torn": run.contents.torn is not None,
    }
