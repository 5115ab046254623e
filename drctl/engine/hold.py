"""A drill's verification hold: stay on the target for ``drill.hold``, probing its health every
``drill.probe_interval``, before failing back.

Each probe is an HTTP GET of the target's ``health_url`` through ``drctl.net.http.Client`` (which honours the
sandbox's ``DRCTL_RESOLVE`` and CA), journaled as a ``drill.probe`` fact: ``{n, url, status, ok, seconds,
error}``. A probe passes on a 2xx answer. The first failed probe ends the hold at once: production is being
served by a target that just failed its health check, so the drill fails back now rather than in ten minutes;
the hold step fails (and with it the drill's verdict), but the failback still runs. The hold ends with a
``drill.hold`` fact: ``{planned_seconds, held_seconds, probes, failed, passed, url}``.

The hold changes nothing, so a pause stops it at once (an interruptible wait) and it runs again **in full** on
continue or resume: the evidence is an uninterrupted hold, and a gap nobody probed would break it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from drctl.actions.base import ActionSpec, Params, Scope
from drctl.actions.runtime import ActionError, Implementation, Outcome, StepContext
from drctl.durations import format_duration
from drctl.playbook.enums import OnFailure
from drctl.playbook.model import Step

FACT_PROBE = "drill.probe"
FACT_HOLD = "drill.hold"


class HoldParams(Params):
    #: the target's health URL (``${ENV}`` expanded); None: the target declares none and the hold only waits
    url: str | None
    #: seconds
    hold: float
    interval: float


def _describe(p: HoldParams, _scope: Scope) -> list[str]:
    if p.url is None:
        return [f"hold {format_duration(p.hold)} on the target (it declares no health_url: nothing to probe)"]
    return [f"hold {format_duration(p.hold)} on the target, probing {p.url} every {format_duration(p.interval)}"]


HOLD_SPEC: ActionSpec[HoldParams] = ActionSpec(
    name="drill.hold",
    summary="A drill's verification hold on the target, probing its health",
    params=HoldParams,
    mutating=False,
    default_timeout=timedelta(hours=1),
    default_budget=timedelta(minutes=10),
    describe=_describe,
)

#: the hold as a step of the run: advisory for scheduling (the failback runs whatever happens), ``must_pass``
#: for the run's ending (see ``drill.py``)
HOLD_STEP = Step(id="hold", name="Verification hold on the target", uses="drill.hold", on_failure=OnFailure.CONTINUE)


def _probe(client: Any, url: str, n: int) -> dict[str, Any]:
    from drctl.net.http import HttpError

    try:
        response = client.request("GET", url)
    except HttpError as exc:
        return {"n": n, "url": url, "status": None, "ok": False, "seconds": None, "error": str(exc)}
    ok = 200 <= response.status < 300
    error = None if ok else f"answered {response.status}"
    return {"n": n, "url": url, "status": response.status, "ok": ok, "seconds": response.seconds, "error": error}


def _run(p: HoldParams, ctx: StepContext) -> Outcome:
    start = ctx.now()
    if p.url is None:
        ctx.sleep(p.hold, interruptible=True)
        ctx.record(FACT_HOLD, _summary(p, p.hold, probes=0, failed=0))
        return Outcome(f"held {format_duration(p.hold)}; no health_url to probe")
    from drctl.net.http import Client

    client = Client(timeout=max(1.0, min(10.0, p.interval)), network=ctx.services.get("network"))
    probes, failure = 0, None
    try:
        while True:
            ctx.check_cancelled()
            probes += 1
            result = _probe(client, p.url, probes)
            ctx.record(FACT_PROBE, result)
            if not result["ok"]:
                failure = result
                break
            remaining = p.hold - (ctx.now() - start).total_seconds()
            if remaining <= 0:
                break
            ctx.sleep(min(p.interval, remaining), interruptible=True)
    finally:
        client.close()
    held = (ctx.now() - start).total_seconds()
    ctx.record(FACT_HOLD, _summary(p, held, probes=probes, failed=1 if failure else 0))
    if failure is not None:
        raise ActionError(
            f"probe {probes} of {p.url} failed after {format_duration(held)} of the {format_duration(p.hold)} hold "
            f"({failure['error']}); the hold ended and the drill fails back"
        )
    return Outcome(f"held {format_duration(held)}: {probes} probes of {p.url}, all healthy")


def _summary(p: HoldParams, held: float, *, probes: int, failed: int) -> dict[str, Any]:
    return {
        "url": p.url,
        "planned_seconds": p.hold,
        "held_seconds": held,
        "probes": probes,
        "failed": failed,
        "passed": failed == 0,
    }


def implementation() -> Implementation[HoldParams]:
    return Implementation(run=_run)
