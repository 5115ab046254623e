"""The verdict, first thing in every report: did the run pass, and the RTO, RPO and MTTR against their objectives.

- **RTO** (T0 until the target serves traffic): the journal's ``rto_achieved_seconds`` once the service was
  restored in the first (a drill's failover) phase: a ``service.restored`` fact, or without one the phase's
  last step finishing. A run that ended without restoring the service has no RTO achieved and fails it.
- **RPO**: the largest ``rpo.exposure`` measured (the journal's ``rpo_exposure_seconds``); not measured: no
  verdict either way.
- **MTTR** (when the playbook sets a target): one run contributes one time to recover, T0 until the recovery
  finished: every step of the first phase done, post-cutover checks included.
- A drill's **hold** passes when every probe did.
"""

from __future__ import annotations

from collections.abc import Sequence

from drctl.durations import format_duration as fd
from drctl.engine import events as ev
from drctl.engine.replay import RunView
from drctl.reports import evidence
from drctl.reports.model import HoldResult, ObjectiveResult, PhaseReport, RunFacts, StepReport, Verdict


def verdict_of(
    run: RunFacts,
    view: RunView,
    steps: Sequence[StepReport],
    phases: Sequence[PhaseReport],
    facts: Sequence[ev.Fact],
) -> Verdict:
    first = phases[0]
    breached = {e.type for e in view.objective_events}
    objectives = [_rto(run, view, first, breached), _rpo(run, view, facts, breached)]
    if run.mttr_seconds is not None:
        objectives.append(_mttr(run, first))
    hold = _hold(facts) if run.mode == "drill" else None
    reasons: list[str] = []
    if not run.ended:
        reasons.append(f"the run has not ended ({run.state}): this report is interim")
    elif run.state != "succeeded":
        reasons.append(f"the run {run.state} (exit {run.exit_code})")
    for step in steps:
        if step.key in run.failed_steps:
            final = next((e.error for e in reversed(step.errors) if e.final), "")
            reasons.append(f"step {step.key} failed" + (f": {final}" if final else ""))
    reasons += [f"{o.name} not met: {o.basis}" for o in objectives if o.met is False]
    if run.mode == "drill" and run.ended and hold is None:
        reasons.append("the verification hold did not run")
    passed = run.ended and run.state == "succeeded" and not reasons
    headline = "PASSED" if passed else ("NOT FINISHED" if not run.ended else "FAILED")
    return Verdict(passed=passed, headline=headline, reasons=tuple(reasons), objectives=tuple(objectives), hold=hold)


def _rto(run: RunFacts, view: RunView, phase: PhaseReport, breached: set[str]) -> ObjectiveResult:
    objective = run.rto_seconds
    restored = phase.restored_at is not None or phase.ended_at is not None
    journaled = view.finished.rto_achieved_seconds if view.finished else None
    achieved = (journaled if journaled is not None else phase.time_to_restore_seconds) if restored else None
    where = "the failover phase" if run.mode == "drill" else "the run"
    if achieved is None:
        basis = f"the service was not restored: {where} did not finish" if run.ended else "not restored yet"
        return ObjectiveResult("RTO", objective, None, False if run.ended else None, basis)
    if phase.restored_at is not None:
        how = f"service.restored at {phase.restored_at.isoformat(timespec='seconds')}"
    else:
        how = f"no service.restored fact: {where} finished"
    met = achieved <= objective and ev.RtoBreached.type not in breached
    return ObjectiveResult("RTO", objective, achieved, met, f"T0 to {how}: {fd(achieved)} against {fd(objective)}")


def _rpo(run: RunFacts, view: RunView, facts: Sequence[ev.Fact], breached: set[str]) -> ObjectiveResult:
    objective = run.rpo_seconds
    exposure = view.rpo_exposure
    measured = evidence.rpo_measurements(facts)
    if exposure is None:
        return ObjectiveResult("RPO", objective, None, None, "not measured: no rpo.exposure fact in the journal")
    worst = max((m for m in measured if m.seconds is not None), key=lambda m: m.seconds or 0.0)
    source = ", ".join(filter(None, (worst.source, worst.basis)))
    bound = " (an upper bound)" if worst.upper_bound else ""
    basis = (
        f"largest of {len(measured)} measurement(s): {fd(exposure)}{bound} by {worst.step}"
        + (f" ({source})" if source else "")
        + f" against {fd(objective)}"
    )
    met = exposure <= objective and ev.RpoBreached.type not in breached
    return ObjectiveResult("RPO", objective, exposure, met, basis)


def _mttr(run: RunFacts, phase: PhaseReport) -> ObjectiveResult:
    target = run.mttr_seconds
    assert target is not None
    recovered = phase.end_offset_seconds
    where = "the failover phase" if run.mode == "drill" else "the run's steps"
    if recovered is None:
        basis = f"not recovered: {where} did not finish" if run.ended else "not recovered yet"
        return ObjectiveResult("MTTR", target, None, False if run.ended else None, basis)
    basis = f"T0 until {where} finished: {fd(recovered)} against the target {fd(target)}"
    return ObjectiveResult("MTTR", target, recovered, recovered <= target, basis)


def _hold(facts: Sequence[ev.Fact]) -> HoldResult | None:
    summaries = evidence.of_kind(facts, evidence.DRILL_HOLD)
    if not summaries:
        return None
    data = summaries[-1].data
    return HoldResult(
        url=evidence.text(data, "url"),
        planned_seconds=evidence.number(data, "planned_seconds") or 0.0,
        held_seconds=evidence.number(data, "held_seconds") or 0.0,
        probes=evidence.whole(data, "probes") or 0,
        failed=evidence.whole(data, "failed") or 0,
        passed=evidence.flag(data, "passed") is True,
    )
