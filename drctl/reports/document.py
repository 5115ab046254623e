"""The report as a document of sections and tables of plain text: Markdown and HTML render the same document, so
the two human forms can never say different things. Cells are text; each renderer escapes for its format."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from drctl.actions.registry import FACTS
from drctl.durations import format_duration
from drctl.engine.events import Identity
from drctl.reports.model import ObjectiveResult, Report, StepReport
from drctl.text import milliseconds, plural

#: the facts the engine records itself, which the "Hold probes" section shows
ENGINE_SHOWN_KINDS = frozenset({"drill.probe", "drill.hold"})
#: facts the sections below already show (each action family names the section of each of its kinds); any other
#: kind is listed under "Other evidence"
SHOWN_KINDS = ENGINE_SHOWN_KINDS | {kind for kind, fact in FACTS.items() if fact.report_section is not None}


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Section:
    title: str
    paragraphs: tuple[str, ...] = ()
    table: Table | None = None
    bullets: tuple[str, ...] = ()
    #: what to say when the section has nothing to show (None: leave the section out)
    empty: str | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.paragraphs or (self.table and self.table.rows) or self.bullets)


def when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if at is not None else ""


def dur(seconds: float | None) -> str:
    return format_duration(seconds) if seconds is not None else ""


def tplus(seconds: float | None) -> str:
    return f"T+{format_duration(seconds)}" if seconds is not None else ""


def who(person: Identity | None) -> str:
    if person is None:
        return ""
    from drctl.engine.identity import describe

    return describe(person)


def result_word(o: ObjectiveResult) -> str:
    if o.met is True:
        return "met"
    if o.met is False:
        return "NOT MET"
    return {"pending": "pending", "unmeasured": "unmeasured"}.get(o.status, "not measured")


def achieved(o: ObjectiveResult) -> str:
    """The figure, labelled as the verdict labels it: an upper bound is "at most", none is "none"."""
    if o.achieved_seconds is None:
        return "none"
    figure = ("at most " if o.evidence == "at most" else "") + dur(o.achieved_seconds)
    if o.switch:
        figure += f" (clients; {o.switch})"
    return figure


REHEARSAL = "REHEARSAL on a sandbox: not evidence of recovery, and never counted as a drill"


def title(report: Report) -> str:
    run = report.run
    kind = {"drill": "drill", "failback": "failback", "failover": "failover"}.get(run.mode, run.mode)
    return f"DR {kind} report: {run.playbook}, run {run.id}"


def direction(report: Report) -> str:
    run = report.run
    if report.is_drill:
        return f"{run.source} -> {run.target}, hold, {run.target} -> {run.source}"
    return f"{run.source} -> {run.target}"


def verdict_head(report: Report) -> str:
    """The verdict's headline and exit code: ``PASSED (exit 0)``, said once at the top of every form."""
    v = report.verdict
    return v.headline + (f" (exit {v.exit_code})" if v.exit_code is not None else "")


def verdict_detail(report: Report) -> str:
    """What the verdict is about and each objective's figure, after its headline."""
    v = report.verdict
    figures = "; ".join(f"{o.name} {achieved(o)} of {dur(o.objective_seconds)}: {result_word(o)}" for o in v.objectives)
    hold = ""
    if v.hold is not None:
        hold = f"; hold {dur(v.hold.held_seconds)}: {plural(v.hold.probes, 'probe')}, {v.hold.failed} failed"
    return f"{report.run.mode} of {report.run.playbook} ({direction(report)}). {figures}{hold}."


def verdict_line(report: Report) -> str:
    return f"{verdict_head(report)}: {verdict_detail(report)}"


def objective_row(o: ObjectiveResult) -> tuple[str, ...]:
    return (o.name, dur(o.objective_seconds), achieved(o), result_word(o), o.basis)


def verdict_section(report: Report) -> Section:
    v = report.verdict
    rows = [objective_row(o) for o in v.objectives]
    if v.hold is not None:
        h = v.hold
        basis = f"{plural(h.probes, 'probe')} of {h.url or 'nothing (no health_url)'}, {h.failed} failed"
        rows.append(("Hold", dur(h.planned_seconds), dur(h.held_seconds), "passed" if h.passed else "FAILED", basis))
    return Section(
        "Verdict",
        paragraphs=(verdict_line(report),),
        table=Table(("Objective", "Target", "Achieved", "Result", "Basis"), tuple(rows)),
        bullets=v.reasons,
    )


def environment(report: Report) -> str:
    env = report.run.environment
    if env is None:
        return "a sandbox (rehearsal)" if report.run.rehearsal else "not recorded (an older journal)"
    if env.kind == "sandbox":
        how = "started by the run (--sandbox)" if env.embedded else f"at {env.arm_endpoint}"
        faults = f"; faults {'; '.join(env.faults)}" if env.faults else ""
        return f"REHEARSAL: a sandbox {how}, estate sha256 {(env.estate_sha256 or '?')[:12]}{faults}"
    if env.kind == "azure":
        return f"Azure: ARM {env.arm_endpoint}, tenant {env.tenant or '?'}, subscription {env.subscription}"
    return "no Azure (the playbook has no Azure step)"


def _outcome(report: Report) -> str:
    """The verdict's result, never the bare ending: a breached run's steps succeeded, but it did not."""
    v, run = report.verdict, report.run
    if not run.ended:
        return f"not ended ({run.state})"
    return f"{v.headline}" + (f" (exit {v.exit_code})" if v.exit_code is not None else "")


def run_section(report: Report) -> Section:
    run = report.run
    rows = [
        ("Run", run.id),
        ("Playbook", f"{run.playbook} ({run.playbook_path})"),
        ("Playbook SHA-256", run.playbook_sha256),
        ("Mode and direction", f"{run.mode}: {direction(report)}"),
        ("T0", f"{when(run.t0)} ({'declared' if run.t0_declared else 'run start'})"),
        ("Started", when(run.started_at)),
        ("Ended", when(run.ended_at) or f"not ended ({run.state})"),
        ("Outcome", _outcome(report)),
        ("Operator", who(run.operator)),
        ("Environment", environment(report)),
        ("drctl", f"{run.drctl_version} (pid {run.pid})"),
        ("Objectives", f"RTO {dur(run.rto_seconds)}, RPO {dur(run.rpo_seconds)}, MTTR {dur(run.mttr_seconds) or '-'}"),
    ]
    rows += [
        ("Resumed", f"{when(r.at)} by {who(r.operator)}" + (f", playbook changed: {r.reason}" if r.forced else ""))
        for r in run.resumed
    ]
    window = report.change_window
    if window is not None:
        if window.sandbox and not window.inside and window.declared:
            text = (
                "outside every window: a sandbox rehearsal, where change windows do not apply "
                f"(the next window: {window.next_opening})"
            )
        elif not window.declared:
            text = "none declared: drills may run at any time"
        elif window.inside:
            text = f"inside {window.window}"
        else:
            text = (
                f"OUTSIDE every window, by the operator's decision: {window.override_reason} "
                f"(the next window: {window.next_opening})"
            )
        rows.append(("Change window", text))
    j = report.journal
    chain = "hash chain verified" if j.chain_verified else f"hash chain NOT verified: {j.verification}"
    rows.append(("Journal", f"{plural(j.lines, 'line')}, {chain}; head sha256 {j.head_sha256}"))
    if run.secrets:
        rows.append(("Secrets redacted", ", ".join(run.secrets)))
    return Section("Run", table=Table(("", ""), tuple(rows)))


def phases_section(report: Report) -> Section:
    rows = tuple(
        (
            p.name,
            f"{p.source} -> {p.target}",
            tplus(p.start_offset_seconds),
            tplus(p.end_offset_seconds) or "not finished",
            dur(p.time_to_restore_seconds) if p.name != "hold" else "",
            when(p.restored_at),
        )
        for p in report.phases
    )
    headers = ("Phase", "Direction", "Start", "End", "Time to restore", "service.restored")
    note = "Times are from T0. A phase's time to restore runs from its start (T0 for the first) to its restore."
    return Section("Phases", paragraphs=(note,), table=Table(headers, rows))


def _note(step: StepReport) -> str:
    parts = []
    if step.completed_by_check:
        parts.append("completed by its done-check on resume")
    if step.skip_reason:
        parts.append(f"skipped: {step.skip_reason}")
    if step.advisory:
        parts.append("advisory failure (on_failure: continue)")
    if step.timed_out:
        parts.append("timed out")
    if step.summary:
        parts.append(step.summary)
    elif step.errors and step.state == "failed":
        parts.append(step.errors[-1].error)
    return "; ".join(parts)


def steps_section(report: Report) -> Section:
    rows = tuple(
        (
            s.key + (" *" if s.critical else ""),
            s.uses,
            s.state,
            f"{s.attempts}/{s.max_attempts}" if s.attempts else "",
            dur(s.budget_seconds),
            dur(s.actual_seconds) + (" (over)" if s.over_budget else ""),
            f"{tplus(s.planned_start_offset_seconds)} -> {tplus(s.planned_finish_offset_seconds)}",
            f"{tplus(s.start_offset_seconds)} -> {tplus(s.finish_offset_seconds)}" if s.started_at else "",
            _note(s),
        )
        for s in report.steps
    )
    headers = ("Step", "Action", "State", "Attempts", "Budget", "Actual", "Planned", "Actual (T+)", "Notes")
    note = "* on the critical path. Planned times are budgets along the dependencies, from T0."
    return Section("Steps: planned against actual", paragraphs=(note,), table=Table(headers, rows))


def errors_section(report: Report) -> Section:
    bullets = tuple(
        f"{s.key}, attempt {e.attempt}, {when(e.at)}: {e.error_type}: {e.error}" + ("" if e.final else " (retried)")
        for s in report.steps
        for e in s.errors
    )
    return Section("Errors and retries", bullets=bullets, empty="none")


def approvals_section(report: Report) -> Section:
    rows = tuple(
        (a.step, a.outcome, who(a.approver), when(a.at), a.via or "", a.reason or "", a.prompt)
        for a in report.approvals
    )
    headers = ("Step", "Outcome", "Approver", "At", "Via", "Reason", "Question")
    return Section("Approvals", table=Table(headers, rows), empty="none in this run")


def decisions_section(report: Report) -> Section:
    rows = tuple(
        (when(d.at), d.step or "run", d.question, d.choice, who(d.by), d.reason or "") for d in report.decisions
    )
    return Section("Decisions", table=Table(("At", "Step", "Question", "Choice", "By", "Reason"), rows), empty=None)


def messages_section(report: Report) -> Section:
    rows = tuple(
        (
            when(m.at),
            m.step,
            m.channel or "",
            m.kind or "",
            m.audience or "",
            m.title or "",
            m.message_id or "",
            "sent"
            if m.sent
            else (f"UNKNOWN (may be delivered): {m.error or ''}" if m.in_doubt else f"FAILED: {m.error or ''}"),
        )
        for m in report.messages
    )
    headers = ("At", "Step", "Channel", "Kind", "Audience", "Title", "Message id", "Result")
    return Section("Messages sent", table=Table(headers, rows), empty="none recorded")


def _values(values: Sequence[str], ttl: int | None) -> str:
    return ", ".join(values) + (f" (TTL {ttl})" if ttl is not None else "")


def dns_section(report: Report) -> Section:
    rows = tuple(
        (
            d.fqdn or "",
            d.type or "",
            _values(d.previous_values, d.previous_ttl),
            _values(d.values, d.ttl),
            when(d.changed_at or d.at),
            when(d.verified_at),
            f"{when(d.clients_switch_by)} ({tplus(d.clients_switch_offset_seconds)})" if d.clients_switch_by else "",
        )
        for d in report.dns
    )
    headers = ("Record", "Type", "Before", "After", "Changed", "Verified", "Clients switch by")
    note = "Clients may keep the old answer for the previous TTL: they have all moved by the change plus that TTL."
    return Section("DNS", paragraphs=(note,) if rows else (), table=Table(headers, rows), empty="no DNS change")


def frontdoor_section(report: Report) -> Section:
    """Front Door origins changed, the switch seen through the endpoint's host name (propagation measured), and
    origins fenced: each fact as its family's line reads it."""
    bullets = []
    for f in report.facts:
        fact = FACTS.get(f.kind)
        if fact is None or fact.report_section != "Front Door" or fact.line is None:
            continue
        line = fact.line(f.data)
        if line:
            bullets.append(f"{when(f.at)} {f.step}: {line}")
    return Section("Front Door", bullets=tuple(bullets), empty=None)


def rpo_section(report: Report) -> Section:
    rpo = report.rpo
    rows = tuple(
        (
            when(m.at),
            m.step,
            dur(m.seconds),
            m.source or "",
            m.basis or "",
            "yes" if m.upper_bound else "",
        )
        for m in rpo.measurements
    )
    gates = tuple(
        f"{g.step} at {when(g.at)}: gate {dur(g.gate_seconds)}, exposure {dur(g.exposure_seconds)}, "
        f"{'passed' if g.passed else 'not passed'}"
        + (f", accepted by {g.approver or g.by}: {g.reason}" if g.reason else "")
        for g in rpo.gates
    )
    headers = ("At", "Step", "Exposure", "Source", "Basis", "Upper bound")
    return Section("RPO evidence", table=Table(headers, rows), bullets=gates, empty="no RPO measurement")


def sql_section(report: Report) -> Section:
    rows = tuple(
        (when(f.at), f.step, f.failover_group or "", f.mode or "", f.primary or "", f.secondary or "")
        for f in report.sql_failovers
    )
    headers = ("At", "Step", "Failover group", "Mode", "Primary", "Secondary")
    return Section("SQL failovers", table=Table(headers, rows), empty=None)


def open_risks_section(report: Report) -> Section:
    """Said near the top: an old primary that may still take writes is the first thing a reader must act on."""
    bullets = tuple(
        f"{r.kind} {r.name} in {r.region} is NOT FENCED (since {when(r.at)}, step {r.step}): {r.detail}"
        for r in report.open_risks
    )
    note = (
        (
            "The old primary may still take writes the new primary never sees. Once "
            f"{', '.join(sorted({r.region for r in report.open_risks}))} answers again: drctl fence {report.run.id}",
        )
        if bullets
        else ()
    )
    return Section(
        "Open risks", paragraphs=note, bullets=bullets, empty="none: every item fenced" if report.fencing else None
    )


def fencing_section(report: Report) -> Section:
    rows = tuple(
        (
            when(f.at),
            f.step,
            f.via or "",
            f"{f.kind} {f.name}",
            f.region,
            "fenced" if f.fenced else "NOT FENCED",
            f.detail,
        )
        for f in report.fencing
    )
    headers = ("At", "Step", "Via", "Item", "Region", "Result", "Detail")
    return Section("Fencing", table=Table(headers, rows), empty=None)


def arm_section(report: Report) -> Section:
    rows = tuple(
        (
            when(c.at),
            c.step,
            c.operation or "",
            f"{c.method or ''} {c.path or ''}".strip(),
            str(c.status or ""),
            c.request_id or "",
            c.correlation_id or "",
        )
        for c in report.arm_calls
    )
    headers = ("At", "Step", "Operation", "Call", "Status", "Request id", "Correlation id")
    return Section("Azure Resource Manager calls", table=Table(headers, rows), empty=None)


def _state(state: dict[str, Any] | None) -> str:
    from drctl.actions.standby.facts import state_text

    return state_text(state) if state is not None else ""


def standby_section(report: Report) -> Section:
    back = report.back_to_standby
    rows = tuple(
        (
            r.name or "",
            r.kind or "",
            r.region or "",
            _state(r.prior),
            _state(r.found),
            _state(r.returned)
            if r.returned is not None
            else ("NOT returned" if r.verified is False else "not returned"),
            {True: "yes", False: "NO"}.get(r.verified, "") if r.verified is not None else "",
            " ".join(
                x
                for x in (
                    r.detail or "",
                    f"(priors of run {r.priors_run})" if r.priors_run and r.priors_run != report.run.id else "",
                )
                if x
            ),
        )
        for r in back.resources
    )
    bullets = tuple(
        f"{left.step}: {left.message or f'nothing journaled: {left.region} left as it is'}" for left in back.left_as_is
    )
    headers = ("Resource", "Kind", "Region", "Before the run", "Found", "Returned to", "Verified", "Detail")
    note = (
        "Each resource a standby step changed, with the state it had before the run changed it, and where a "
        "standby.return step put it back, what that step found and whether it reads its prior state back."
    )
    return Section(
        "Back to warm standby",
        paragraphs=(note,) if rows else (),
        table=Table(headers, rows),
        bullets=bullets,
        empty=None,
    )


def probes_section(report: Report) -> Section:
    rows = tuple(
        (
            str(p.n or ""),
            when(p.at),
            tplus(p.offset_seconds),
            str(p.status or ""),
            "ok" if p.ok else "FAILED",
            milliseconds(p.seconds * 1000 if p.seconds is not None else None, missing="no response"),
            p.error or "",
        )
        for p in report.probes
    )
    headers = ("Probe", "At", "T+", "Status", "Result", "Latency", "Error")
    return Section("Hold probes", table=Table(headers, rows), empty="none" if report.is_drill else None)


def objective_events_section(report: Report) -> Section:
    bullets = tuple(f"{when(e.at)} {e.type}: {e.detail}" for e in report.objective_events)
    return Section("Objective events", bullets=bullets, empty="none: no projection or objective was breached")


def other_facts_section(report: Report) -> Section:
    import json

    bullets = tuple(
        f"{when(f.at)} {f.step}: {f.kind} {json.dumps(f.data, sort_keys=True, default=str)}"
        for f in report.facts
        if f.kind not in SHOWN_KINDS
    )
    return Section("Other evidence", bullets=bullets, empty=None)


def family_sections(report: Report, built: set[str]) -> list[Section]:
    """A section for each report section a family names that no section above builds (Traffic Manager...): its
    facts in order, each as its console line, so a new family's evidence is in the report without a table here."""
    titles = sorted({f.report_section for f in FACTS.values() if f.report_section and f.report_section not in built})
    out = []
    for title in titles:
        kinds = {k: f for k, f in FACTS.items() if f.report_section == title}
        bullets = []
        for record in report.facts:
            fact = kinds.get(record.kind)
            line = fact.line(record.data) if fact is not None and fact.line is not None else None
            if line is not None:
                bullets.append(f"{when(record.at)} {record.step}: {line}")
        out.append(Section(title, bullets=tuple(bullets), empty=None))
    return out


def sections(report: Report) -> list[Section]:
    """Every section in reading order, the verdict first; empty ones without an ``empty`` text are left out."""
    made = [
        verdict_section(report),
        open_risks_section(report),
        run_section(report),
        phases_section(report),
        steps_section(report),
        errors_section(report),
        approvals_section(report),
        decisions_section(report),
        messages_section(report),
        dns_section(report),
        frontdoor_section(report),
        rpo_section(report),
        sql_section(report),
        fencing_section(report),
        standby_section(report),
        arm_section(report),
        probes_section(report),
        objective_events_section(report),
    ]
    made += [*family_sections(report, {s.title for s in made}), other_facts_section(report)]
    return [s for s in made if not s.is_empty or s.empty is not None]
