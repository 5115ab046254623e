"""The timeline chart: an inline SVG Gantt of the steps against the RTO line, readable offline.

One row per step, in the run's order: a ghost bar for its budget (from its actual start, so an overrun shows),
the actual bar from its start to its end coloured by outcome, the RTO as a vertical line from T0, markers for
the service restored and for DNS clients switched, and for a drill a band per phase behind the rows. Tooltips
are SVG ``<title>`` elements: no script, no external font, nothing fetched.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from drctl.durations import format_duration as fd
from drctl.reports.model import Report, StepReport

ROW = 18
LABEL = 230
WIDTH = 980
TOP = 70
BOTTOM = 34
#: about how wide a character of the chart's 11 px sans-serif text is, to keep labels apart and inside
CHAR = 6.2

FILL = {
    "succeeded": "#2e7d32",
    "failed": "#c62828",
    "skipped": "#9e9e9e",
    "running": "#1565c0",
    "waiting": "#f9a825",
    "pending": "#bdbdbd",
}
ADVISORY = "#ef6c00"
PHASE_FILL = {"failover": "#e3f2fd", "hold": "#fff8e1", "failback": "#e8f5e9"}
#: seconds from T0 -> x in the chart
Scale = Callable[[float], float]
_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def _tick(span: float) -> float:
    """A tick spacing that gives between about 4 and 12 ticks."""
    return next((s for s in _STEPS if span / s <= 12), _STEPS[-1])


def _attr(text: str) -> str:
    return escape(text, quote=True)


def _bar_end(step: StepReport, end: float) -> float | None:
    if step.start_offset_seconds is None:
        return None
    return step.finish_offset_seconds if step.finish_offset_seconds is not None else end


def _span(report: Report) -> tuple[float, float]:
    """The time axis in seconds from T0: from T0 (or the earliest start) to the last end or budget, and to the RTO
    unless the RTO is so far beyond the run that every bar would be a sliver (it is then marked at the edge)."""
    starts = [s.start_offset_seconds for s in report.steps if s.start_offset_seconds is not None]
    finishes = [s.finish_offset_seconds for s in report.steps if s.finish_offset_seconds is not None]
    ghosts = [
        (s.start_offset_seconds or 0.0) + s.budget_seconds for s in report.steps if s.start_offset_seconds is not None
    ]
    ended = report.run.ended_at
    last = (ended - report.run.t0).total_seconds() if ended else max(finishes + starts, default=0.0)
    low = min([0.0, *starts])
    work = max([last, *finishes, *ghosts, low + 1.0])
    rto = report.run.rto_seconds
    high = max(work, rto) if rto <= 2 * work else work
    return low, high * 1.03


def render_gantt(report: Report) -> str:
    low, high = _span(report)
    steps = report.steps
    plot = WIDTH - LABEL - 20
    height = TOP + ROW * max(1, len(steps)) + BOTTOM

    def x(seconds: float) -> float:
        return LABEL + (seconds - low) / (high - low) * plot

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="Timeline of the run against the RTO" '
        'font-family="sans-serif" font-size="11">',
        "<title>Timeline: each step's actual time (solid) against its budget (outline), and the RTO</title>",
    ]
    bottom = TOP + ROW * max(1, len(steps))
    out += _phase_bands(report, x, bottom)
    out += _axis(low, high, x, bottom)
    end = (report.run.ended_at - report.run.t0).total_seconds() if report.run.ended_at else high / 1.03
    for row, step in enumerate(steps):
        out += _row(step, row, x, end)
    out += _markers(report, high, x, bottom)
    out.append("</svg>")
    return "\n".join(out)


def _phase_bands(report: Report, x: Scale, bottom: int) -> list[str]:
    bands: list[str] = []
    labels: list[str] = []
    if not report.is_drill:
        return bands
    row_end = [0.0, 0.0]  # where the last label of each of two rows ends, so that narrow phases do not overlap
    for phase in report.phases:
        if phase.start_offset_seconds is None:
            continue
        start = x(phase.start_offset_seconds)
        stop = x(phase.end_offset_seconds) if phase.end_offset_seconds is not None else x(_last(report))
        width = max(1.0, stop - start)
        colour = PHASE_FILL.get(phase.name, "#f5f5f5")
        bands.append(
            f'<rect x="{start:.1f}" y="{TOP - 30}" width="{width:.1f}" height="{bottom - TOP + 30}" fill="{colour}">'
            f"<title>{_attr(phase.name)}: {_attr(phase.source)} -&gt; {_attr(phase.target)}</title></rect>"
        )
        row = 0 if start >= row_end[0] else 1
        label_x = max(start + 3, row_end[row])
        row_end[row] = label_x + CHAR * len(phase.name) + 6
        name = _attr(phase.name)
        labels.append(
            f'<text x="{label_x:.1f}" y="{TOP - 4 - 12 * row}" fill="#37474f" font-style="italic">{name}</text>'
        )
    return bands + labels


def _last(report: Report) -> float:
    ends = [s.finish_offset_seconds or s.start_offset_seconds or 0.0 for s in report.steps]
    return max(ends, default=0.0)


def _axis(low: float, high: float, x: Scale, bottom: int) -> list[str]:
    out = [f'<line x1="{LABEL}" y1="{bottom}" x2="{WIDTH - 20}" y2="{bottom}" stroke="#607d8b"/>']
    spacing = _tick(high - low)
    tick = 0.0 if low >= 0 else -spacing * int(-low // spacing)
    while tick <= high:
        if tick >= low:
            at = x(tick)
            out.append(f'<line x1="{at:.1f}" y1="{TOP}" x2="{at:.1f}" y2="{bottom + 4}" stroke="#eceff1"/>')
            out.append(f'<text x="{at:.1f}" y="{bottom + 16}" text-anchor="middle" fill="#455a64">T+{fd(tick)}</text>')
        tick += spacing
    return out


def _row(step: StepReport, row: int, x: Scale, end: float) -> list[str]:
    y = TOP + row * ROW
    label = step.key if len(step.key) <= 34 else step.key[:33] + "..."
    out = [f'<text x="4" y="{y + 13}" fill="#263238">{_attr(label)}<title>{_attr(step.key)}</title></text>']
    start = step.start_offset_seconds
    if start is None:
        return out
    ghost = max(1.0, x(start + step.budget_seconds) - x(start))
    out.append(
        f'<rect x="{x(start):.1f}" y="{y + 3}" width="{ghost:.1f}" height="{ROW - 6}" fill="none" '
        f'stroke="#90a4ae" stroke-dasharray="3 2"><title>{_attr(step.key)}: budget {fd(step.budget_seconds)}'
        "</title></rect>"
    )
    stop = _bar_end(step, end)
    if stop is None:
        return out
    colour = ADVISORY if step.advisory else FILL.get(step.state)
    width = max(1.5, x(stop) - x(start))
    took = fd(step.actual_seconds) if step.actual_seconds is not None else fd(stop - start)
    tip = f"{step.key}: {step.state}, T+{fd(start)} to T+{fd(stop)}, took {took} of a {fd(step.budget_seconds)} budget"
    out.append(
        f'<rect x="{x(start):.1f}" y="{y + 5}" width="{width:.1f}" height="{ROW - 10}" fill="{colour or "#757575"}">'
        f"<title>{_attr(tip)}</title></rect>"
    )
    return out


def _marker(
    x: Scale, seconds: float, *, high: float, colour: str, label: str, bottom: int, line: int, dashed: bool = True
) -> list[str]:
    """A vertical line with its label; a time beyond the chart is a label at its right edge, with an arrow."""
    y = 12 + 12 * line
    if seconds > high:
        return [f'<text x="{WIDTH - 4}" y="{y}" text-anchor="end" fill="{colour}">{_attr(label)} -&gt;</text>']
    at = x(seconds)
    fits = at + 3 + CHAR * len(label) <= WIDTH - 4
    anchor = f'x="{at + 3:.1f}"' if fits else f'x="{at - 3:.1f}" text-anchor="end"'
    return [
        f'<line x1="{at:.1f}" y1="{TOP - 30}" x2="{at:.1f}" y2="{bottom}" stroke="{colour}" stroke-width="2"'
        + (' stroke-dasharray="6 3"' if dashed else "")
        + f"><title>{_attr(label)}</title></line>",
        f'<text {anchor} y="{y}" fill="{colour}">{_attr(label)}</text>',
    ]


def _markers(report: Report, high: float, x: Scale, bottom: int) -> list[str]:
    rto = report.run.rto_seconds
    out = _marker(x, rto, high=high, colour="#c62828", label=f"RTO {fd(rto)}", bottom=bottom, line=0)
    achieved = next((o for o in report.verdict.objectives if o.name == "RTO"), None)
    if achieved is not None and achieved.achieved_seconds is not None:
        label = f"restored T+{fd(achieved.achieved_seconds)}"
        out += _marker(
            x, achieved.achieved_seconds, high=high, colour="#2e7d32", label=label, bottom=bottom, line=1, dashed=False
        )
    switches = [d.clients_switch_offset_seconds for d in report.dns if d.clients_switch_offset_seconds is not None]
    if switches:
        label = f"DNS clients switched by T+{fd(max(switches))}"
        out += _marker(x, max(switches), high=high, colour="#6a1b9a", label=label, bottom=bottom, line=2)
    return out
