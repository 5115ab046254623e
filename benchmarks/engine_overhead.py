"""Engine overhead per step: a chain of zero-length waits, so everything measured is the engine's own work
(scheduling, a thread per step, two fsynced journal lines per step, redaction, listeners).

Run: python benchmarks/engine_overhead.py [--steps 200] [--runs 5]
Target (issue 4, 2-core machine): under 2 ms per step, fsynced journal included.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEAD = """\
version: 1
name: overhead
objectives: {rto: 1h, rpo: 15m}
azure: {subscription: "00000000-0000-0000-0000-000000000000"}
direction: {source: east, target: west}
regions:
  east: {location: australiaeast, resource_group: rg-east}
  west: {location: australiasoutheast, resource_group: rg-west}
steps:
"""


def chain(steps: int) -> str:
    return HEAD + "".join(f"  - {{id: s{i}, uses: wait, with: {{duration: 0s}}}}\n" for i in range(steps))


def main() -> None:
    from drctl.engine.runplan import build_run_plan
    from drctl.engine.session import Host, RunOptions, RunRequest, start_planned
    from drctl.planning.load import load_playbook
    from drctl.playbook.enums import Mode

    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    samples = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chain.yaml"
        path.write_text(chain(args.steps))
        for run in range(args.runs):
            plan = build_run_plan(load_playbook(path), Mode.FAILOVER, {})
            request = RunRequest(playbook=path, mode=Mode.FAILOVER, options=RunOptions(state_dir=Path(tmp) / f"s{run}"))
            start = time.perf_counter()
            result = start_planned(plan, request, Host())
            samples.append(time.perf_counter() - start)
            assert result.outcome.exit_code == 0
            lines = len(result.journal.read_text().splitlines())
    median = statistics.median(samples)
    per_step = median / args.steps * 1000
    verdict = "ok" if per_step < 2 else "OVER"
    print(f"{args.steps}-step chain of zero-length waits, {lines} fsynced journal lines per run")
    print(f"run: {median * 1000:.0f} ms median of {args.runs} (min {min(samples) * 1000:.0f} ms)")
    print(f"engine overhead: {per_step:.2f} ms per step  target < 2 ms  {verdict}")


if __name__ == "__main__":
    main()
