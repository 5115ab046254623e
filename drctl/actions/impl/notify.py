"""notify at run time: send to each channel of the run's audience, retry, report, never block."""

from __future__ import annotations

from collections.abc import Mapping

from drctl.actions.messages import Message
from drctl.actions.notify import NotifyParams
from drctl.actions.runtime import ActionError, Implementation, Outcome, StepContext
from drctl.playbook.enums import Audience
from drctl.playbook.model import Channel, EmailChannel, SlackChannel, TeamsChannel

#: a message is tried this many times (with a short pause) before it is reported as failed
SEND_ATTEMPTS = 3


class DeliveryError(Exception):
    """A channel did not accept a message."""


def _send(ctx: StepContext, channel: Channel, message: Message, facts: Mapping[str, object]) -> str:
    import uuid

    from drctl.actions import messages
    from drctl.net import smtp
    from drctl.net.http import Client, HttpError, redact_url

    if isinstance(channel, EmailChannel):
        settings = channel.smtp
        return smtp.send(
            host=settings.host,
            port=settings.port,
            starttls=settings.starttls,
            username=ctx.secrets.expand(settings.username) if settings.username else None,
            password=ctx.secrets.expand(settings.password) if settings.password else None,
            sender=channel.sender,
            to=list(channel.to),
            subject=message.title,
            body=message.text,
        )
    headers: dict[str, str] = {}
    if isinstance(channel, SlackChannel):
        url, payload = channel.webhook, messages.slack_payload(message)
    elif isinstance(channel, TeamsChannel):
        url, payload = channel.webhook, messages.teams_payload(message)
    else:
        url, payload = channel.url, messages.webhook_payload(message, facts)
        headers = {name: str(ctx.secrets.expand(value)) for name, value in channel.headers.items()}
    target = str(ctx.secrets.expand(url))
    message_id = f"drctl-{uuid.uuid4()}"
    client = Client(timeout=10.0)
    try:
        response = client.post_json(target, payload, headers={"X-Drctl-Message-Id": message_id, **headers})
    except HttpError as exc:
        raise DeliveryError(str(exc)) from None
    finally:
        client.close()
    if response.status >= 300:
        raise DeliveryError(f"{redact_url(target)} answered {response.status}")
    return message_id


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


def run_notify(p: NotifyParams, ctx: StepContext) -> Outcome:
    import smtplib

    from drctl.actions import messages
    from drctl.playbook.enums import Mode

    channels = ctx.playbook.notifications.channels if ctx.playbook.notifications else {}
    drill = ctx.mode is Mode.DRILL
    audience = Audience.DRILL if drill else Audience.PRODUCTION
    chosen = [name for name in p.channels if audience in channels[name].audiences]
    facts = {**ctx.run_facts(), "phase": p.phase or "", "next_update": _next_update(p, ctx)}
    message = messages.compose(title=p.title, message=p.message, facts=facts, drill=drill, phase=p.phase)
    sent: list[dict[str, str]] = []
    failed: list[dict[str, str]] = []
    for name in chosen:
        channel = channels[name]
        error = ""
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                message_id = _send(ctx, channel, message, facts)
            except (DeliveryError, OSError, smtplib.SMTPException) as exc:
                error = ctx.secrets.redact(f"{type(exc).__name__}: {exc}")[:300]
                if attempt < SEND_ATTEMPTS:
                    ctx.sleep(float(attempt))
                continue
            record = {"channel": name, "kind": channel.type, "message_id": message_id, "title": message.title}
            ctx.record("notify.sent", {**record, "audience": audience.value, "text": message.text})
            sent.append(record)
            break
        else:
            failure = {"channel": name, "kind": channel.type, "error": error}
            ctx.record("notify.failed", failure)
            failed.append(failure)
    skipped = [name for name in p.channels if name not in chosen]
    summary = f"sent to {len(sent)}/{len(chosen)} channels"
    if skipped:
        summary += f" ({', '.join(skipped)} not in the {audience.value} audience)"
    result = {"sent": sent, "failed": failed, "skipped": skipped, "title": message.title}
    if failed:
        detail = "; ".join(f"{f['channel']}: {f['error']}" for f in failed)
        if p.required:
            raise ActionError(f"{summary}; failed: {detail}")
        ctx.progress(f"message not delivered (the run goes on): {detail}")
        summary += f"; FAILED: {', '.join(f['channel'] for f in failed)}"
    return Outcome(summary, facts=result)


IMPLEMENTATION = Implementation(run=run_notify)
