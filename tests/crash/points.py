"""Kill points: when the crash harness kills drctl, and how; chosen at random from a seeded generator.

The sandbox's slow operations are set here too, since the windows a point aims at are as long as they are.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

#: how long the sandbox makes each operation take: long enough for a kill to land inside it and for the resume
#: (a new process: imports, token, replay; 2-4 s on a busy 2-core machine) to find the operation still in flight
LATENCIES = {"sql.failover": 6.0, "vmss.update": 4.0, "web.start": 0.6, "dns.write": 0.2, "sink.webhook": 0.1}
#: a DNS write reaches the authoritative server this long after ARM accepts it: the verification waits for it
DNS_DELAY = 1.5

SIGNALS = ("SIGKILL", "SIGINT2", "SIGHUP")


@dataclass(frozen=True)
class KillPoint:
    """When to kill, and how.

    ``trigger``: ``delay`` (``value`` seconds after the process starts), ``line`` (once the journal holds
    ``value`` more lines than when the process started; SIGKILL is then sent by drctl's own test hook right after
    that line is durable), ``event`` (a new journal line ``type:step`` or ``fact:kind``) or ``request`` (a new
    request of sandbox operation ``value`` in the request log). ``after``: seconds to wait once it fires.
    """

    trigger: str
    value: str
    signal: str = "SIGKILL"
    after: float = 0.0

    @property
    def kind(self) -> str:
        """The point's family, for tables: which window of the run it aims at."""
        if self.trigger == "request" and self.value in ("sql.failover", "vmss.update"):
            return f"inside LRO {self.value}"
        if (self.trigger, self.value) in (("request", "dns.write"), ("event", "fact:dns.changed")):
            return "DNS written, not verified"
        if self.trigger == "request" and self.value == "web.start":
            return "web app started, not verified"
        if self.trigger == "request" and self.value.startswith("sink."):
            return "message sent, not journaled"
        return {"delay": "wall clock", "line": "after journal line"}.get(self.trigger, f"{self.trigger} {self.value}")

    def label(self) -> str:
        after = f" +{self.after:.2f}s" if self.after else ""
        return f"{self.signal} at {self.trigger} {self.value}{after}"


#: (trigger, value, the step whose window it aims at (None: any notify step), the longest useful extra delay)
CATALOGUE: tuple[tuple[str, str, str | None, float], ...] = (
    ("request", "sql.failover", "promote-database", LATENCIES["sql.failover"] * 0.6),
    ("request", "vmss.update", "scale-workers", LATENCIES["vmss.update"] * 0.6),
    ("request", "web.start", "start-web-apps", 0.3),
    ("request", "dns.write", "dns-swap", DNS_DELAY * 0.8),
    ("event", "fact:dns.changed", "dns-swap", DNS_DELAY * 0.5),
    ("event", "step.progress:promote-database", "promote-database", 1.5),
    ("event", "step.started:dns-swap", "dns-swap", 0.3),
    ("event", "approval.granted:approve-failover", "approve-failover", 0.2),
    ("request", "sink.webhook", None, 0.05),
    ("request", "sink.smtp", None, 0.05),
    ("event", "fact:notify.sent", None, 0.02),
)
NOTIFY_STEPS = ("announce-start", "status-updates", "phase-standby-ready", "announce-complete")


def random_point(rng: random.Random, succeeded: set[str]) -> KillPoint:
    """A kill point that can still fire in a run where ``succeeded`` steps are done: mostly aimed at a window
    that matters (an operation in flight, a write not yet verified, a message not yet journaled), sometimes
    blind (a wall-clock delay, after some journal line)."""
    sig = rng.choice(SIGNALS)
    roll = rng.random()
    if roll < 0.15:
        return KillPoint("delay", f"{rng.uniform(0.3, 9.0):.2f}", sig)
    if roll < 0.30:
        return KillPoint("line", str(rng.randint(1, 50)), sig)
    notify_left = any(s not in succeeded for s in NOTIFY_STEPS)
    open_windows = [c for c in CATALOGUE if (c[2] is None and notify_left) or (c[2] and c[2] not in succeeded)]
    if not open_windows:
        return KillPoint("delay", f"{rng.uniform(0.3, 4.0):.2f}", sig)
    trigger, value, _, longest = rng.choice(open_windows)
    return KillPoint(trigger, value, sig, round(rng.uniform(0.0, longest), 2))
