"""Start-up figures: median wall time of `drctl --help`, `drctl validate` and `drctl plan` of a 500-step playbook.

Run: python benchmarks/startup.py [--runs N]
Targets (issue 2, 2-core machine): --help and validate of the sample <= 0.2 s; plan of 500 steps <= 0.5 s.
Validation grows linearly with the steps (issue 11): 10,000 and 20,000 steps are timed once each (--runs ignored),
and the second should take about twice the first.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "playbooks" / "au-east-to-au-southeast.yaml"


def generated_playbook(steps: int) -> str:
    head = SAMPLE.read_text().split("\nsteps:\n")[0]
    lines = [head, "steps:"]
    for i in range(steps):
        needs = f"[s{i - 1}]" if i % 10 else ("[]" if i == 0 else f"[s{i - 10}]")
        lines += [f"  - id: s{i}", "    uses: wait", f"    needs: {needs}", "    with: {duration: 1s}"]
    return "\n".join(lines) + "\n"


def median_seconds(argv: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    drctl = [sys.executable, "-m", "drctl"]
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "500-steps.yaml"
        big.write_text(generated_playbook(500))
        cases = [
            ("drctl --help", [*drctl, "--help"], 0.2),
            ("drctl validate sample", [*drctl, "validate", str(SAMPLE)], 0.2),
            ("drctl plan sample", [*drctl, "plan", str(SAMPLE)], 0.5),
            ("drctl plan 500 steps", [*drctl, "plan", str(big)], 0.5),
            ("drctl validate 500 steps", [*drctl, "validate", str(big)], 0.5),
        ]
        baseline = median_seconds([sys.executable, "-c", "pass"], args.runs)
        print(f"python start-up alone: {baseline * 1000:.0f} ms (median of {args.runs})")
        for name, argv, target in cases:
            seconds = median_seconds(argv, args.runs)
            verdict = "ok" if seconds <= target else "OVER"
            print(f"{name:28s} {seconds * 1000:6.0f} ms  target <= {target * 1000:.0f} ms  {verdict}")
        timed: list[float] = []
        for steps in (10_000, 20_000):
            huge = Path(tmp) / f"{steps}-steps.yaml"
            huge.write_text(generated_playbook(steps))
            timed.append(median_seconds([*drctl, "validate", str(huge)], 1))
            print(f"{'drctl validate ' + format(steps, ',') + ' steps':28s} {timed[-1] * 1000:6.0f} ms")
        print(f"20,000 / 10,000 steps: {timed[1] / timed[0]:.2f}x (linear: about 2x)")


if __name__ == "__main__":
    main()
