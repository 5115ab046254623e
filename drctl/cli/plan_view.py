"""Plan renderers: text for a terminal, Markdown for a change request. Each returns a string."""

from __future__ import annotations

from drctl.actions.messages import for_mode
from drctl.durations import format_duration as fd
from drctl.planning.plan import DrillPlan, Plan, PlannedStep
from drctl.playbook.enums import Mode
from drctl.text import PATH_SHOWN, markdown_text, path_text, plural


def _flags(step: PlannedStep) -> str:
    return ("*" if step.critical else " ") + ("!" if step.mutating else " ")


def _pct(seconds: float, rto: float) -> str:
    return f"{seconds / rto:.0%}" if rto else "-"


def _text_waves(plan: Plan, drill: DrillPlan | None) -> list[str]:
    lines = []
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
            lines.extend(f"       {intent}" for intent in _intents(plan, step, drill))
        lines.append("")
    return lines


def render_text(plan: Plan) -> str:
    drill = plan.drill
    lines = [
        f"Plan: {plan.playbook}, {plan.mode.value}: {plan.source} ({plan.source_location}) -> "
        f"{plan.target} ({plan.target_location})" + (f", hold, then back to {plan.source}" if drill else ""),
        f"File: {plan.file} (sha256 {plan.sha256[:12]})",
        f"Objectives: RTO {fd(plan.rto)}, RPO {fd(plan.rpo)}" + (f", MTTR {fd(plan.mttr)}" if plan.mttr else ""),
        f"Critical path{' (failover half)' if drill else ''}: {fd(plan.length)} of budgets, "
        f"{_pct(plan.length, plan.rto)} of the RTO "
        + (f"({fd(plan.margin)} to spare)" if plan.margin >= 0 else f"(OVER by {fd(-plan.margin)})"),
        "  " + path_text(plan.critical_path),
        f"T0: {plan.t0_meaning}",
        "",
    ]
    if drill:
        lines.append(f"Failover half: {plan.source} -> {plan.target}")
    lines += _text_waves(plan, drill)
    if drill:
        lines.append(f"Hold: {_hold_words(plan)}")
        lines.append("")
        back = drill.failback
        lines.append(f"Failback half: {back.source} -> {back.target} (times from the failback's start)")
        lines += _text_waves(back, drill)
        lines.append(f"Whole drill by budgets: {fd(drill.total(plan))}; change windows: {_windows_words(plan)}")
    if plan.skipped:
        lines.append(f"Not in {plan.mode.value} mode: {', '.join(plan.skipped)}")
    for warning in plan.warnings:
        lines.append(f"warning: {warning}")
    lines.append("Legend: * on the critical path, ! changes the estate. Times are budgets from T0.")
    return "\n".join(lines) + "\n"


def _hold_words(plan: Plan) -> str:
    drill = plan.drill
    assert drill is not None
    probe = (
        f"probing {drill.probe_url} every {fd(drill.probe_interval_seconds)}"
        if drill.probe_url
        else "nothing to probe (the target declares no health_url)"
    )
    return (
        f"{fd(drill.hold_seconds)} on {plan.target}, {probe}; a failed probe ends the hold at once, the drill "
        "fails back and the drill fails"
    )


def _windows_words(plan: Plan) -> str:
    drill = plan.drill
    assert drill is not None
    if not drill.windows:
        return "no change windows declared: drills may run at any time"
    return (
        f"{'; '.join(drill.windows)}: outside them `drctl drill` refuses unless "
        '--outside-window --reason "..." (journaled); a --sandbox rehearsal is exempt'
    )


def _md(text: str) -> str:
    """drctl's own Markdown-bearing words (backticked commands) in a table cell."""
    return text.replace("|", "\\|")


def _quote(text: str) -> str:
    """Words that carry the playbook's text (names, titles, intents, warnings): shown literally."""
    return markdown_text(text)


def _intro(plan: Plan) -> str:
    if plan.drill is not None:
        return (
            f"A drill rehearses the failover and proves the RTO: `drctl drill {plan.file}`. It fails "
            f"{plan.playbook} over from {plan.source} to {plan.target} (planned, never forced), holds on "
            f"{plan.target}, then fails back to {plan.source}: one run, one journal, one report for both "
            "directions. Messages go only to channels whose audiences include `drill`, marked [DRILL]."
        )
    if plan.mode is Mode.FAILBACK:
        return (
            f"A failback returns {plan.playbook} from {plan.source} to {plan.target}, its home region, after a "
            f"failover: `drctl failback {plan.file}`. The same steps as the failover, with source and target "
            "swapped; its own target checks verify the home region before DNS moves back."
        )
    return (
        f"A failover of {plan.playbook} from {plan.source} to {plan.target}: `drctl failover {plan.file}`, "
        "against the RTO from T0."
    )


def _summary(plan: Plan) -> list[str]:
    drill = plan.drill
    direction = f"{plan.source} ({plan.source_location}) → {plan.target} ({plan.target_location})"
    if drill is not None:
        direction += f", hold {fd(drill.hold_seconds)}, → {plan.source} ({plan.source_location})"
    rows = [
        "| | |",
        "|---|---|",
        f"| Direction | {direction} |",
        f"| Playbook | `{plan.file}` |",
        f"| SHA-256 | `{plan.sha256}` |",
        f"| RTO / RPO | {fd(plan.rto)} / {fd(plan.rpo)}"
        + (f" (MTTR target {fd(plan.mttr)})" if plan.mttr else "")
        + " |",
        f"| Critical path{' (failover half)' if drill else ''} | {fd(plan.length)} of budgets, "
        f"{_pct(plan.length, plan.rto)} of the RTO, "
        + (f"{fd(plan.margin)} to spare |" if plan.margin >= 0 else f"**over by {fd(-plan.margin)}** |"),
        f"| T0 | {plan.t0_meaning} |",
    ]
    steps = plan.steps + (drill.failback.steps if drill else [])
    if drill is not None:
        rows.append(
            f"| Whole drill | {fd(drill.total(plan))} by budgets: failover {fd(plan.length)}, hold "
            f"{fd(drill.hold_seconds)}, failback {fd(drill.failback.length)} |"
        )
        rows.append(f"| Change windows | {_md(_windows_words(plan))} |")
    waves = len(plan.waves) + (len(drill.failback.waves) if drill else 0)
    changing = sum(s.mutating for s in steps)
    rows.append(
        f"| Steps | {plural(len(steps), 'step')} in {plural(waves, 'wave')}; "
        f"{changing} {'changes' if changing == 1 else 'change'} the estate |"
    )
    return rows


def _intents(plan: Plan, step: PlannedStep, drill: DrillPlan | None) -> tuple[str, ...]:
    """A step's intents as this run carries them out: those of its mode (a message names only the channels the
    mode's audience reaches, its title filled for the mode); in a drill a failover that may force runs planned
    only."""
    intents = for_mode(step.intents, plan.mode.value)
    if drill is None or step.id not in drill.planned_only:
        return intents
    kept = [i for i in intents if not i.startswith("forced failover")]
    return (kept[0] + "; in a drill: planned only, never forced", *kept[1:]) if kept else intents


def _changes(plan: Plan, drill: DrillPlan | None) -> list[str]:
    changes = [f"- **{s.id}**: {_quote(i)}" for s in plan.steps if s.mutating for i in _intents(plan, s, drill)]
    return changes or ["- none"]


def _waves_md(plan: Plan) -> list[str]:
    out = [
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
    return [*out, ""]


def _each_step(plan: Plan, drill: DrillPlan | None) -> list[str]:
    out = []
    for s in plan.steps:
        title = f" ({_quote(s.name)})" if s.name else ""
        out.append(f"### `{s.id}`{title}")
        out.append("")
        needs = ", ".join(f"`{n}`" for n in s.needs) or "nothing (starts at once)"
        out.append(f"{s.uses}, after {needs}; timeout {fd(s.timeout)}.")
        out.append("")
        out += [f"- {_quote(i)}" for i in _intents(plan, s, drill)]
        out.append("")
    return out


def _drill_safety(plan: Plan) -> list[str]:
    drill = plan.drill
    assert drill is not None
    out = ["## Drill safety", ""]
    out += [
        f"- **{step}**: runs as a planned failover only (no data loss): a drill never forces"
        for step in drill.planned_only
    ]
    if drill.drill_channels:
        out.append(f"- Messages go to {', '.join(drill.drill_channels)} (drill audience), marked [DRILL]")
    if drill.production_only_channels:
        out.append(
            f"- Never messaged in a drill (production audience only): {', '.join(drill.production_only_channels)}"
        )
    if drill.once_per_drill:
        out.append(
            f"- Periodic steps run once per drill, their cadence going on through the hold and the failback: "
            f"{', '.join(drill.once_per_drill)}"
        )
    out += [f"- **refused**: {_quote(r)}: `drctl drill` will not start" for r in drill.refusals]
    return [*out, ""]


def _critical_md(plan: Plan) -> str:
    """The critical path on one line, by its ends when it is long (the waves table marks every step on it)."""
    path = path_text([f"`{s}`" for s in plan.critical_path], arrow=" → ")
    if len(plan.critical_path) > PATH_SHOWN:
        path += " (every step on it is marked in the waves table)"
    return path


def render_markdown(plan: Plan) -> str:
    drill = plan.drill
    kind = "drill" if drill else plan.mode.value
    out = [f"# DR plan: {plan.playbook} ({kind})", "", _intro(plan), "", *_summary(plan), ""]
    if drill is None:
        out += ["## Changes this run makes", "", *_changes(plan, None)]
    else:
        back = drill.failback
        out += ["## Changes this drill makes", "", f"Failover half, {plan.source} → {plan.target}:", ""]
        out += [*_changes(plan, drill), "", f"Failback half, {back.source} → {back.target}:", ""]
        out += _changes(back, drill)
    approvals = [s for s in plan.steps if s.uses == "gate.approval"]
    out += ["", "## Approvals", ""]
    out += [f"- **{s.id}**: {_quote(' '.join(_intents(plan, s, drill)))}" for s in approvals] or [
        "- none in this playbook"
    ]
    if drill is not None and approvals:
        out.append("- asked again in the failback half, before anything moves back")
    out.append("")
    if drill is not None:
        out += _drill_safety(plan)
    half = " (failover half)" if drill else ""
    out += [
        f"## Steps by wave{half}",
        "",
        f"Steps in one wave run in parallel. Times are budgets from T0 ({plan.t0_meaning}).",
        "",
        *_waves_md(plan),
    ]
    if drill is not None:
        back = drill.failback
        out += ["## Hold", "", f"Hold {_quote(_hold_words(plan))}.", ""]
        out += [
            "## Steps by wave (failback half)",
            "",
            f"{back.source} → {back.target}, the same steps reversed. Times are budgets from the failback's start.",
            "",
            *_waves_md(back),
        ]
    out += ["## What each step does" + half, "", *_each_step(plan, drill)]
    if drill is not None:
        out += ["## What each step does (failback half)", "", *_each_step(drill.failback, drill)]
    out += ["## Critical path" + half, "", _critical_md(plan), ""]
    if plan.skipped:
        out += [f"Not run in {plan.mode.value} mode: " + ", ".join(f"`{s}`" for s in plan.skipped), ""]
    if plan.warnings:
        out += ["## Warnings", ""] + [f"- {_quote(w)}" for w in plan.warnings] + [""]
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
