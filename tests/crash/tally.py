"""Counting what a run did to the world, from the sandbox's own records: the count is the test.

Pure functions over the sandbox's request log, its webhook and SMTP captures and a run's journal, so they can be
unit-tested without a sandbox and used by the pytest crash tests and ``benchmarks/crash_harness.py`` alike.

What a correct failover of a playbook does, exactly once each:

* one mutating request per resource it changes: the failover group's failover POST, each target web app's
  start POST, each target scale set's PATCH/PUT, each DNS record set's PUT; and none to anything else (a storage
  failover, a web app stop, a generic write);
* one message per notify step, per channel of the run's audience, per period of a periodic step.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from drctl.durations import parse_duration

#: the sandbox's operation kinds that change Azure (docs/sandbox.md, "Operation kinds")
MUTATING_OPS = ("sql.failover", "web.start", "web.stop", "vmss.update", "dns.write", "storage.failover", "arm.write")

#: placeholders a failover fills the same way in every message; the others vary (elapsed, status, ...)
_FIXED = ("playbook", "mode", "drill_marker", "source", "target")

_SEGMENT_AFTER = {
    "sql.failover": "failovergroups",
    "web.start": "sites",
    "web.stop": "sites",
    "vmss.update": "virtualmachinescalesets",
    "storage.failover": "storageaccounts",
}


@dataclass(frozen=True)
class NotifyIntent:
    step: str
    title: re.Pattern[str]
    channels: tuple[str, ...]
    every_seconds: float | None


@dataclass(frozen=True)
class Expectations:
    """What one correct failover of the playbook changes and says, and the estate it leaves."""

    mutations: frozenset[tuple[str, str]]
    notify: tuple[NotifyIntent, ...]
    email_recipients: Mapping[str, frozenset[str]]
    failover_group: str
    target_server: str
    target_web_apps: tuple[str, ...]
    target_scale_sets: Mapping[str, int]
    dns: Mapping[tuple[str, str], str]


def expectations(playbook: Path | str, *, mode: str = "failover") -> Expectations:
    """Read the playbook (a failover: production audience) into what must happen exactly once."""
    doc = yaml.safe_load(Path(playbook).read_text())
    source_key, target_key = doc["direction"]["source"], doc["direction"]["target"]
    source, target = doc["regions"][source_key], doc["regions"][target_key]
    group = target["sql"]["failover_group"]
    apps = tuple(target.get("web_apps") or ())
    min_ratio = 1.0
    for step in doc["steps"]:
        if step["uses"] == "standby.scale":
            min_ratio = float((step.get("with") or {}).get("min_ratio", 1.0))
    source_capacity = {i: s["capacity"] for i, s in enumerate(source.get("scale_sets") or ())}
    scale_sets = {
        s["name"]: max(1, math.ceil(source_capacity.get(i, s["capacity"]) * min_ratio - 1e-9))
        for i, s in enumerate(target.get("scale_sets") or ())
    }
    records = {(r["type"], r["name"]): str(target["dns"][r["name"]]) for r in doc["dns"]["records"]}
    mutations = {("sql.failover", group)}
    mutations |= {("web.start", a) for a in apps}
    mutations |= {("vmss.update", s) for s in scale_sets}
    mutations |= {("dns.write", f"{t}/{n}") for t, n in records}
    channels = (doc.get("notifications") or {}).get("channels") or {}
    audience = "drill" if mode == "drill" else "production"
    fixed = {
        "playbook": doc["name"],
        "mode": mode,
        "drill_marker": "[DRILL] " if mode == "drill" else "",
        "source": source_key,
        "target": target_key,
    }
    intents = []
    for step in doc["steps"]:
        if step["uses"] != "notify":
            continue
        params = step["with"]
        every = params.get("every")
        intents.append(
            NotifyIntent(
                step=step["id"],
                title=title_pattern(params["title"], fixed),
                channels=tuple(c for c in params["channels"] if audience in channels[c].get("audiences", ())),
                every_seconds=parse_duration(str(every)).total_seconds() if every else None,
            )
        )
    recipients = {n: frozenset(c["to"]) for n, c in channels.items() if c.get("type") == "email"}
    return Expectations(
        mutations=frozenset(mutations),
        notify=tuple(intents),
        email_recipients=recipients,
        failover_group=group,
        target_server=target["sql"]["server"],
        target_web_apps=apps,
        target_scale_sets=scale_sets,
        dns=records,
    )


def title_pattern(template: str, fixed: Mapping[str, str]) -> re.Pattern[str]:
    """A message title template as a regex: the run-invariant placeholders filled, the others any text."""
    parts = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append(re.escape(fixed[name]) if name in _FIXED else ".*?")
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


def resource_of(request: Mapping[str, Any]) -> str:
    """The resource a mutating ARM request names: ``fg-wallet``, ``app-wallet-api-aus``, ``A/api``."""
    segments = [s for s in str(request["path"]).split("?", 1)[0].split("/") if s]
    lower = [s.lower() for s in segments]
    op = str(request.get("op"))
    if op == "dns.write" and "dnszones" in lower:
        i = lower.index("dnszones")
        return "/".join(segments[i + 2 : i + 4])
    after = _SEGMENT_AFTER.get(op)
    if after and after in lower:
        return segments[lower.index(after) + 1]
    return "/".join(segments[-2:])


def mutation_counts(requests: Iterable[Mapping[str, Any]]) -> Counter[tuple[str, str]]:
    """Every request that could change Azure, by (op, resource), whatever its answer: a request sent is a
    request the resource may have acted on."""
    return Counter((str(r["op"]), resource_of(r)) for r in requests if _is_mutation(r))


def _is_mutation(request: Mapping[str, Any]) -> bool:
    return request.get("service") == "arm" and request.get("op") in MUTATING_OPS


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def message_title(capture: Mapping[str, Any]) -> str:
    """The title of a captured message: the e-mail subject, the Teams card title, the Slack header."""
    if "subject" in capture:
        return str(capture["subject"])
    body = capture.get("body")
    if isinstance(body, dict):
        if "title" in body:
            return str(body["title"])
        blocks = body.get("blocks") or []
        if blocks and isinstance(blocks[0], dict):
            return str(blocks[0].get("text", {}).get("text", ""))
        return str(body.get("text", "")).split("\n", 1)[0]
    return str(body or "")


@dataclass
class MessageCount:
    #: (step, channel, period) -> messages; period is 0 for a one-shot step
    counts: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    #: the idempotency keys the copies carried (X-Drctl-Message-Id, the e-mail Message-ID)
    keys: dict[tuple[str, str, int], set[str]] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)


def message_counts(
    expected: Expectations,
    webhooks: Iterable[Mapping[str, Any]],
    emails: Iterable[Mapping[str, Any]],
    step_started: Mapping[str, datetime],
) -> MessageCount:
    """Each captured message to its intent: the notify step whose title it carries, the channel it went to, and
    for a periodic step the period it belongs to (counted from the step's first start, as the engine counts)."""
    result = MessageCount()
    captures = [(str(w.get("channel")), w) for w in webhooks]
    for mail in emails:
        rcpt = frozenset(mail.get("rcpt_tos") or ())
        names = [n for n, to in expected.email_recipients.items() if to == rcpt] or ["email:" + ",".join(sorted(rcpt))]
        captures.append((names[0], mail))
    for channel, capture in captures:
        title = message_title(capture)
        intent = next((i for i in expected.notify if i.title.match(title)), None)
        if intent is None:
            result.unmatched.append(f"{channel}: {title!r}")
            continue
        period = 0
        first = step_started.get(intent.step)
        if intent.every_seconds and first is not None and capture.get("time"):
            period = max(0, int((_time(str(capture["time"])) - first).total_seconds() // intent.every_seconds))
        result.counts[(intent.step, channel, period)] += 1
        result.keys.setdefault((intent.step, channel, period), set()).add(idempotency_key(capture))
    return result


def idempotency_key(capture: Mapping[str, Any]) -> str:
    headers = capture.get("headers") or {}
    return str(capture.get("message_id") or headers.get("x-drctl-message-id") or "")


def first_starts(journal: Iterable[Mapping[str, Any]]) -> dict[str, datetime]:
    starts: dict[str, datetime] = {}
    for event in journal:
        if event.get("type") == "step.started" and event.get("step") not in starts:
            starts[str(event["step"])] = _time(str(event["at"]))
    return starts


@dataclass
class Verdict:
    """Everything wrong with one run, as the sandbox and the journal saw it; empty lists mean exactly once."""

    duplicates: dict[str, int] = field(default_factory=dict)
    #: duplicate messages whose copies all carried one idempotency key (a receiver honouring it shows one)
    same_key: list[str] = field(default_factory=list)
    #: what the sandbox answered each copy of a duplicate mutation (a refused 409 was still sent)
    answers: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    #: messages not captured whose journal says ``notify.unknown``: drctl died while sending to a channel that
    #: cannot take a repeat (Slack, Teams, e-mail), and says so in the run and its report instead of guessing
    in_doubt: list[str] = field(default_factory=list)
    unexpected: dict[str, int] = field(default_factory=dict)
    wrong_state: list[str] = field(default_factory=list)

    @property
    def exactly_once(self) -> bool:
        return not (self.duplicates or self.missing or self.unexpected)

    @property
    def ok(self) -> bool:
        return self.exactly_once and not self.wrong_state

    def lines(self) -> list[str]:
        out = [
            f"duplicate {k}: {n} times"
            + (" (one idempotency key)" if k in self.same_key else "")
            + (f" (answered {self.answers[k]})" if k in self.answers else "")
            for k, n in sorted(self.duplicates.items())
        ]
        out += [f"missing {k}" for k in self.missing]
        out += [f"in doubt (reported as unknown, not resent) {k}" for k in self.in_doubt]
        out += [f"unexpected {k}: {n} times" for k, n in sorted(self.unexpected.items())]
        out += [f"wrong end: {w}" for w in self.wrong_state]
        return out


def count_once(
    expected: Expectations,
    requests: Sequence[Mapping[str, Any]],
    webhooks: Sequence[Mapping[str, Any]],
    emails: Sequence[Mapping[str, Any]],
    journal: Sequence[Mapping[str, Any]],
) -> Verdict:
    """Mutations and messages against 'exactly one each' (the estate and journal are judged by ``judge_end``)."""
    verdict = Verdict()
    mutations = mutation_counts(requests)
    for (op, resource), n in mutations.items():
        key = f"{op} {resource}"
        if (op, resource) not in expected.mutations:
            verdict.unexpected[key] = n
        elif n > 1:
            verdict.duplicates[key] = n
            answers = [
                str(r.get("status")) for r in requests if _is_mutation(r) and (op, resource_of(r)) == (op, resource)
            ]
            verdict.answers[key] = ", ".join(answers)
    verdict.missing += [f"{op} {res}" for op, res in sorted(expected.mutations) if not mutations[(op, res)]]
    messages = message_counts(expected, webhooks, emails, first_starts(journal))
    for (step, channel, period), n in messages.counts.items():
        if n > 1:
            key = f"message {step} -> {channel}" + (f" period {period}" if period else "")
            verdict.duplicates[key] = n
            keys = messages.keys[(step, channel, period)]
            if len(keys) == 1 and "" not in keys:
                verdict.same_key.append(key)
    doubted = {
        (str(e.get("step")), str(e["data"].get("channel")))
        for e in journal
        if e.get("type") == "fact" and e.get("kind") == "notify.unknown" and isinstance(e.get("data"), Mapping)
    }
    for intent in expected.notify:
        for c in intent.channels:
            if not messages.counts[(intent.step, c, 0)]:
                place = verdict.in_doubt if (intent.step, c) in doubted else verdict.missing
                place.append(f"message {intent.step} -> {c}")
    for title in messages.unmatched:
        verdict.unexpected[f"message {title}"] = verdict.unexpected.get(f"message {title}", 0) + 1
    return verdict


def judge_end(
    expected: Expectations,
    state: Mapping[str, Any],
    journal: Sequence[Mapping[str, Any]],
    requests: Sequence[Mapping[str, Any]],
) -> list[str]:
    """What is wrong with the end of the run: the estate, the journal's last word, and whether the DNS change was
    verified at the authoritative servers after it was written (not assumed done after a crash)."""
    wrong: list[str] = []
    primary = state["failover_groups"][expected.failover_group]["primary"]
    if primary != expected.target_server:
        wrong.append(f"{expected.failover_group} primary is {primary}, not {expected.target_server}")
    for app in expected.target_web_apps:
        if state["web_apps"][app]["state"] != "Running":
            wrong.append(f"web app {app} is {state['web_apps'][app]['state']}")
    for name, capacity in expected.target_scale_sets.items():
        vmss = state["scale_sets"][name]
        if vmss["capacity"] < capacity or vmss["provisioning_state"] != "Succeeded":
            wrong.append(f"scale set {name}: capacity {vmss['capacity']} ({vmss['provisioning_state']}) < {capacity}")
    served = {(r["type"], r["name"]): r["values"] for z in state["dns"].values() for r in z["served"]}
    for key, value in expected.dns.items():
        if served.get(key) != [value]:
            wrong.append(f"DNS {key[0]} {key[1]} serves {served.get(key)}, not [{value!r}]")
    last = journal[-1] if journal else {}
    if last.get("type") != "run.finished" or last.get("ending") != "succeeded":
        wrong.append(f"the journal ends with {last.get('type')} {last.get('ending', '')}".rstrip())
    kinds = Counter(str(e.get("kind")) for e in journal if e.get("type") == "fact" and e.get("step") == "dns-swap")
    for kind in ("dns.verified", "service.restored"):
        if not kinds[kind]:
            wrong.append(f"dns-swap has no {kind} fact")
    wrong += _dns_checked_after_write(requests)
    return wrong


def _dns_checked_after_write(requests: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each record set written must be asked of the authoritative DNS server after its last write."""
    last_write: dict[str, int] = {}
    queried_after: dict[str, bool] = {}
    for i, r in enumerate(requests):
        if r.get("service") == "arm" and r.get("op") == "dns.write" and r.get("method") == "PUT":
            name = resource_of(r)
            last_write[name] = i
            queried_after[name] = False
        elif r.get("service") == "dns":
            fqdn, _, rtype = str(r.get("path", "")).partition(" ")
            for name in last_write:
                t, n = name.split("/", 1)
                if rtype == t and fqdn.split(".", 1)[0].lower() == n.lower():
                    queried_after[name] = True
    return [
        f"DNS {n} never checked at the authoritative server after its write" for n, q in queried_after.items() if not q
    ]
