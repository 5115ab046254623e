"""Kill the sample failover many times at seeded random moments and count what the world saw (issue 10).

Run: python benchmarks/crash_harness.py --kills 50 --seed 1 [--per-run 3] [--trials N] [--keep DIR]

Each trial is one failover of the sample against one `drctl sandbox up` process (reset between trials, with
latency on the long-running operations and a DNS propagation delay so that kills land inside them): killed
1..--per-run times (SIGKILL, SIGINT twice, SIGHUP; the first kill hits `drctl failover`, later ones its
resumes), resumed until the run ends, then every mutating request per resource and every message per intent is
counted from the sandbox's request log and sinks, the estate and the journal's end are judged and
`drctl runs verify` is run. Trials go on until --kills kills have landed (a point the run never reached does not
count). Trial i uses seed S+i: `--seed S+i --trials 1` replays it. Target (issue 10): at least 50 kills, no
duplicate mutation or message, every run ends right. Exit 1 if anything was found.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.crash.harness import CrashSandbox, Trial, run_trial  # noqa: E402


def table(rows: list[tuple[str, str]], title: str) -> None:
    print(f"\n{title}")
    width = max((len(k) for k, _ in rows), default=10)
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
    if not rows:
        print("  (none)")


def summarize(trials: list[Trial], seconds: float) -> bool:
    landed = [k for t in trials for k in t.kills if k.landed]
    missed = [k for t in trials for k in t.kills if not k.landed]
    by_kind = Counter(k.point.kind for k in landed)
    by_signal = Counter(k.point.signal for k in landed)
    on_resume = sum(1 for t in trials for i, k in enumerate(t.kills) if k.landed and i > 0)
    duplicates: Counter[str] = Counter()
    extra: Counter[str] = Counter()
    for t in trials:
        for key, n in t.verdict.duplicates.items():
            duplicates[key] += 1
            extra[key] += n - 1
    other: Counter[str] = Counter()
    for t in trials:
        other.update(f"missing {m}" for m in t.verdict.missing)
        other.update(f"in doubt, reported as unknown (not lost silently) {m}" for m in t.verdict.in_doubt)
        other.update(f"unexpected {u}" for u in t.verdict.unexpected)
        other.update(t.verdict.wrong_state)
        other.update(f"note: {n.split(':')[0]}" for n in t.notes)
        if not t.verified:
            other["drctl runs verify failed"] += 1
    right = sum(t.ended_right for t in trials)
    table(
        [
            ("trials (failover runs)", str(len(trials))),
            ("kills done", f"{len(landed)} ({on_resume} of them on a resume)"),
            ("kill points not reached", str(len(missed))),
            ("runs that ended right", f"{right}/{len(trials)}"),
            ("wall time", f"{seconds:.0f} s ({seconds / max(1, len(landed)):.1f} s per kill)"),
        ],
        "crash harness",
    )
    table(sorted((k, str(n)) for k, n in by_kind.items()), "kills by kind of point")
    table(sorted((k, str(n)) for k, n in by_signal.items()), "kills by signal")
    table(
        [(k, f"{n} runs, {extra[k]} extra") for k, n in duplicates.most_common()],
        "duplicates (per resource / message intent)",
    )
    table([(k, f"{n} runs") for k, n in other.most_common()], "other findings")
    wrong = [t for t in trials if not t.ended_right]
    if wrong:
        print("\nruns that did not end right (replay one with --seed SEED --trials 1):")
        for t in wrong:
            print(t.report())
    return not wrong


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--kills", type=int, default=50, help="kills to land in all (default 50)")
    parser.add_argument("--seed", type=int, default=None, help="first trial's seed (default: random, printed)")
    parser.add_argument("--per-run", type=int, default=3, help="at most this many kills per failover run")
    parser.add_argument("--trials", type=int, default=None, help="stop after this many trials")
    parser.add_argument("--keep", type=Path, default=None, help="keep working directories and logs here")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _stop)  # stop the sandbox on the way out, as on Ctrl-C
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 2**31)
    print(f"seed {seed}: python benchmarks/crash_harness.py --kills {args.kills} --seed {seed}", flush=True)
    with tempfile.TemporaryDirectory(prefix="drctl-crash-") as scratch:
        root = args.keep or Path(scratch)
        sandbox = CrashSandbox.start(root / "sandbox-root")
        trials: list[Trial] = []
        began = time.monotonic()
        try:
            while sum(len(t.landed) for t in trials) < args.kills:
                if args.trials is not None and len(trials) >= args.trials:
                    break
                index = len(trials)
                rng = random.Random(seed + index)
                trial = run_trial(
                    sandbox,
                    root / f"trial-{index:03d}",
                    index=index,
                    seed=seed + index,
                    kills=rng.randint(1, args.per_run),
                    rng=rng,
                )
                trials.append(trial)
                found = "; ".join(trial.verdict.lines() + trial.notes) or "exactly once, ended right"
                kills = ", ".join(k.point.label() for k in trial.landed) or "no kill landed"
                print(f"trial {index:3d} seed {seed + index}: {kills} -> {found}", flush=True)
        finally:
            sandbox.stop()
        return 0 if summarize(trials, time.monotonic() - began) else 1


if __name__ == "__main__":
    sys.exit(main())
