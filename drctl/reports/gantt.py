"""The timeline chart: an inline SVG Gantt of the run's steps, scaled to the run, readable offline.

The time axis spans the run itself (T0, or the first step when a declared T0 lies far before it, to the run's
end), so a 30-second sandbox rehearsal and a 50-minute failover both fill the chart. Budgets and the RTO are
context: drawn where they fit within half as much again as the run, otherwise cut at the right edge (budget
outlines with an arrow head, the RTO as a label with an arrow) and said in a note above the chart.

One row per step, in the run's order: a faint outline for its budget (from its actual start, so an overrun
shows), the actual bar coloured by outcome, and for anything but success a shape and a word beside the bar
(a red cross and ``FAILED``, ``advisory failure``, ``timed out``, ``running``, ``skipped``): never colour alone.
Marks for the service restored and DNS clients switched; for a drill a band per phase behind the rows, its name
placed where it does not collide with another. Every text's box is computed (``text_width``) so that no two
overlap. The SVG has a viewBox and ``width="100%"``: it scales to the page, never wider than its container.
Tooltips are SVG ``<title>`` elements: no script, no external font, nothing fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from drctl.durations import format_duration as fd
from drctl.reports.model import Report, StepReport

#: the drawing's own units (the viewBox); the page scales it to its width
WIDTH = 900
ROW = 18
LABEL = 190
RIGHT = 12
LINE = 14
FONT = 11
#: an upper bound on how wide a character of the chart's 11 px sans-serif text is (capitals and digits
#: included), used to keep every label apart and inside the drawing
CHAR = 6.8
#: budgets and the RTO are drawn to scale while they end within this many times the run's span
CONTEXT = 1.5

FILL = {
    "succeeded": "#2e7d32",
    "failed": "#c62828",
    "skipped": "#9e9e9e",
    "running": "#1565c0",
    "waiting": "#f9a825",
    "pending": "#bdbdbd",
}
ADVISORY = "#ef6c00"
FAILED_ROW = "#ffebee"
PHASE_FILL = {"failover": "#e3f2fd", "hold": "#fff8e1", "failback": "#e8f5e9"}
_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def text_width(text: str) -> float:
    """The widest the chart's text can be drawn: what every placement below reserves for it."""
    return CHAR * len(text)


def _attr(text: str) -> str:
    return escape(text, quote=True)


@dataclass(frozen=True)
class Axis:
    """Seconds from T0 -> x, over the run's span."""

    low: float
    high: float
    #: the run's last second (its end, or the latest activity of a run that has not ended)
    end: float
    #: why the axis is what it is, for a note above the chart
    notes: tuple[str, ...]

    @property
    def left(self) -> float:
        return LABEL

    @property
    def right(self) -> float:
        return WIDTH - RIGHT

    def x(self, seconds: float) -> float:
        seconds = min(max(seconds, self.low), self.high)
        return LABEL + (seconds - self.low) / (self.high - self.low) * (self.right - LABEL)


def axis(report: Report) -> Axis:
    """The run's span with a little room; budgets and the RTO widen it only while the run keeps most of it."""
    steps = report.steps
    starts = [s.start_offset_seconds for s in steps if s.start_offset_seconds is not None]
    finishes = [s.finish_offset_seconds for s in steps if s.finish_offset_seconds is not None]
    ended = report.run.ended_at
    last = max([*starts, *finishes, 0.0])
    end = max(last, (ended - report.run.t0).total_seconds()) if ended is not None else last
    first = min(starts, default=0.0)
    notes: list[str] = []
    low = min(0.0, first)
    if first > 0 and first > end - first:
        # a declared T0 long before the run: from T0 the run would be a sliver at the right
        low = first - 0.05 * (end - first)
        notes.append(
            f"T0 is {fd(first)} before the first step (a declared disaster time): the chart starts at T+{fd(low)}."
        )
    span = max(end - low, 1.0)
    limit = low + CONTEXT * span
    budget_ends = [s.start_offset_seconds + s.budget_seconds for s in steps if s.start_offset_seconds is not None]
    rto = report.run.rto_seconds
    context = [t for t in [*budget_ends, rto] if t <= limit]
    high = max([low + span, *context])
    high = low + (high - low) * 1.04
    beyond = [t for t in budget_ends if t > high]
    if beyond:
        notes.append(
            f"Budgets run to T+{fd(max(beyond))}, far past the run's T+{fd(end)}: their outlines are cut at the right "
            "edge (an arrow head)."
        )
    if rto > high:
        notes.append(f"The RTO ({fd(rto)}) lies far beyond the run: it is marked at the right edge.")
    return Axis(low=low, high=high, end=end, notes=tuple(notes))


def notes(report: Report) -> tuple[str, ...]:
    return axis(report).notes


def _tick(axis: Axis) -> float:
    """The smallest spacing whose labels stand apart (each label's width and a gap between neighbours)."""
    widest = text_width(f"T+{fd(axis.high)}") + 12
    pixels = (axis.right - LABEL) / (axis.high - axis.low)
    return next((s for s in _STEPS if s * pixels >= widest), 86400.0 * -(-widest // (86400 * pixels)))


def render_gantt(report: Report) -> str:
    ax = axis(report)
    steps = report.steps
    header = 3 * LINE + (2 * LINE if report.is_drill else 0) + 8
    top = header
    bottom = top + ROW * max(1, len(steps))
    height = bottom + 2 * LINE + 6
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {WIDTH} {height}" '
        'preserveAspectRatio="xMinYMin meet" style="max-width: 100%; height: auto" role="img" '
        f'aria-label="Timeline of the run" font-family="sans-serif" font-size="{FONT}">',
        "<title>Timeline: each step's actual time (solid) against its budget (outline), and the RTO</title>",
    ]
    out += _phase_bands(report, ax, top, bottom)
    out += _axis(ax, top, bottom)
    for row, step in enumerate(steps):
        out += _row(step, top + row * ROW, ax)
    out += _markers(report, ax, bottom)
    out.append("</svg>")
    return "\n".join(out)


def _phase_bands(report: Report, ax: Axis, top: int, bottom: int) -> list[str]:
    if not report.is_drill:
        return []
    bands: list[str] = []
    labels: list[str] = []
    band_top = top - 2 * LINE - 4
    taken: list[list[tuple[float, float]]] = [[], []]  # the label boxes already placed on each of two lines
    for phase in report.phases:
        if phase.start_offset_seconds is None:
            continue
        start = ax.x(phase.start_offset_seconds)
        stop = ax.x(phase.end_offset_seconds if phase.end_offset_seconds is not None else ax.end)
        colour = PHASE_FILL.get(phase.name, "#f5f5f5")
        tip = f"{_attr(phase.name)}: {_attr(phase.source)} -&gt; {_attr(phase.target)}"
        bands.append(
            f'<rect x="{start:.1f}" y="{band_top}" width="{max(1.0, stop - start):.1f}" '
            f'height="{bottom - band_top}" fill="{colour}"><title>{tip}</title></rect>'
        )
        # the full name if it fits on either line from the band's start, else its first letter; else only the tooltip
        for name in (phase.name, phase.name[:1]):
            placed = _place(name, start + 2, taken, ax.right)
            if placed is not None:
                line, at = placed
                y = top - 4 - LINE * line
                labels.append(f'<text x="{at:.1f}" y="{y}" fill="#37474f" font-style="italic">{_attr(name)}</text>')
                break
    return bands + labels


def _place(text: str, at: float, taken: list[list[tuple[float, float]]], right: float) -> tuple[int, float] | None:
    width = text_width(text)
    if at + width > right:
        return None
    for line, boxes in enumerate(taken):
        if all(at + width + 4 <= a or at >= b + 4 for a, b in boxes):
            boxes.append((at, at + width))
            return line, at
    return None


def _axis(ax: Axis, top: int, bottom: int) -> list[str]:
    out = [f'<line x1="{LABEL}" y1="{bottom}" x2="{ax.right}" y2="{bottom}" stroke="#607d8b"/>']
    spacing = _tick(ax)
    tick = spacing * -(-ax.low // spacing)  # the first multiple of the spacing at or after the axis' start
    while tick <= ax.high:
        at = ax.x(tick)
        label = f"T+{fd(tick)}"
        half = text_width(label) / 2
        out.append(f'<line x1="{at:.1f}" y1="{top}" x2="{at:.1f}" y2="{bottom + 4}" stroke="#eceff1"/>')
        if at + half <= WIDTH and at - half >= 0:
            out.append(f'<text x="{at:.1f}" y="{bottom + LINE + 3}" text-anchor="middle" fill="#455a64">{label}</text>')
        tick += spacing
    return out


def _label(key: str) -> str:
    fits = int((LABEL - 10) // CHAR)
    return key if len(key) <= fits else key[: fits - 1] + "\u2026"


def _status(step: StepReport) -> str | None:
    """The word beside a bar for anything but a plain success."""
    if step.state == "failed":
        return "advisory failure" if step.advisory else ("FAILED, timed out" if step.timed_out else "FAILED")
    if step.state == "succeeded":
        return "over budget" if step.over_budget else None
    return {"running": "running", "waiting": "waiting", "skipped": "skipped", "pending": "not started"}.get(
        step.state, step.state
    )


def _row(step: StepReport, y: int, ax: Axis) -> list[str]:
    failed = step.state == "failed"
    out = []
    if failed:
        out.append(f'<rect x="0" y="{y}" width="{WIDTH}" height="{ROW}" fill="{FAILED_ROW}"/>')
    weight = ' font-weight="bold"' if failed and not step.advisory else ""
    out.append(
        f'<text x="4" y="{y + 13}" fill="#263238"{weight}>{_attr(_label(step.key))}<title>{_attr(step.key)}'
        "</title></text>"
    )
    word = _status(step)
    start = step.start_offset_seconds
    if start is None:
        if word is not None:
            out.append(f'<text x="{LABEL + 4}" y="{y + 13}" fill="#757575" font-style="italic">{word}</text>')
        return out
    out += _budget(step, start, y, ax)
    stop = step.finish_offset_seconds if step.finish_offset_seconds is not None else ax.end
    colour = ADVISORY if step.advisory else FILL.get(step.state, "#757575")
    left = ax.x(start)
    width = max(3.0, ax.x(stop) - left)
    took = fd(step.actual_seconds) if step.actual_seconds is not None else fd(stop - start)
    tip = f"{step.key}: {step.state}, T+{fd(start)} to T+{fd(stop)}, took {took} of a {fd(step.budget_seconds)} budget"
    out.append(
        f'<rect x="{left:.1f}" y="{y + 4}" width="{width:.1f}" height="{ROW - 8}" fill="{colour}">'
        f"<title>{_attr(tip)}</title></rect>"
    )
    if word is not None:
        out += _flag(word, cross=failed, left=left, right=left + width, y=y, ax=ax)
    return out


def _budget(step: StepReport, start: float, y: int, ax: Axis) -> list[str]:
    """The budget's outline, cut at the right edge with an arrow head when it runs past the chart."""
    end = start + step.budget_seconds
    left, right = ax.x(start), ax.x(end)
    tip = f"<title>{_attr(step.key)}: budget {fd(step.budget_seconds)}, to T+{fd(end)}</title>"
    out = [
        f'<rect x="{left:.1f}" y="{y + 2}" width="{max(1.0, right - left):.1f}" height="{ROW - 4}" fill="#f5f7f8" '
        f'stroke="#b0bec5" stroke-dasharray="3 2">{tip}</rect>'
    ]
    if end > ax.high:
        tip_x = ax.right + RIGHT - 2
        out.append(
            f'<polygon points="{ax.right:.1f},{y + 4} {tip_x:.1f},{y + ROW / 2:.1f} {ax.right:.1f},{y + ROW - 4}" '
            f'fill="#b0bec5">{tip}</polygon>'
        )
    return out


def _flag(word: str, *, cross: bool, left: float, right: float, y: int, ax: Axis) -> list[str]:
    """A failed step's cross and word (or another state's word): right of the bar, else left of it, else on it."""
    shape = 12 if cross else 0
    width = shape + text_width(word)
    if right + 4 + width <= ax.right:
        at, fill = right + 4, "#b71c1c" if cross else "#37474f"
    elif left - 4 - width >= LABEL:
        at, fill = left - 4 - width, "#b71c1c" if cross else "#37474f"
    else:
        at, fill = max(LABEL + 2.0, right - 4 - width), "#ffffff"
    out = []
    if cross:
        cx, cy = at + 5, y + ROW / 2
        stroke = fill if fill == "#ffffff" else "#b71c1c"
        out.append(
            f'<path d="M{cx - 4:.1f},{cy - 4:.1f} L{cx + 4:.1f},{cy + 4:.1f} M{cx - 4:.1f},{cy + 4:.1f} '
            f'L{cx + 4:.1f},{cy - 4:.1f}" stroke="{stroke}" stroke-width="2.5"/>'
        )
    weight = ' font-weight="bold"' if cross else ""
    out.append(f'<text x="{at + shape:.1f}" y="{y + 13}" fill="{fill}"{weight}>{_attr(word)}</text>')
    return out


def _marker(ax: Axis, seconds: float, *, colour: str, label: str, bottom: int, line: int) -> list[str]:
    """A vertical line with its label on its own line above the chart; beyond the chart, a label at its right
    edge with an arrow."""
    y = LINE * (line + 1) - 2
    if seconds > ax.high:
        return [f'<text x="{WIDTH - 2}" y="{y}" text-anchor="end" fill="{colour}">{_attr(label)} -&gt;</text>']
    at = ax.x(seconds)
    width = text_width(label)
    anchor = f'x="{at + 3:.1f}"' if at + 3 + width <= WIDTH - 2 else f'x="{at - 3:.1f}" text-anchor="end"'
    dash = ' stroke-dasharray="6 3"' if line != 1 else ""
    return [
        f'<line x1="{at:.1f}" y1="{y + 3}" x2="{at:.1f}" y2="{bottom}" stroke="{colour}" stroke-width="2"{dash}>'
        f"<title>{_attr(label)}</title></line>",
        f'<text {anchor} y="{y}" fill="{colour}">{_attr(label)}</text>',
    ]


def _markers(report: Report, ax: Axis, bottom: int) -> list[str]:
    rto = report.run.rto_seconds
    out = _marker(ax, rto, colour="#c62828", label=f"RTO {fd(rto)}", bottom=bottom, line=0)
    achieved = next((o for o in report.verdict.objectives if o.name == "RTO"), None)
    if achieved is not None and achieved.achieved_seconds is not None:
        label = f"restored T+{fd(achieved.achieved_seconds)}"
        out += _marker(ax, achieved.achieved_seconds, colour="#2e7d32", label=label, bottom=bottom, line=1)
    switches = [d.clients_switch_offset_seconds for d in report.dns if d.clients_switch_offset_seconds is not None]
    if switches:
        label = f"DNS clients switched by T+{fd(max(switches))}"
        out += _marker(ax, max(switches), colour="#6a1b9a", label=label, bottom=bottom, line=2)
    return out
