"""wait at run time: sleep through the pause, or poll the URL until it answers as expected."""

from __future__ import annotations

from typing import Any

from drctl.actions.runtime import Implementation, Outcome, StepContext
from drctl.actions.wait.spec import WaitParams
from drctl.durations import format_duration


def _run(p: WaitParams, ctx: StepContext) -> Outcome:
    if p.duration is not None:
        # interruptible: a wait changes nothing, so a pausing run may stop it and run it again later
        ctx.sleep(p.duration.total_seconds(), interruptible=True)
        return Outcome(f"waited {format_duration(p.duration)}")
    assert p.until_url is not None
    # the one HTTP stack of probes and webhooks: it honours the sandbox CA and DRCTL_RESOLVE, as health.http does
    from drctl.net.http import Client, HttpError

    polls = 0
    client = Client(timeout=min(p.poll_interval.total_seconds(), 30.0) or 10.0, network=ctx.services.get("network"))
    try:
        while True:
            ctx.check_cancelled()
            polls += 1
            try:
                status: int | str = client.request("GET", p.until_url).status
            except HttpError as exc:
                status = str(exc)
            if status == p.expect_status:
                return Outcome(f"{p.until_url} answered {status} after {polls} poll(s)", facts={"polls": polls})
            ctx.progress(f"{p.until_url} answered {status}; expecting {p.expect_status}")
            ctx.sleep(p.poll_interval.total_seconds(), interruptible=True)
    finally:
        client.close()


IMPLEMENTATION: Implementation[WaitParams] = Implementation(run=_run)


def implementation(action: str) -> Implementation[Any] | None:
    """The run-time half of ``action``: how the registry reaches this module when a run starts (``RunModule``)."""
    from drctl.actions.wait.spec import WAIT

    known: dict[str, Implementation[Any]] = {WAIT.name: IMPLEMENTATION}
    return known.get(action)
