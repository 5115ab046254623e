"""wait: a fixed pause, or polling a URL until it answers as expected."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Self

from pydantic import Field, model_validator

from drctl.actions.base import ActionSpec, Params, Scope
from drctl.durations import format_duration
from drctl.playbook.model import Duration

if TYPE_CHECKING:  # the run-time interface is imported when a run starts, never by validate or plan
    from drctl.actions.runtime import Implementation, Outcome, StepContext


class WaitParams(Params):
    duration: Duration | None = None
    #: poll this URL until it answers ``expect_status``
    until_url: Annotated[str, Field(pattern=r"^https?://")] | None = None
    expect_status: int = Field(default=200, ge=100, le=599)
    poll_interval: Duration = timedelta(seconds=10)

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.duration is None) == (self.until_url is None):
            raise ValueError("give exactly one of 'duration' or 'until_url'")
        return self


def _describe(p: WaitParams, _scope: Scope) -> list[str]:
    if p.duration is not None:
        return [f"wait {format_duration(p.duration)}"]
    return [f"poll {p.until_url} every {format_duration(p.poll_interval)} until it answers {p.expect_status}"]


WAIT = ActionSpec(
    name="wait",
    summary="Wait a fixed time, or until a URL answers",
    params=WaitParams,
    mutating=False,
    default_timeout=timedelta(hours=1),
    default_budget=timedelta(minutes=1),
    describe=_describe,
    implementation="drctl.actions.wait.spec:implementation",
)


# --- run time ------------------------------------------------------------------------------------------------


def _run(p: WaitParams, ctx: StepContext) -> Outcome:
    from drctl.actions.runtime import Outcome

    if p.duration is not None:
        # interruptible: a wait changes nothing, so a pausing run may stop it and run it again later
        ctx.sleep(p.duration.total_seconds(), interruptible=True)
        return Outcome(f"waited {format_duration(p.duration)}")
    assert p.until_url is not None
    # the one HTTP stack of probes and webhooks: it honours the sandbox CA and DRCTL_RESOLVE, as health.http does
    from drctl.net.http import Client, HttpError

    polls = 0
    client = Client(timeout=min(p.poll_interval.total_seconds(), 30.0) or 10.0)
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


def implementation() -> Implementation[WaitParams]:
    from drctl.actions.runtime import Implementation

    return Implementation(run=_run)
