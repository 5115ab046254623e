"""notify at run time: each message once per intent, to each channel of the run's audience; never blocks.

A message's intent is (run, step, period, channel): the step's own run is period 0, a background step's
repetition n is period n. It has a stable key, sent as ``Idempotency-Key`` (and ``X-Drctl-Message-Id``) with a
webhook and as the Message-ID of an e-mail, and it is journaled before each try (``notify.sending``) and after
(``notify.sent``, ``notify.unknown``, ``notify.failed``). A step run again (a retry, a resume after a crash)
sends only what its journal does not already account for:

- sent: never again;
- failed (it never reached the channel: refused, an error answer): tried again;
- unknown (the request went out and no answer came: a timeout, a dropped connection, or drctl died while
  sending): not resent blindly. A generic webhook gets it again with the same key (a receiver that honours
  ``Idempotency-Key`` keeps one); Slack, Teams and e-mail do not, unless the message is ``required`` and a
  person ran the step again after it failed for it (a new attempt), which is their decision to resend.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from drctl.actions.messages import Message
from drctl.actions.notify.spec import NotifyParams
from drctl.actions.runtime import ActionError, Implementation, Outcome, StepContext
from drctl.playbook.enums import Audience
from drctl.playbook.model import Channel, EmailChannel, SlackChannel, TeamsChannel

#: a message is tried this many times (with a short pause) before it is reported as failed
SEND_ATTEMPTS = 3
#: a receiver this slow is slow, not gone: waiting longer costs less than a message delivered twice
SEND_TIMEOUT = 30.0
#: channel kinds whose receivers de-duplicate by ``Idempotency-Key``: a delivery in doubt is sent again, same key
RESENDS_SAFELY = frozenset({"webhook"})

SENDING = "notify.sending"
SENT = "notify.sent"
UNKNOWN = "notify.unknown"
FAILED = "notify.failed"


class DeliveryError(Exception):
    """A channel did not accept a message; ``maybe_delivered``: it may have, and the answer was lost."""

    def __init__(self, message: str, *, maybe_delivered: bool = False) -> None:
        super().__init__(message)
        self.maybe_delivered = maybe_delivered


@dataclass(frozen=True)
class Envelope:
    """What makes one message the same message on every try: its key and its id."""

    channel: str
    period: int
    key: str
    message_id: str

    @classmethod
    def of(cls, ctx: StepContext, name: str, channel: Channel) -> Envelope:
        period = ctx.repetition or 0
        key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"drctl:{ctx.run_id}:{ctx.step_id}:{period}:{name}"))
        if isinstance(channel, EmailChannel):
            message_id = f"<drctl-{key}@{channel.sender.split('@', 1)[-1]}>"
        else:
            message_id = f"drctl-{key}"
        return cls(name, period, key, message_id)


def _send(ctx: StepContext, channel: Channel, message: Message, facts: Mapping[str, object], env: Envelope) -> None:
    import smtplib

    from drctl.actions import messages
    from drctl.net import smtp
    from drctl.net.http import Client, HttpError, redact_url

    if isinstance(channel, EmailChannel):
        settings = channel.smtp
        try:
            smtp.send(
                host=settings.host,
                port=settings.port,
                starttls=settings.starttls,
                username=ctx.secrets.expand(settings.username) if settings.username else None,
                password=ctx.secrets.expand(settings.password) if settings.password else None,
                sender=channel.sender,
                to=list(channel.to),
                subject=message.title,
                body=message.text,
                timeout=SEND_TIMEOUT,
                message_id=env.message_id,
                network=ctx.services.get("network"),
            )
        except smtp.InDoubt as exc:
            raise DeliveryError(str(exc), maybe_delivered=True) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
        return
    headers: dict[str, str] = {}
    if isinstance(channel, SlackChannel):
        url, payload = channel.webhook, messages.slack_payload(message)
    elif isinstance(channel, TeamsChannel):
        url, payload = channel.webhook, messages.teams_payload(message)
    else:
        url, payload = channel.url, messages.webhook_payload(message, facts)
        headers = {name: str(ctx.secrets.expand(value)) for name, value in channel.headers.items()}
    target = str(ctx.secrets.expand(url))
    client = Client(timeout=SEND_TIMEOUT, network=ctx.services.get("network"))
    ids = {"Idempotency-Key": env.key, "X-Drctl-Message-Id": env.message_id}
    try:
        response = client.post_json(target, payload, headers={**ids, **headers})
    except HttpError as exc:
        raise DeliveryError(str(exc), maybe_delivered=exc.maybe_received) from None
    finally:
        client.close()
    if response.status >= 300:
        raise DeliveryError(f"{redact_url(target)} answered {response.status}")


def _journal(ctx: StepContext, env: Envelope) -> tuple[int, dict[str, Any] | None]:
    """The tries journaled for this message, and its last outcome (sent, unknown or failed) if any."""
    tries = [f for f in ctx.journaled(SENDING) if f.get("key") == env.key]
    last: dict[str, Any] | None = None
    for kind in (FAILED, UNKNOWN, SENT):
        for fact in ctx.journaled(kind):
            if fact.get("key") == env.key and (last is None or fact.get("try", 0) >= last.get("try", 0)):
                last = {**fact, "outcome": kind}
    return len(tries), last


def _accounted(ctx: StepContext, env: Envelope, channel: Channel, required: bool) -> dict[str, Any] | None:
    """The outcome that makes sending this message again wrong, if the journal holds one."""
    tries, last = _journal(ctx, env)
    if last is not None and last.get("try", 0) < tries:
        last = None  # a later try began and never ended: drctl stopped while sending
    if last is not None:
        if last["outcome"] == SENT:
            return last
        if last["outcome"] == UNKNOWN and not _may_resend(ctx, channel, last, required):
            return last
        return None
    if tries and channel.type not in RESENDS_SAFELY:
        unknown = {
            "channel": env.channel,
            "kind": channel.type,
            "key": env.key,
            "message_id": env.message_id,
            "period": env.period,
            "try": tries,
            "attempt": ctx.attempt,
            "error": "drctl stopped while sending it; not sent again (the channel may have it)",
        }
        ctx.record(UNKNOWN, unknown)
        if not _may_resend(ctx, channel, unknown, required):
            return {**unknown, "outcome": UNKNOWN}
    return None


def _may_resend(ctx: StepContext, channel: Channel, unknown: Mapping[str, Any], required: bool) -> bool:
    if channel.type in RESENDS_SAFELY:
        return True
    # a required message in doubt failed its step; a person running the step again has chosen to resend it
    return required and ctx.attempt > int(unknown.get("attempt", ctx.attempt))


def _next_update(p: NotifyParams, ctx: StepContext) -> str:
    """When stakeholders hear next: this step's own cadence, else the playbook's periodic message, else the next
    phase."""
    from drctl.durations import parse_duration

    every = p.every
    if every is None:
        for step in ctx.playbook.steps:
            if step.uses == "notify" and step.with_.get("every") and ctx.mode in step.when:
                every = parse_duration(str(step.with_["every"]))  # validated with the playbook
                break
    if every is None:
        return "the next phase change"
    return f"{(ctx.now() + every):%H:%M} UTC"


def _chosen(p: NotifyParams, ctx: StepContext) -> tuple[Audience, list[str]]:
    from drctl.playbook.enums import Mode

    channels = ctx.playbook.notifications.channels if ctx.playbook.notifications else {}
    audience = Audience.DRILL if ctx.mode is Mode.DRILL else Audience.PRODUCTION
    return audience, [name for name in p.channels if audience in channels[name].audiences]


def _deliver(
    ctx: StepContext, name: str, channel: Channel, message: Message, *, facts: Mapping[str, object], audience: Audience
) -> tuple[str, dict[str, Any]]:
    """Send one message until it is sent, in doubt or failed; each try journaled before it goes out."""
    env = Envelope.of(ctx, name, channel)
    record = {"channel": name, "kind": channel.type, "message_id": env.message_id, "title": message.title}
    ids = {"key": env.key, "period": env.period, "attempt": ctx.attempt}
    tries, _ = _journal(ctx, env)
    error = ""
    for attempt in range(1, SEND_ATTEMPTS + 1):
        number = tries + attempt
        ctx.record(SENDING, {**record, **ids, "try": number})
        try:
            _send(ctx, channel, message, facts, env)
        except DeliveryError as exc:
            error = ctx.secrets.redact(str(exc))[:300]
            if exc.maybe_delivered and channel.type not in RESENDS_SAFELY:
                ctx.record(UNKNOWN, {**record, **ids, "try": number, "error": error})
                return UNKNOWN, {**record, "error": error}
            if attempt < SEND_ATTEMPTS:
                ctx.sleep(float(attempt))
            continue
        ctx.record(SENT, {**record, **ids, "try": number, "audience": audience.value, "text": message.text})
        return SENT, record
    failure = {"channel": name, "kind": channel.type, "error": error}
    ctx.record(FAILED, {**failure, **ids, "try": tries + SEND_ATTEMPTS})
    return FAILED, failure


def run_notify(p: NotifyParams, ctx: StepContext) -> Outcome:
    from drctl.actions import messages

    channels = ctx.playbook.notifications.channels if ctx.playbook.notifications else {}
    audience, chosen = _chosen(p, ctx)
    drill = audience is Audience.DRILL
    facts = {**ctx.run_facts(), "phase": p.phase or "", "next_update": _next_update(p, ctx)}
    message = messages.compose(title=p.title, message=p.message, facts=facts, drill=drill, phase=p.phase)
    outcomes: dict[str, list[dict[str, Any]]] = {SENT: [], UNKNOWN: [], FAILED: []}
    before = 0
    for name in chosen:
        channel = channels[name]
        prior = _accounted(ctx, Envelope.of(ctx, name, channel), channel, p.required)
        if prior is not None:
            before += 1
            keep = {"channel": name, "kind": channel.type, "message_id": prior.get("message_id", "")}
            outcomes[prior["outcome"]].append({**keep, "title": prior.get("title", ""), "before": True})
            continue
        outcome, delivery = _deliver(ctx, name, channel, message, facts=facts, audience=audience)
        outcomes[outcome].append(delivery)
    sent, unknown, failed = outcomes[SENT], outcomes[UNKNOWN], outcomes[FAILED]
    skipped = [name for name in p.channels if name not in chosen]
    summary = f"sent to {len(sent)}/{len(chosen)} channels"
    if before:
        summary += f" ({before} before a restart, not sent again)"
    if skipped:
        summary += f" ({', '.join(skipped)} not in the {audience.value} audience)"
    result = {"sent": sent, "failed": failed, "unknown": unknown, "skipped": skipped, "title": message.title}
    problems = [f"{f['channel']}: {f['error']}" for f in failed]
    problems += [f"{u['channel']}: delivery unknown, not resent ({u.get('error', '')})" for u in unknown]
    if problems:
        detail = "; ".join(problems)
        if p.required:
            raise ActionError(f"{summary}; {detail}")
        ctx.progress(f"message not (surely) delivered (the run goes on): {detail}")
        if failed:
            summary += f"; FAILED: {', '.join(f['channel'] for f in failed)}"
        if unknown:
            summary += f"; UNKNOWN: {', '.join(u['channel'] for u in unknown)}"
    return Outcome(summary, facts=result)


def done_notify(p: NotifyParams, ctx: StepContext) -> bool:
    """Every message of this period is accounted for in the journal (sent, or in doubt and not to be resent)."""
    channels = ctx.playbook.notifications.channels if ctx.playbook.notifications else {}
    _, chosen = _chosen(p, ctx)
    for name in chosen:
        channel = channels[name]
        tries, last = _journal(ctx, Envelope.of(ctx, name, channel))
        if last is None or last.get("try", 0) < tries or last["outcome"] == FAILED:
            return False
        if last["outcome"] == UNKNOWN and _may_resend(ctx, channel, last, p.required):
            return False
    return True


IMPLEMENTATION = Implementation(run=run_notify, done=done_notify)


def implementation(action: str) -> Implementation[Any] | None:
    """The run-time half of ``action``: how the registry reaches this module when a run starts (``RunModule``)."""
    from drctl.actions.notify.spec import NOTIFY

    known: dict[str, Implementation[Any]] = {NOTIFY.name: IMPLEMENTATION}
    return known.get(action)
