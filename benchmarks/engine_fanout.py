"""Fan-out: one wave of parallel 1-second waits must finish in about one second, not a hundred.

Run: python benchmarks/engine_fanout.py [--width 100] [--runs 3]
Target (issue 4): 100 parallel 1 s waits finish in under 1.2 s (with --concurrency 100).
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

from benchmarks.engine_overhead import HEAD  # noqa: E402 - after the path is set


def main() -> None:
    from drctl.engine.runplan import build_run_plan
    from drctl.engine.session import Host, RunOptions, RunRequest, start_planned
    from drctl.planning.load import load_playbook
    from drctl.playbook.enums import Mode

    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    text = HEAD + "".join(
        f"  - {{id: w{i}, uses: wait, needs: [], with: {{duration: 1s}}}}\n" for i in range(args.width)
    )
    samples = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fanout.yaml"
        path.write_text(text)
        for run in range(args.runs):
            plan = build_run_plan(load_playbook(path), Mode.FAILOVER, {})
            options = RunOptions(state_dir=Path(tmp) / f"s{run}", concurrency=args.width)
            start = time.perf_counter()
            result = start_planned(plan, RunRequest(playbook=path, mode=Mode.FAILOVER, options=options), Host())
            samples.append(time.perf_counter() - start)
            assert result.outcome.exit_code == 0
    median = statistics.median(samples)
    verdict = "ok" if median < 1.2 else "OVER"
    print(
        f"{args.width} parallel 1 s waits (concurrency {args.width}): {median:.3f} s median of {args.runs}, "
        f"max {max(samples):.3f} s  target < 1.2 s  {verdict}"
    )


if __name__ == "__main__":
    main()
