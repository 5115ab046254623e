"""Calling Azure from an action: clients from the run's services, errors mapped once, ARM calls journaled.

Every logical operation (``arm(ctx, "start web app x", standby.start_web_app, rg, name)``) journals the ARM
calls it made, each retry and poll included, as one ``arm.calls`` fact with their request and correlation ids:
what Azure support asks for first when an operation misbehaves.

Every mutation goes through ``start_or_follow``: its intent is journaled before the request is sent, the URLs
of an operation Azure accepted right after, and its end when it ends; a later attempt or a resumed run follows
an operation still open in the journal instead of starting a second (docs/engine.md, "Exactly once").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from drctl.actions.runtime import ActionError, StepContext, TransientError

if TYPE_CHECKING:
    from drctl.azure.clients import ArmCall, AzureClients
    from drctl.azure.errors import Classified
    from drctl.azure.lro import Accepted, Progress

T = TypeVar("T")
AZURE_SERVICE = "azure"


class AzureFailure(ActionError):
    """A call Azure refused for good; ``found`` says how (not found, precondition failed, forbidden...)."""

    def __init__(self, message: str, found: Classified) -> None:
        super().__init__(message)
        self.found = found


class AzureBusy(TransientError):
    """Azure answered "not now" (throttled, busy, unavailable): the request was refused, not left in doubt."""


def clients(ctx: StepContext) -> AzureClients:
    found: AzureClients = ctx.services.get(AZURE_SERVICE)
    return found


def arm(ctx: StepContext, what: str, operation: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    from drctl.azure.errors import Kind, classify

    azure = clients(ctx)
    calls: list[ArmCall] = []
    try:
        with azure.calls.capture(calls.append):
            return operation(azure, *args, **kwargs)
    except Exception as exc:
        found = classify(exc, max_retry_after=azure.config.max_retry_after)
        where = f" (correlation id {found.correlation_id})" if found.correlation_id else ""
        if found.transient:
            busy = AzureBusy if found.status is not None else TransientError
            raise busy(f"{what}: {found.message}{where}", retry_after=_retry_after(exc)) from None
        if found.kind is Kind.AUTH:
            raise AzureFailure(f"{what}: not authorised: {found.message}{where}", found) from None
        raise AzureFailure(f"{what}: {found.message}{where}", found) from None
    finally:
        if calls:
            ctx.record("arm.calls", {"operation": what, "calls": [c.as_dict() for c in calls]})


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def in_parallel(items: list[T], operation: Callable[[T], Any], *, limit: int = 8) -> list[Any]:
    """Run ``operation`` on every item at once (Azure works on them concurrently), results in item order.

    Every item is tried; the first failure, in item order, is raised once all have finished, so no call is left
    running behind the step's back.
    """
    from concurrent.futures import ThreadPoolExecutor

    if len(items) <= 1:
        return [operation(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(limit, len(items)), thread_name_prefix="drctl-arm") as pool:
        futures = [pool.submit(operation, item) for item in items]
    outcomes: list[Any] = []
    for future in futures:
        error = future.exception()
        if error is not None:
            raise error
        outcomes.append(future.result())
    return outcomes


#: fact kinds of the exactly-once journal of mutations (docs/journal.md, "Operations")
FACT_INTENT = "op.intent"
FACT_ACCEPTED = "op.accepted"
FACT_FINISHED = "op.finished"
#: the longest pause between two polls, whatever Retry-After says: a step's timeout must still be noticed
MAX_POLL_WAIT = 15.0


@dataclass(frozen=True)
class Mutation:
    """One change an action makes exactly once.

    ``key`` names it stably across attempts and processes (``sql.failover.forced fg-wallet -> sql-aus``); ``start``
    sends its first request (``drctl.azure.lro.begin`` for a long-running one, or a plain write returning None);
    ``client`` is the SDK client whose pipeline polls it.
    """

    key: str
    what: str
    start: Callable[[AzureClients], Accepted | None]
    client: str = "resource"
    #: journaled with the intent: what a resumed run needs to tell the story of a change whose answer it lost
    detail: Mapping[str, Any] = field(default_factory=dict)
    #: a synchronous write answers when it is done, and a server may still be working on one whose caller died:
    #: how long a later attempt watches for its effect before sending it again
    settle: float = 0.0


@dataclass(frozen=True)
class Done:
    #: "started" (this attempt sent it), "followed" (one already in flight), "journal" (it ended before),
    #: "found" (its effect is visible though its answer was never journaled)
    how: str
    round: int


def journal_of(ctx: StepContext, key: str) -> tuple[int, list[dict[str, Any]], list[dict[str, Any]]]:
    """How many times ``key`` was intended in this step, with the accepted and finished facts about it."""
    intents = [f for f in ctx.journaled(FACT_INTENT) if f.get("key") == key]
    accepted = [f for f in ctx.journaled(FACT_ACCEPTED) if f.get("key") == key]
    finished = [f for f in ctx.journaled(FACT_FINISHED) if f.get("key") == key]
    return len(intents), accepted, finished


def intended(ctx: StepContext, prefix: str = "") -> list[str]:
    """The keys this step journaled an intent for, oldest first (``prefix`` narrows them)."""
    keys: list[str] = []
    for fact in ctx.journaled(FACT_INTENT):
        key = str(fact.get("key", ""))
        if key.startswith(prefix) and key not in keys:
            keys.append(key)
    return keys


def open_rounds(ctx: StepContext, prefix: str = "") -> list[str]:
    """Keys whose latest intent has no end journaled: sent (or about to be) when the process stopped."""
    found = []
    for key in intended(ctx, prefix):
        rounds, _, finished = journal_of(ctx, key)
        if not any(f.get("round") == rounds for f in finished):
            found.append(key)
    return found


def follow_in_flight(ctx: StepContext, prefix: str, client: str) -> None:
    """Follow to its end every operation this step had Azure accept (keys starting with ``prefix``) whose end is
    not journaled: before an action reads the resource to decide, so it decides on a finished state and never
    counts an update still running as done. One that ends badly is journaled; the action then decides again."""

    def never(_azure: AzureClients) -> Accepted | None:
        raise AssertionError("an accepted operation is followed, never started")

    for key in open_rounds(ctx, prefix):
        rounds, accepted, _ = journal_of(ctx, key)
        if not any(a.get("round") == rounds for a in accepted):
            continue  # never answered: the resource read next decides (and Azure refuses a second one meanwhile)
        intent: dict[str, Any] = next((f for f in reversed(ctx.journaled(FACT_INTENT)) if f.get("key") == key), {})
        try:
            start_or_follow(ctx, Mutation(key=key, what=str(intent.get("what", key)), start=never, client=client))
        except (AzureFailure, TransientError) as exc:
            ctx.progress(f"{intent.get('what', key)}, in flight before, did not succeed ({exc}): deciding again")


def start_or_follow(ctx: StepContext, mutation: Mutation, *, reached: Callable[[], bool] | None = None) -> Done:
    """Make ``mutation`` once: follow the operation an earlier attempt or process left in flight, or start it.

    ``reached`` reads whether the effect is already visible: asked when an intent was journaled but Azure's
    answer was not (the process died in between), so what the first request did is not done again. An
    operation that ended Failed raises ``AzureFailure``; the next attempt starts a new one.
    """
    from drctl.azure import lro

    rounds, accepted, finished = journal_of(ctx, mutation.key)
    last_end = next((f for f in reversed(finished) if f.get("round") == rounds), None)
    if rounds and last_end is not None and last_end.get("state") == lro.SUCCEEDED:
        return Done("journal", rounds)
    if rounds and last_end is None:
        answer = next((f for f in reversed(accepted) if f.get("round") == rounds), None)
        if answer is not None:
            ctx.progress(f"following {mutation.what}, already in flight")
            status_url, location_url = (
                _located(ctx, answer.get("status_url")),
                _located(ctx, answer.get("location_url")),
            )
            return _follow(ctx, mutation, rounds, status_url, location_url, how="followed")
    in_doubt = rounds and (last_end is None or last_end.get("state") == lro.UNKNOWN)
    if in_doubt and reached is not None and _settles(ctx, mutation, reached, last_end is None):
        ctx.record(FACT_FINISHED, {"key": mutation.key, "round": rounds, "state": lro.SUCCEEDED, "how": "found"})
        return Done("found", rounds)
    number = rounds + 1
    intent = {"key": mutation.key, "round": number, "what": mutation.what, "attempt": ctx.attempt}
    ctx.record(FACT_INTENT, {**mutation.detail, **intent, "at": ctx.now().isoformat()})
    try:
        answer_now = arm(ctx, mutation.what, mutation.start)
    except (AzureFailure, AzureBusy) as exc:
        # refused with an answer (not a timeout): nothing is in flight, and the next attempt decides afresh
        ctx.record(FACT_FINISHED, {"key": mutation.key, "round": number, "state": lro.FAILED, "error": str(exc)})
        raise
    if answer_now is None or not answer_now.running:
        ctx.record(FACT_FINISHED, {"key": mutation.key, "round": number, "state": lro.SUCCEEDED, "how": "answer"})
        return Done("started", number)
    ctx.record(FACT_ACCEPTED, {"key": mutation.key, "round": number, **_portable(ctx, answer_now.as_fact())})
    return _follow(ctx, mutation, number, answer_now.status_url, answer_now.location_url, how="started")


def _settles(ctx: StepContext, mutation: Mutation, reached: Callable[[], bool], unanswered: bool) -> bool:
    """Is the effect of a request whose answer was lost visible, within the mutation's settle time?"""
    if reached():
        return True
    if not unanswered or mutation.settle <= 0:
        return False
    ctx.progress(f"{mutation.what} was sent before drctl stopped: watching for its effect before sending it again")
    deadline = ctx.now().timestamp() + mutation.settle
    while ctx.now().timestamp() < deadline:
        ctx.sleep(1.0)
        if reached():
            return True
    return False


#: stands for the subscription id in a journaled operation URL
SUBSCRIPTION = "{subscription}"


def _portable(ctx: StepContext, fact: dict[str, Any]) -> dict[str, Any]:
    """Operation URLs as the journal can keep them: the subscription id is a secret the journal redacts, so it is
    written as a placeholder that ``_located`` puts back."""
    subscription = clients(ctx).config.subscription_id
    return {
        k: v.replace(subscription, SUBSCRIPTION) if isinstance(v, str) and subscription else v for k, v in fact.items()
    }


def _located(ctx: StepContext, url: Any) -> str | None:
    if not isinstance(url, str) or not url:
        return None
    return url.replace(SUBSCRIPTION, clients(ctx).config.subscription_id)


def _follow(
    ctx: StepContext, mutation: Mutation, number: int, status_url: str | None, location_url: str | None, *, how: str
) -> Done:
    from drctl.azure import lro
    from drctl.azure.errors import Classified, Kind

    interval = max(0.05, clients(ctx).config.poll_interval)

    def wait(azure: AzureClients) -> Progress:
        while True:
            progress = lro.poll(azure, mutation.client, status_url, location_url)
            if progress.finished:
                return progress
            pause = progress.retry_after if progress.retry_after is not None else interval
            ctx.sleep(min(max(pause, interval), MAX_POLL_WAIT))

    progress = arm(ctx, f"follow {mutation.what}", wait)
    end = {"key": mutation.key, "round": number, "state": progress.state, "how": how}
    if progress.error:
        end["error"] = progress.error
    ctx.record(FACT_FINISHED, end)
    if progress.state == lro.SUCCEEDED:
        return Done(how, number)
    if progress.state == lro.UNKNOWN:
        raise TransientError(f"{mutation.what}: {progress.error or 'the operation cannot be followed'}; reading again")
    message = f"{mutation.what} ended {progress.state}: {progress.error or 'no reason given'}"
    raise AzureFailure(message, Classified(Kind.FATAL, message))
