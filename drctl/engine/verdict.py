"""The run's one verdict, computed from its journal's events alone (pure): ``judge(events)``.

The runner computes it once when the run ends and journals it in ``run.finished.verdict``; the live view's last
line, the exit code, ``status``, ``runs`` and every report render that journaled verdict and never recompute it.
For a run that has not ended (an interim report, ``status`` of a live run) or a journal written before verdicts
were journaled, views call ``verdict_of_journal``, which is this same function.

- **RTO**: T0 until clients are served by the target. An action's ``service.restored`` fact says when
  (``dns.swap``: the new records verified at the authoritative servers, plus the previous TTL clients may keep the
  old answer for; it carries both figures). In a drill only the failover phase counts. Without such a fact the
  clock stops when the phase's (the run's) steps are all done; a run that ended without either did not restore
  the service, and that is not met.
- **RPO**: about the failover that took effect. A planned (synchronised) failover loses nothing by construction;
  a forced one loses what the evidence about that resource says, ``measured`` or ``at most`` (an upper bound):
  evidence names its resource (``resource``, ``failover_group`` or ``account``), and evidence that names none
  counts by its source (storage sync times for a storage account, anything else for a failover group), never
  across; a forced failover without evidence about it is ``unmeasured``, which is not met. Without any failover, the
  largest exposure measured is compared; an upper bound over the objective proves nothing either way.
- **MTTR** (when the playbook sets a target): T0 until the (failover phase's) steps were all done *and* clients
  were served by the target (the RTO's moment): recovery is not over while clients still reach the old region, so
  MTTR is never shorter than the RTO figure.
- **Result**, by precedence: ``aborted`` (exit 5), ``failed`` (exit 1: a step failed, a drill's hold among them),
  ``breached`` (exit 4: every step succeeded, an objective was not met), ``passed`` (exit 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from drctl.actions import registry
from drctl.durations import format_duration as fd
from drctl.engine import events as ev
from drctl.engine.replay import RunView, StepView, clients_served

SERVICE_RESTORED = "service.restored"
RPO_EXPOSURE = "rpo.exposure"
DRILL_HOLD = "drill.hold"
#: facts that say which failover took effect, and how (``mode``: planned, forced, unplanned)
FAILOVER_KINDS = ("sql.failover", "storage.failover")
#: the data keys that may name the resource a fact is about
RESOURCE_KEYS = ("resource", "failover_group", "account")

_EXIT = {"passed": 0, "failed": 1, "breached": 4, "aborted": 5}
_HEADLINE = {
    "passed": "PASSED",
    "failed": "FAILED",
    "breached": "OBJECTIVE BREACHED",
    "aborted": "ABORTED",
    "not finished": "NOT FINISHED",
}


def _number(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _moment(data: Mapping[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def rehearsal(started: ev.RunStarted) -> bool:
    """A run against a sandbox (its environment, or the ``sandbox`` option of journals without one)."""
    if started.environment is not None:
        return started.environment.rehearsal
    return bool(started.options.get("sandbox"))


def verdict_of_journal(events: Sequence[ev.Event]) -> ev.RunVerdict:
    """The journaled verdict when the run ended with one; otherwise ``judge`` (interim, or an older journal)."""
    view = RunView.of(events)
    if view.finished is not None and view.finished.verdict is not None:
        return view.finished.verdict
    return judge(events)


def judge(events: Sequence[ev.Event]) -> ev.RunVerdict:
    view = RunView.of(events)
    started = view.started
    if started is None:
        raise ValueError("no run.started event: not a run's journal")
    finished = view.finished
    rto_steps = _rto_steps(view, started)
    phase_end = _phase_end(rto_steps, started)
    objectives = [_rto(view, started, rto_steps, phase_end), _rpo(view, started)]
    if started.mttr_seconds is not None:
        restored = objectives[0].achieved_seconds
        recovered = max(phase_end, restored) if phase_end is not None and restored is not None else phase_end
        objectives.append(_mttr(started, recovered, ended=finished is not None, served=restored))
    reasons: list[str] = []
    if finished is None:
        reasons.append(f"the run has not ended ({view.state.value})")
        result = "not finished"
    else:
        for key in finished.failed_steps:
            step = view.steps.get(key)
            reasons.append(f"step {key} failed" + (f": {step.error}" if step and step.error else ""))
        if finished.ending is ev.RunEnding.ABORTED:
            reasons.insert(0, "the run was aborted")
        result = {ev.RunEnding.ABORTED: "aborted", ev.RunEnding.FAILED: "failed"}.get(finished.ending, "passed")
    reasons += [f"{o.name} not met: {o.basis}" for o in objectives if o.met is False]
    if started.drill is not None and finished is not None and result == "passed":
        held = [f for f in view.facts if f.kind == DRILL_HOLD]
        if not held:
            reasons.append("the verification hold did not run")
            result = "failed"
        elif held[-1].data.get("passed") is not True:
            reasons.append("the verification hold failed")
            result = "failed"
    if result == "passed" and any(o.met is False for o in objectives):
        result = "breached"
    return ev.RunVerdict(
        result=result,
        headline=_HEADLINE[result],
        exit_code=_EXIT.get(result),
        reasons=tuple(reasons),
        objectives=tuple(objectives),
        rehearsal=rehearsal(started),
    )


def _rto_steps(view: RunView, started: ev.RunStarted) -> list[StepView]:
    """The steps the RTO is about: a drill's failover phase, every step of another run."""
    if started.drill is None:
        return list(view.steps.values())
    return [s for s in view.steps.values() if s.info.phase is ev.Phase.FAILOVER]


def _phase_end(steps: Sequence[StepView], started: ev.RunStarted) -> float | None:
    """Seconds since T0 when the steps were all done (None while one is not)."""
    if not steps or not all(s.finished for s in steps):
        return None
    ends = [s.finished_at for s in steps if s.finished_at is not None]
    return max((e - started.t0).total_seconds() for e in ends) if ends else None


def _rto(
    view: RunView, started: ev.RunStarted, steps: Sequence[StepView], phase_end: float | None
) -> ev.ObjectiveVerdict:
    objective = started.rto_seconds
    ended = view.finished is not None
    pairs = [(s.id, s.info.uses) for s in steps]
    fact = clients_served(view.facts, pairs)
    # a phase that switches traffic is restored only when its switches say so, never by its steps' end
    switches = [key for key, uses in pairs if registry.moves_traffic(uses)]
    breached = any(isinstance(e, ev.RtoBreached) for e in view.objective_events)
    where = "the failover phase" if started.drill is not None else "the run"
    if fact is not None:
        clients = _moment(fact.data, "at") or fact.at
        achieved = (clients - started.t0).total_seconds()
        authoritative_at = _moment(fact.data, "authoritative_at")
        authoritative = (authoritative_at - started.t0).total_seconds() if authoritative_at else None
        lag = _number(fact.data, "previous_ttl_seconds")
        switch = _switch(fact.data, authoritative, lag)
        how = (
            f"clients served by the target at T+{fd(achieved)} ({switch})"
            if switch
            else f"service restored at T+{fd(achieved)} ({fact.step})"
        )
        if len(switches) > 1:
            how += f"; {fact.step} was the last of {len(switches)} traffic switches to serve clients"
    elif phase_end is not None and (ended or started.drill is not None) and not switches:
        achieved, authoritative, lag, switch = phase_end, None, None, None
        how = f"no service.restored fact: {where}'s steps done at T+{fd(achieved)}"
    else:
        served = {f.step for f in view.facts if f.kind == SERVICE_RESTORED}
        waiting = [key for key in switches if key not in served]
        if ended and waiting:
            basis = f"the service was not restored: {', '.join(waiting)} did not see clients served by the target"
        else:
            basis = f"the service was not restored: {where} did not finish" if ended else "not restored yet"
        met = False if ended or breached else None
        status = "not met" if met is False else "pending"
        return ev.ObjectiveVerdict("RTO", objective, None, met, status, basis)
    met = achieved <= objective and not breached
    basis = f"{how}; objective {fd(objective)}"
    return ev.ObjectiveVerdict(
        "RTO",
        objective,
        achieved,
        met,
        "met" if met else "not met",
        basis,
        authoritative_seconds=authoritative,
        client_lag_seconds=lag,
        switch=switch,
    )


def _switch(data: Mapping[str, Any], authoritative: float | None, lag: float | None) -> str | None:
    """How the traffic switch was seen to serve clients, from its ``service.restored`` fact; None when the fact
    does not say (the basis then names the step)."""
    by = data.get("by")
    if by == "frontdoor.switch":
        propagation = _number(data, "propagation_seconds")
        after = f", {fd(propagation)} after the change" if propagation is not None else ""
        return f"Front Door seen routing to the target at its public host name{after}"
    if authoritative is None or lag is None:
        return None
    if by == "trafficmanager.switch":
        return (
            f"Traffic Manager's name verified at its name servers at T+{fd(authoritative)} + the profile's TTL "
            f"{fd(lag)}"
        )
    return f"DNS verified at the authoritative servers at T+{fd(authoritative)} + previous TTL {fd(lag)}"


def _resource(data: Mapping[str, Any]) -> str | None:
    for key in RESOURCE_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _forced(data: Mapping[str, Any]) -> bool:
    mode = str(data.get("mode") or data.get("type") or "").lower()
    return "forced" in mode or "unplanned" in mode


def _rpo(view: RunView, started: ev.RunStarted) -> ev.ObjectiveVerdict:
    objective = started.rpo_seconds
    failovers = [f for f in view.facts if f.kind in FAILOVER_KINDS]
    measured = [m for f in view.facts if f.kind == RPO_EXPOSURE for m in _measurements(f)]
    forced = [f for f in failovers if _forced(f.data)]
    if forced:
        return _forced_rpo(objective, forced, measured)
    if failovers:
        names = ", ".join(sorted({_resource(f.data) or f.step for f in failovers}))
        basis = f"planned failover of {names}: no data loss by construction (synchronised before the switch)"
        return ev.ObjectiveVerdict("RPO", objective, 0.0, True, "met", basis, evidence="none by construction")
    if not measured:
        basis = "not measured: no rpo.exposure fact and no failover in the journal"
        return ev.ObjectiveVerdict("RPO", objective, None, None, "unmeasured", basis, evidence="unmeasured")
    return _exposure(objective, measured, what="largest exposure measured")


def _measurements(fact: ev.Fact) -> list[dict[str, Any]]:
    """An ``rpo.exposure`` fact's measurements: the leading one and any it lists (``measurements``), each with
    the step that recorded it and the resource it names, if any."""
    out = []
    for data in [fact.data, *(m for m in fact.data.get("measurements") or [] if isinstance(m, Mapping))]:
        seconds = _number(data, "seconds")
        if seconds is not None:
            out.append({**data, "seconds": seconds, "step": fact.step, "resource": _resource(data)})
    return out


def _about(measurement: Mapping[str, Any], failover: ev.Fact) -> bool:
    """Evidence about the resource a failover forced. Evidence that names no resource (older actions) counts
    by its source: storage sync times for a storage account, anything else for a failover group; never across."""
    named = measurement.get("resource")
    if named is not None:
        return bool(named == _resource(failover.data))
    storage = str(measurement.get("source") or "").lower() == "storage"
    return storage == (failover.kind == "storage.failover")


def _forced_rpo(
    objective: float, forced: Sequence[ev.Fact], measured: Sequence[Mapping[str, Any]]
) -> ev.ObjectiveVerdict:
    """A forced failover lost what the evidence about that resource says; no evidence about it is unmeasured."""
    verdicts = []
    for failover in forced:
        name = _resource(failover.data) or failover.step
        about = [m for m in measured if _about(m, failover)]
        if not about:
            basis = f"forced failover of {name} with no RPO evidence about it: the data lost is unknown"
            verdicts.append(
                ev.ObjectiveVerdict("RPO", objective, None, False, "unmeasured", basis, evidence="unmeasured")
            )
            continue
        verdicts.append(_exposure(objective, about, what=f"data lost by the forced failover of {name}", forced=True))
    order = {False: 0, None: 1, True: 2}
    return min(verdicts, key=lambda v: (order[v.met], -(v.achieved_seconds or 0.0)))


def _exposure(
    objective: float, measured: Sequence[Mapping[str, Any]], *, what: str, forced: bool = False
) -> ev.ObjectiveVerdict:
    worst = max(measured, key=lambda m: float(m["seconds"]))
    seconds = float(worst["seconds"])
    bound = worst.get("upper_bound") is True
    label = "at most" if bound else "measured"
    source = ", ".join(str(worst[k]) for k in ("source", "basis") if isinstance(worst.get(k), str))
    figure = f"{'at most ' if bound else ''}{fd(seconds)}"
    basis = f"{what}: {figure} ({worst['step']}{': ' + source if source else ''}); objective {fd(objective)}"
    if seconds <= objective:
        met: bool | None = True
    elif bound and not forced:
        met = None  # an upper bound over the objective proves nothing when nothing was forced
    else:
        met = False  # measured over, or a forced failover that cannot show it stayed within
    status = {True: "met", False: "not met", None: "unmeasured"}[met]
    return ev.ObjectiveVerdict("RPO", objective, seconds, met, status, basis, evidence=label)


def _mttr(started: ev.RunStarted, phase_end: float | None, *, ended: bool, served: float | None) -> ev.ObjectiveVerdict:
    target = started.mttr_seconds
    assert target is not None
    where = "the failover phase" if started.drill is not None else "the run's steps"
    if phase_end is None:
        basis = f"not recovered: {where} did not finish" if ended else "not recovered yet"
        met = False if ended else None
        return ev.ObjectiveVerdict("MTTR", target, None, met, "not met" if ended else "pending", basis)
    met = phase_end <= target
    until = f"{where} finished and clients were served by the target" if served is not None else f"{where} finished"
    basis = f"T0 until {until}: {fd(phase_end)}; target {fd(target)}"
    return ev.ObjectiveVerdict("MTTR", target, phase_end, met, "met" if met else "not met", basis)


def objective(verdict: ev.RunVerdict, name: str) -> ev.ObjectiveVerdict | None:
    return next((o for o in verdict.objectives if o.name == name), None)
