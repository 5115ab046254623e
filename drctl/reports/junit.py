"""The report as JUnit XML, so a pipeline can gate a scheduled drill on it: a ``<testsuite>`` per phase (one for
a failover or failback run) with a ``<testcase>`` per step, and an ``objectives`` suite with a testcase per
objective (RTO, RPO, and MTTR when the playbook sets a target; a drill's hold is a step of its own suite).

- a step that failed (and held the run, or is a drill's hold) is a ``<failure>``; an advisory failure
  (``on_failure: continue``) passes, with the error in ``<system-out>``;
- a skipped step is ``<skipped>`` with the operator's reason; a step the run never reached is ``<skipped>``;
- a step that started and never finished is a ``<failure>`` once the run has ended;
- an objective not met is a ``<failure>``; one not measured is ``<skipped>``.

Times are seconds; ``timestamp`` is the suite's start in UTC without a zone, as the Ant/Jenkins format has it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime

from drctl.engine.identity import describe
from drctl.reports.model import ObjectiveResult, PhaseReport, Report, StepReport


def _seconds(value: float | None) -> str:
    return f"{max(0.0, value or 0.0):.3f}"


def _stamp(at: datetime | None) -> str | None:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") if at is not None else None


def _step_case(report: Report, step: StepReport, classname: str) -> ET.Element:
    case = ET.Element("testcase", name=step.key, classname=classname, time=_seconds(step.actual_seconds))
    if step.state == "failed" and not step.advisory:
        final = next((e for e in reversed(step.errors) if e.final), None)
        failure = ET.SubElement(
            case,
            "failure",
            message=final.error if final else "failed",
            type=final.error_type if final else "StepFailed",
        )
        failure.text = "\n".join(f"attempt {e.attempt} at {e.at.isoformat()}: {e.error}" for e in step.errors)
    elif step.state == "skipped":
        ET.SubElement(case, "skipped", message=f"skipped by an operator: {step.skip_reason or ''}")
    elif step.state == "pending":
        ET.SubElement(case, "skipped", message="not run: the run ended (or stopped) before this step started")
    elif step.state in ("running", "waiting"):
        if report.run.ended:
            ET.SubElement(case, "failure", message="started and never finished", type="Unfinished")
        else:
            ET.SubElement(case, "skipped", message="not finished yet: the run has not ended")
    out = [step.summary] if step.summary else []
    if step.advisory:
        out.append(f"advisory failure (on_failure: continue): {step.errors[-1].error if step.errors else ''}")
    if out:
        ET.SubElement(case, "system-out").text = "\n".join(out)
    return case


def _objective_case(report: Report, objective: ObjectiveResult) -> ET.Element:
    classname = f"drctl.{report.run.playbook}.objectives"
    case = ET.Element("testcase", name=objective.name, classname=classname, time=_seconds(objective.achieved_seconds))
    if objective.met is False:
        ET.SubElement(case, "failure", message=objective.basis, type="ObjectiveNotMet")
    elif objective.met is None:
        ET.SubElement(case, "skipped", message=objective.basis)
    else:
        ET.SubElement(case, "system-out").text = objective.basis
    return case


def _suite(name: str, cases: Sequence[ET.Element], *, started: datetime | None, duration: float | None) -> ET.Element:
    suite = ET.Element(
        "testsuite",
        name=name,
        tests=str(len(cases)),
        failures=str(sum(1 for c in cases if c.find("failure") is not None)),
        errors="0",
        skipped=str(sum(1 for c in cases if c.find("skipped") is not None)),
        time=_seconds(duration),
    )
    stamp = _stamp(started)
    if stamp:
        suite.set("timestamp", stamp)
    return suite


def _properties(report: Report) -> ET.Element:
    run = report.run
    properties = ET.Element("properties")
    for name, value in (
        ("run_id", run.id),
        ("playbook", run.playbook),
        ("playbook_sha256", run.playbook_sha256),
        ("mode", run.mode),
        ("operator", describe(run.operator)),
        ("drctl_version", run.drctl_version),
        ("verdict", report.verdict.headline),
        ("exit_code", "" if report.verdict.exit_code is None else str(report.verdict.exit_code)),
        ("rehearsal", str(report.verdict.rehearsal).lower()),
        ("journal_chain_verified", str(report.journal.chain_verified).lower()),
        ("journal_head_sha256", report.journal.head_sha256),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    return properties


def _phase_duration(phase: PhaseReport) -> float | None:
    if phase.start_offset_seconds is None or phase.end_offset_seconds is None:
        return None
    return phase.end_offset_seconds - phase.start_offset_seconds


def _fencing_suite(report: Report) -> ET.Element | None:
    """A testcase per item fenced or left open (the open ones, ``report.open_risks``, fail): CI shows an old
    primary that may still take writes as a failing test until ``drctl fence`` closes it."""
    if not report.fencing:
        return None
    classname = f"drctl.{report.run.playbook}.fencing"
    items = list(dict.fromkeys((f.kind, f.name, f.region) for f in report.fencing))
    still = {(r.kind, r.name, r.region): r for r in report.open_risks}
    cases = []
    for kind, name, region in items:
        case = ET.Element("testcase", name=f"{kind} {name} ({region})", classname=classname, time="0")
        risk = still.get((kind, name, region))
        if risk is not None:
            failure = ET.SubElement(case, "failure", message="not fenced: an open risk", type="OpenRisk")
            failure.text = risk.detail
        cases.append(case)
    suite = _suite("fencing", cases, started=None, duration=None)
    suite.extend(cases)
    return suite


def render_junit(report: Report) -> str:
    run = report.run
    # a rehearsal says so in the name CI shows first: its passing tests are not drill evidence
    rehearsal = "REHEARSAL " if report.verdict.rehearsal else ""
    root = ET.Element("testsuites", name=f"{rehearsal}drctl {run.mode} {run.playbook} {run.id}")
    suites = []
    for phase in report.phases:
        classname = f"drctl.{run.playbook}.{phase.name}"
        steps = [s for s in report.steps if s.key in phase.steps]
        cases = [_step_case(report, s, classname) for s in steps]
        suite = _suite(phase.name, cases, started=phase.started_at, duration=_phase_duration(phase))
        suite.set("hostname", run.operator.host)
        suite.append(_properties(report))
        suite.extend(cases)
        suites.append(suite)
    cases = [_objective_case(report, o) for o in report.verdict.objectives]
    objectives = _suite("objectives", cases, started=run.t0, duration=None)
    objectives.extend(cases)
    suites.append(objectives)
    fencing = _fencing_suite(report)
    if fencing is not None:
        suites.append(fencing)
    root.extend(suites)
    for attribute in ("tests", "failures", "errors", "skipped"):
        root.set(attribute, str(sum(int(s.get(attribute, "0")) for s in suites)))
    ended = (run.ended_at - run.t0).total_seconds() if run.ended_at else None
    root.set("time", _seconds(ended))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
