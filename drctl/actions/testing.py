"""test.record: a test-only action for driving real runs (kill -9, resume, lock, journal failure tests).

Registered only when ``DRCTL_ENABLE_TEST_ACTIONS=1`` (see ``registry``): ``validate`` rejects it otherwise.
Each call appends JSON lines to ``file``: ``run`` when it starts, ``done`` once its (pretend) change is made,
and its done-check appends ``check`` with the answer. The done-check answers from the same file: "is there a
``done`` line for this step?", which is exactly what a real done-check asks of the estate.
"""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from typing import Any

from pydantic import Field

from drctl.actions.base import ActionSpec, Params, Scope
from drctl.actions.runtime import ActionError, Implementation, Outcome, StepContext, TransientError
from drctl.durations import format_duration
from drctl.playbook.model import Duration


class RecordParams(Params):
    file: str = Field(min_length=1)
    #: how long the call takes before its change is made (on the run clock, so it honours timeouts)
    sleep: Duration = timedelta(0)
    #: how long it waits after the change is made, before returning (a kill here: done but not journaled)
    hold: Duration = timedelta(0)
    #: the first N attempts fail with a TransientError
    transient_failures: int = Field(default=0, ge=0)
    #: fail with an ActionError (after the transient failures)
    fail: bool = False
    #: this step changes the estate (resume must check it before running it again)
    mutating: bool = False
    #: a fact to record: {"kind": ..., "data": {...}}
    fact: dict[str, Any] | None = None
    progress: str | None = None
    #: text for the summary (may hold ${ENV}: redaction tests)
    say: str | None = None
    #: sleep with time.sleep, deaf to timeouts (tests of abandoning a stuck action)
    stuck: Duration | None = None
    #: sleep and hold only on attempts up to this one (a resumed run's second attempt goes fast)
    slow_attempts: int | None = None
    #: a background step, repeated this often until the run ends (like notify's ``every``)
    every: Duration | None = None


def _append(path: str, entry: dict[str, Any]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (json.dumps(entry) + "\n").encode())
    finally:
        os.close(fd)


def read_record(path: str) -> list[dict[str, Any]]:
    try:
        with open(path) as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except FileNotFoundError:
        return []


def _run(p: RecordParams, ctx: StepContext) -> Outcome:
    entry = {"step": ctx.step_id, "attempt": ctx.attempt, "pid": os.getpid()}
    _append(p.file, {"event": "run", **entry})
    if p.progress:
        ctx.progress(p.progress)
    if p.stuck is not None:
        time.sleep(p.stuck.total_seconds())
    slow = p.slow_attempts is None or ctx.attempt <= p.slow_attempts
    if p.sleep and slow:
        ctx.sleep(p.sleep.total_seconds())
    if ctx.attempt <= p.transient_failures:
        raise TransientError(f"transient failure {ctx.attempt} of {p.transient_failures}")
    if p.fail:
        raise ActionError("failed as asked")
    if p.fact is not None:
        ctx.record(str(p.fact["kind"]), dict(p.fact.get("data", {})))
    _append(p.file, {"event": "done", **entry})
    if p.hold and slow:
        ctx.sleep(p.hold.total_seconds())
    summary = ctx.secrets.expand(p.say) if p.say else f"recorded after {format_duration(p.sleep)}"
    return Outcome(str(summary), changed=p.mutating, facts={"pid": os.getpid()})


def _done(p: RecordParams, ctx: StepContext) -> bool:
    done = any(e["event"] == "done" and e["step"] == ctx.step_id for e in read_record(p.file))
    _append(p.file, {"event": "check", "step": ctx.step_id, "attempt": ctx.attempt, "pid": os.getpid(), "done": done})
    return done


def _describe(p: RecordParams, _scope: Scope) -> list[str]:
    return [f"record a call in {p.file}" + (" (mutating)" if p.mutating else "")]


IMPLEMENTATION = Implementation(run=_run, done=_done)
#: the same action without a done-check (resume must refuse to re-run it blindly when mutating)
UNCHECKED = Implementation(run=_run)


def _current(attribute: str) -> Implementation[Any]:
    """The implementation this module holds when a run starts, not when the spec was made: engine tests swap
    ``IMPLEMENTATION`` for a probe of their own."""
    found = globals()[attribute]
    assert isinstance(found, Implementation)
    return found


def _spec(name: str, summary: str, implementation: str) -> ActionSpec[RecordParams]:
    return ActionSpec(
        name=name,
        summary=summary,
        params=RecordParams,
        mutating=False,
        default_timeout=timedelta(minutes=10),
        default_budget=timedelta(seconds=1),
        describe=_describe,
        implementation=lambda: _current(implementation),
        mutates=lambda p: p.mutating,
        background=lambda raw: raw.get("every") is not None,
    )


RECORD = _spec("test.record", "Test only: record each call in a file; sleep, fail or mutate as asked", "IMPLEMENTATION")
RECORD_UNCHECKED = _spec("test.record_unchecked", "Test only: test.record without a done-check", "UNCHECKED")

SPECS = (RECORD, RECORD_UNCHECKED)
