"""wait: a fixed pause, or polling a URL until it answers as expected."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Self

from pydantic import Field, model_validator

from drctl.actions.base import ActionSpec, Params, Scope
from drctl.durations import format_duration
from drctl.playbook.model import Duration


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
)
