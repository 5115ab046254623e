"""Start-up figures: median wall time of `drctl --help`, `drctl validate` and `drctl plan` of a 500-step playbook.

Run: python benchmarks/startup.py [--runs N] [--only NAME...] [--no-scaling] [--record]
Targets (issue 2, 2-core machine): --help and validate of the sample <= 0.2 s; plan of 500 steps <= 0.5 s.
Validation grows linearly with the steps (issue 11): 10,000 and 20,000 steps are timed once each (--runs ignored),
and the second should take about twice the first.

Each figure is printed beside the previous one recorded in ``startup.previous.json`` (with the commit and date it
was taken); ``--record`` replaces those with this run's. The machine these run on is shared: compare figures
taken with the same ``--runs`` and the same load, and read a single run as a hint, not a verdict.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "playbooks" / "au-east-to-au-southeast.yaml"
PREVIOUS = Path(__file__).with_name("startup.previous.json")


def generated_playbook(steps: int) -> str:
    head = SAMPLE.read_text().split("\nsteps:\n")[0]
    lines = [head, "steps:"]
    for i in range(steps):
        needs = f"[s{i - 1}]" if i % 10 else ("[]" if i == 0 else f"[s{i - 10}]")
        lines += [f"  - id: s{i}", "    uses: wait", f"    needs: {needs}", "    with: {duration: 1s}"]
    return "\n".join(lines) + "\n"


def median_seconds(argv: list[str], runs: int) -> float:
    samples = []
    # as an installed drctl runs: with its bytecode cached (a shell that sets PYTHONDONTWRITEBYTECODE would have
    # every run compile drctl from source, a third of validate's time), and one untimed run to write it
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "PYTHONDONTWRITEBYTECODE")}
    subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def load_previous() -> dict[str, object]:
    try:
        data = json.loads(PREVIOUS.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def beside(previous: dict[str, object], name: str, seconds: float) -> str:
    figures = previous.get("figures_ms")
    before = figures.get(name) if isinstance(figures, dict) else None
    if not isinstance(before, int | float):
        return ""
    return f"  previous {before:6.0f} ms ({(seconds * 1000 - before) / before:+.0%})"


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        )
    except OSError:
        return "unknown"
    return out.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--only", nargs="*", default=None, help="time only the cases whose name contains one of these")
    parser.add_argument("--no-scaling", action="store_true", help="skip the 10,000 and 20,000 step validations")
    parser.add_argument("--record", action="store_true", help=f"store these figures in {PREVIOUS.name}")
    args = parser.parse_args()
    previous = load_previous()
    if previous:
        print(f"previous figures: {previous.get('commit')} on {previous.get('date')}, runs {previous.get('runs')}")
    drctl = [sys.executable, "-m", "drctl"]
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "500-steps.yaml"
        big.write_text(generated_playbook(500))
        cases = [
            ("python start-up alone", [sys.executable, "-c", "pass"], None),
            ("drctl --help", [*drctl, "--help"], 0.2),
            ("drctl validate sample", [*drctl, "validate", str(SAMPLE)], 0.2),
            ("drctl plan sample", [*drctl, "plan", str(SAMPLE)], 0.5),
            ("drctl plan 500 steps", [*drctl, "plan", str(big)], 0.5),
            ("drctl validate 500 steps", [*drctl, "validate", str(big)], 0.5),
        ]
        for name, argv, target in cases:
            if args.only is not None and target is not None and not any(o in name for o in args.only):
                continue
            seconds = median_seconds(argv, args.runs)
            figures[name] = round(seconds * 1000, 1)
            verdict = "" if target is None else ("ok" if seconds <= target else "OVER")
            goal = "" if target is None else f"target <= {target * 1000:.0f} ms"
            line = f"{name:28s} {seconds * 1000:6.0f} ms  {goal:17s} {verdict:4s}"
            print(line + beside(previous, name, seconds))
        if not args.no_scaling:
            timed: list[float] = []
            for steps in (10_000, 20_000):
                huge = Path(tmp) / f"{steps}-steps.yaml"
                huge.write_text(generated_playbook(steps))
                name = f"drctl validate {steps:,} steps"
                timed.append(median_seconds([*drctl, "validate", str(huge)], 1))
                figures[name] = round(timed[-1] * 1000, 1)
                print(f"{name:28s} {timed[-1] * 1000:6.0f} ms{' ' * 29}" + beside(previous, name, timed[-1]))
            print(f"20,000 / 10,000 steps: {timed[1] / timed[0]:.2f}x (linear: about 2x)")
    if args.record:
        recorded = previous.get("figures_ms") if isinstance(previous.get("figures_ms"), dict) else {}
        data = {
            "commit": commit(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "runs": args.runs,
            "figures_ms": {**recorded, **figures},  # type: ignore[dict-item]
        }
        PREVIOUS.write_text(json.dumps(data, indent=2) + "\n")
        print(f"recorded in {PREVIOUS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
