"""Reports: how long a drill of many steps takes to be rebuilt from its journal and rendered in every form.

Run: python benchmarks/report_build.py [--steps 200] [--runs 3]
A drill of N steps journals about 4N lines (each step started and finished, in both phases); the figures are
the median of --runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEAD = """\
version: 1
name: bench-drill
objectives: {rto: 1h, rpo: 15m, mttr: 45m}
azure: {subscription: "00000000-0000-0000-0000-000000000000"}
direction: {source: east, target: west}
regions:
  east: {location: australiaeast, resource_group: rg-east}
  west: {location: australiasoutheast, resource_group: rg-west}
drill: {hold: 1s, probe_interval: 1s}
steps:
"""


def main() -> None:
    from drctl.core.clock import FakeClock
    from drctl.engine.runplan import plan_for_mode
    from drctl.engine.session import Host, RunOptions, RunRequest, start_planned
    from drctl.planning.load import load_playbook
    from drctl.playbook.enums import Mode
    from drctl.reports.build import load_report
    from drctl.reports.files import render
    from drctl.reports.formats import ReportFormat

    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ["DRCTL_ENABLE_TEST_ACTIONS"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "record.jsonl"
        steps = "".join(
            f"  - {{id: s{i}, uses: test.record, needs: [{'s' + str(i - 1) if i % 10 else ''}], "
            f"with: {{file: '{record}', sleep: 2s}}}}\n"
            for i in range(args.steps)
        )
        path = Path(tmp) / "drill.yaml"
        path.write_text(HEAD + steps)
        plan = plan_for_mode(load_playbook(path), Mode.DRILL, {})
        request = RunRequest(playbook=path, mode=Mode.DRILL, options=RunOptions(state_dir=Path(tmp) / "state"))
        result = start_planned(plan, request, Host(clock=FakeClock()))
        lines = len(result.journal.read_bytes().splitlines())
        timings: dict[str, list[float]] = {"build": []} | {f.value: [] for f in ReportFormat}
        for _ in range(args.runs):
            start = time.perf_counter()
            report = load_report(result.journal)
            timings["build"].append(time.perf_counter() - start)
            for fmt in ReportFormat:
                start = time.perf_counter()
                render(report, fmt)
                timings[fmt.value].append(time.perf_counter() - start)
    figures = ", ".join(f"{name} {statistics.median(values) * 1000:.0f} ms" for name, values in timings.items())
    print(f"drill of {args.steps} steps ({lines} journal lines): {figures} (median of {args.runs})")


if __name__ == "__main__":
    main()
