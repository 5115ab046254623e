"""Plan renderers: text for a terminal, Markdown for a change request. Each returns a string."""

from __future__ import annotations

from drctl.durations import format_duration as fd
from drctl.playbook.plan import Plan, PlannedStep


def _flags(step: PlannedStep) -> str:
    return ("*" if step.critical else " ") + ("!" if step.mutating else " ")


def _pct(seconds: float, rto: float) -> str:
    return f"{seconds / rto:.0%}" if rto else "-"


def render_text(plan: Plan) -> str:
    lines = [
        f"Plan: {plan.playbook}, {plan.mode.value}: {plan.source} ({plan.source_location}) -> "
        f"{plan.target} ({plan.target_location})",
        f"File: {plan.file} (sha256 {plan.sha256[:12]})",
        f"Objectives: RTO {fd(plan.rto)}, RPO {fd(plan.rpo)}" + (f", MTTR {fd(plan.mttr)}" if plan.mttr else ""),
        f"Critical path: {fd(plan.length)} of budgets, {_pct(plan.length, plan.rto)} of the RTO "
        + (f"({fd(plan.margin)} to spare)" if plan.margin >= 0 else f"(OVER by {fd(-plan.margin)})"),
        "  " + " -> ".join(plan.critical_path),
        "",
    ]
    for number, wave in enumerate(plan.waves, start=1):
        lines.append(f"Wave {number}" + (" (in parallel)" if len(wave) > 1 else ""))
        for step in wave:
            timing = (
                "background"
                if step.background
                else f"budget {fd(step.budget)}, T+{fd(step.start)} -> "
                f"T+{fd(step.finish)} ({_pct(step.finish, plan.rto)} of RTO)"
            )
            extras = []
            if step.attempts > 1:
                extras.append(f"{step.attempts} attempts")
            if step.on_failure != "abort":
                extras.append(f"on failure: {step.on_failure}")
            extra = f"; {', '.join(extras)}" if extras else ""
            lines.append(f" {_flags(step)} {step.id} [{step.uses}] {timing}{extra}")
            lines.extend(f"       {intent}" for intent in step.intents)
        lines.append("")
    if plan.skipped:
        lines.append(f"Not in {plan.mode.value} mode: {', '.join(plan.skipped)}")
    for warning in plan.warnings:
        lines.append(f"warning: {warning}")
    lines.append("Legend: * on the critical path, ! changes the estate. Times are budgets from T0.")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(plan: Plan) -> str:
    changes = [(s, i) for s in plan.steps if s.mutating for i in s.intents]
    approvals = [s for s in plan.steps if s.uses == "gate.approval"]
    out = [
        f"# DR plan: {plan.playbook} ({plan.mode.value})",
        "",
        "| | |",
        "|---|---|",
        f"| Direction | {plan.source} ({plan.source_location}) → {plan.target} ({plan.target_location}) |",
        f"| Playbook | `{plan.file}` |",
        f"| SHA-256 | `{plan.sha256}` |",
        f"| RTO / RPO | {fd(plan.rto)} / {fd(plan.rpo)}"
        + (f" (MTTR target {fd(plan.mttr)})" if plan.mttr else "")
        + " |",
        f"| Critical path | {fd(plan.length)} of budgets, {_pct(plan.length, plan.rto)} of the RTO, "
        + (f"{fd(plan.margin)} to spare |" if plan.margin >= 0 else f"**over by {fd(-plan.margin)}** |"),
        f"| Steps | {len(plan.steps)} in {len(plan.waves)} waves; {sum(s.mutating for s in plan.steps)} change "
        "the estate |",
        "",
        "## Changes this run makes",
        "",
    ]
    out += [f"- **{s.id}**: {_md(i)}" for s, i in changes] or ["- none"]
    out += ["", "## Approvals", ""]
    out += [f"- **{s.id}**: {_md(' '.join(s.intents))}" for s in approvals] or ["- none in this playbook"]
    out += [
        "",
        "## Steps by wave",
        "",
        "Steps in one wave run in parallel. Times are budgets from T0 (the declared disaster time).",
        "",
        "| Wave | Step | Action | Changes | Budget | From → to (T+) | Of RTO | Critical | On failure |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for number, wave in enumerate(plan.waves, start=1):
        for s in wave:
            window = "background" if s.background else f"{fd(s.start)} → {fd(s.finish)}"
            out.append(
                f"| {number} | `{s.id}` | {s.uses} | {'yes' if s.mutating else 'no'} | {fd(s.budget)} | {window} "
                f"| {_pct(s.finish, plan.rto)} | {'yes' if s.critical else ''} | {s.on_failure}"
                + (f", {s.attempts} attempts" if s.attempts > 1 else "")
                + " |"
            )
    out += ["", "## What each step does", ""]
    for s in plan.steps:
        title = f" ({_md(s.name)})" if s.name else ""
        out.append(f"### `{s.id}`{title}")
        out.append("")
        needs = ", ".join(f"`{n}`" for n in s.needs) or "nothing (starts at once)"
        out.append(f"{s.uses}, after {needs}; timeout {fd(s.timeout)}.")
        out.append("")
        out += [f"- {_md(i)}" for i in s.intents]
        out.append("")
    out += ["## Critical path", "", " → ".join(f"`{s}`" for s in plan.critical_path), ""]
    if plan.skipped:
        out += [f"Not run in {plan.mode.value} mode: " + ", ".join(f"`{s}`" for s in plan.skipped), ""]
    if plan.warnings:
        out += ["## Warnings", ""] + [f"- {_md(w)}" for w in plan.warnings] + [""]
    out += [
        "## Sign-off",
        "",
        "| Role | Name | Date | Decision |",
        "|---|---|---|---|",
        "| Reviewer | | | |",
        "| Change approver | | | |",
        "",
        "Generated by `drctl plan --format md` from the playbook above; a changed playbook has a different "
        "SHA-256 and needs a new review.",
    ]
    return "\n".join(out) + "\n"
