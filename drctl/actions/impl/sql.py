"""sql.replica_check and sql.failover at run time: roles, links, RPO evidence and the RPO gate."""

from __future__ import annotations

from typing import Any

from drctl.actions.base import Role
from drctl.actions.rpo import Exposure
from drctl.actions.runtime import (
    FACT_RPO_EXPOSURE,
    AbortRun,
    ActionError,
    Finding,
    Implementation,
    Outcome,
    StepContext,
    TransientError,
)
from drctl.actions.sql import FailoverParams, ReplicaCheckParams, RpoSource, evidence_sources
from drctl.azure.sql import FailoverGroupState
from drctl.durations import format_duration
from drctl.playbook.enums import Mode
from drctl.playbook.model import SqlEstate


def measure_exposure(ctx: StepContext, sources: list[RpoSource]) -> list[Exposure]:
    """Every RPO measurement the evidence allows, journaled as ``rpo.exposure`` (the worst one leads)."""
    import json

    from drctl.actions.azure_bridge import AzureFailure, arm
    from drctl.actions.rpo import EvidenceError, ReplicaReport, from_app, from_storage, parse_report, worst
    from drctl.actions.storage import declared_accounts
    from drctl.azure import storage
    from drctl.net.http import Client, HttpError

    scope = ctx.scope
    found: list[Exposure] = []
    notes: list[str] = []
    if "app" in sources and scope.source.replication_url and scope.target.replication_url:
        client = Client(timeout=5.0)

        def report(role: Role) -> ReplicaReport | None:
            url = scope.region(role).replication_url or ""
            name = scope.region_name(role)
            try:
                response = client.request("GET", url)
                if response.status != 200:
                    notes.append(f"{name} replication endpoint answered {response.status}")
                    return None
                return parse_report(json.loads(response.body), name)
            except (HttpError, ValueError, EvidenceError) as exc:
                notes.append(f"{name} replication endpoint: {exc}")
                return None

        try:
            target_report = report("target")
            if target_report is not None:
                found.append(from_app(report("source"), target_report, t0=ctx.t0))
        finally:
            client.close()
    if "storage" in sources:
        for account, group in declared_accounts(scope).items():
            try:
                geo = arm(ctx, f"read geo-replication of {account}", storage.geo_replication, group, account)
            except (AzureFailure, TransientError) as exc:
                notes.append(str(exc))
                continue
            if geo.last_sync_time is not None:
                found.append(from_storage(account, geo.last_sync_time, now=ctx.now()))
    leading = worst(found)
    if leading is not None:
        ctx.record(
            FACT_RPO_EXPOSURE,
            {**leading.as_fact(), "measurements": [e.as_fact() for e in found], "notes": notes},
        )
    elif sources:
        ctx.record("rpo.unmeasured", {"sources": list(sources), "notes": notes})
    return found


def _exposure_text(found: list[Exposure]) -> str:
    from drctl.actions.rpo import worst

    leading = worst(found)
    if leading is None:
        return "RPO exposure not measured"
    bound = "at most " if leading.upper_bound else ""
    return f"RPO exposure {bound}{format_duration(leading.seconds)} ({leading.source})"


def _sql_estates(ctx: StepContext) -> tuple[SqlEstate, SqlEstate]:
    """The source's and the target's SQL estate (validation guarantees both for SQL steps)."""
    src, tgt = ctx.scope.source.sql, ctx.scope.target.sql
    if src is None or tgt is None:
        raise ActionError("both regions need an sql estate")
    return src, tgt


def run_replica_check(p: ReplicaCheckParams, ctx: StepContext) -> Outcome:
    from drctl.actions.azure_bridge import arm
    from drctl.actions.rpo import worst
    from drctl.azure import sql as azure_sql

    scope = ctx.scope
    src, tgt = _sql_estates(ctx)
    group = p.failover_group or src.failover_group
    target_rg = scope.target.resource_group
    # read from the target's side: it answers even when the source region is lost
    state = arm(
        ctx, f"read failover group {group} on {tgt.server}", azure_sql.failover_group, target_rg, tgt.server, group
    )
    fatal: list[str] = []
    waiting: list[str] = []
    if state.role != "Secondary":
        fatal.append(f"{tgt.server} is {state.role} in {group}, not Secondary: has the failover already happened?")
    if state.primary_server not in (None, src.server):
        fatal.append(f"{group}'s primary is {state.primary_server}, not {src.server}")
    links: dict[str, str] = {}
    for db in tgt.databases:
        found = arm(
            ctx, f"read replication links of {tgt.server}/{db}", azure_sql.replication_links, target_rg, tgt.server, db
        )
        link = next((k for k in found if k.partner_server == src.server), None)
        if link is None:
            fatal.append(f"{tgt.server}/{db} has no replication link to {src.server}")
            continue
        links[db] = link.state
        if link.role != "Secondary" or link.partner_role != "Primary":
            fatal.append(f"{tgt.server}/{db} link is {link.role} with partner {link.partner_role}")
        elif link.state != "CATCH_UP":
            waiting.append(f"{tgt.server}/{db} link is {link.state}, not CATCH_UP")
    exposures = measure_exposure(ctx, evidence_sources(p.rpo_evidence, scope))
    # links stop catching up when the primary is lost: expected in an outage, and what the RPO gate is for
    source_lost = any(e.source == "app" and e.upper_bound for e in exposures)
    if waiting and source_lost:
        ctx.record("replication.suspended", {"links": links, "because": "the source region does not answer"})
        ctx.progress("links are not catching up and the source does not answer: a forced failover will need the gate")
        waiting = []
    limit = (p.max_exposure or scope.playbook.objectives.rpo).total_seconds()
    leading = worst(exposures)
    facts: dict[str, Any] = {
        "failover_group": group,
        "primary": state.primary_server,
        "links": links,
        "rpo_exposure_seconds": leading.seconds if leading else None,
        "rpo_limit_seconds": limit,
    }
    if fatal:
        raise ActionError("; ".join(fatal))
    if waiting:
        raise TransientError("; ".join(waiting))
    over = leading is not None and leading.seconds > limit
    if over and p.enforce_rpo:
        raise ActionError(f"{_exposure_text(exposures)} is over {format_duration(limit)}")
    verdict = "OVER" if over else "within"
    catching_up = sum(1 for state in links.values() if state == "CATCH_UP")
    summary = (
        f"{group}: {src.server} Primary, {catching_up}/{len(tgt.databases)} links CATCH_UP"
        + (" (source lost)" if source_lost else "")
        + f"; {_exposure_text(exposures)}, {verdict} {format_duration(limit)}"
    )
    return Outcome(summary, facts=facts)


def _target_state(ctx: StepContext, group: str) -> FailoverGroupState:
    from drctl.actions.azure_bridge import arm
    from drctl.azure import sql as azure_sql

    tgt = ctx.scope.target.sql
    assert tgt is not None  # checked by validation
    return arm(
        ctx,
        f"read failover group {group} on {tgt.server}",
        azure_sql.failover_group,
        ctx.scope.target.resource_group,
        tgt.server,
        group,
    )


def _gate(p: FailoverParams, ctx: StepContext) -> tuple[bool, dict[str, Any]]:
    """Safety rule 2: may a forced failover run? Measured exposure within the gate, or an accepted loss."""
    from drctl.actions.rpo import worst

    limit = (p.rpo_gate or ctx.scope.playbook.objectives.rpo).total_seconds()
    exposures = measure_exposure(ctx, evidence_sources(p.rpo_evidence, ctx.scope))
    leading = worst(exposures)
    if leading is not None and leading.seconds <= limit:
        decision = {"gate_seconds": limit, "exposure_seconds": leading.seconds, "passed": True, "by": "measurement"}
        ctx.record("rpo.gate", decision)
        return True, decision
    measured = _exposure_text(exposures)
    prompt = (
        f"Forced failover may lose committed data: {measured}, and the RPO gate is {format_duration(limit)}. "
        "Accept the data loss and force the failover?"
    )
    approval = ctx.prior_approval() or ctx.request_approval(prompt, require_reason=True, topic="data-loss")
    decision = {
        "gate_seconds": limit,
        "exposure_seconds": leading.seconds if leading else None,
        "passed": approval.approved,
        "by": "approval",
        "approver": approval.approver.os_user,
        "principal": approval.approver.principal,
        "reason": approval.reason,
    }
    ctx.record("rpo.gate", decision)
    return approval.approved, decision


def _source_answers(ctx: StepContext) -> bool | None:
    """Does the source region's app or replication endpoint answer? None when the playbook gives neither."""
    from drctl.net.http import Client, HttpError

    source = ctx.scope.source
    urls = [u for u in (source.replication_url, source.health_url) if u]
    if not urls:
        return None
    client = Client(timeout=5.0)
    try:
        for url in urls:
            try:
                client.request("GET", url)
            except HttpError:
                continue
            return True
    finally:
        client.close()
    return False


FAILOVER_KEY = "sql.failover."


def _mutation(ctx: StepContext, group: str, kind: str) -> Any:
    from drctl.actions.azure_bridge import Mutation
    from drctl.azure import sql as azure_sql

    tgt = ctx.scope.target.sql
    assert tgt is not None  # checked by validation
    rg = ctx.scope.target.resource_group
    return Mutation(
        key=f"{FAILOVER_KEY}{kind} {group} -> {tgt.server}",
        what=f"{kind} failover of {group} to {tgt.server}",
        start=lambda azure: azure_sql.begin_fail_over(azure, rg, tgt.server, group, kind),  # type: ignore[arg-type]
        client="sql",
    )


def _fail_over(ctx: StepContext, group: str, kind: str) -> None:
    """The failover POST, once per intent: the journal holds it before it is sent, and an operation an earlier
    attempt or a crashed process left in flight is followed, never started again."""
    from drctl.actions.azure_bridge import start_or_follow

    start_or_follow(ctx, _mutation(ctx, group, kind), reached=lambda: _target_state(ctx, group).role == "Primary")


def _follow_in_flight(ctx: StepContext, group: str) -> None:
    """Follow to its end a failover this step had Azure accept before a crash (or a lost attempt)."""
    from drctl.actions.azure_bridge import follow_in_flight

    del group  # the journal's keys name it
    follow_in_flight(ctx, FAILOVER_KEY, "sql")


def _journaled_kind(ctx: StepContext) -> str | None:
    """The failover this step asked Azure for last (before a crash too): what made the target primary."""
    from drctl.actions.azure_bridge import intended

    keys = intended(ctx, FAILOVER_KEY)
    return keys[-1][len(FAILOVER_KEY) :].split(" ", 1)[0] if keys else None


def _record_taken(ctx: StepContext, group: str, took: str) -> dict[str, Any]:
    """The ``sql.failover`` fact of a failover whose answer a crash hid: the journal says which one this run asked
    for, so a forced failover stays forced, with the gate decision made before it."""
    src, tgt = _sql_estates(ctx)
    gates = ctx.journaled("rpo.gate") if took != "planned" else []
    facts = {
        "failover_group": group,
        "mode": took,
        "primary": tgt.server,
        "secondary": src.server,
        "gate": gates[-1] if gates else None,
        "resumed": True,
    }
    ctx.record("sql.failover", facts)
    return facts


def run_failover(p: FailoverParams, ctx: StepContext) -> Outcome:
    from drctl.actions.azure_bridge import AzureFailure

    src, tgt = _sql_estates(ctx)
    group = p.failover_group or tgt.failover_group
    _follow_in_flight(ctx, group)
    before = _target_state(ctx, group)
    if before.role == "Primary":
        took = _journaled_kind(ctx)
        if took is None:
            return Outcome(f"{tgt.server} is already primary in {group}: nothing to do", facts={"already": True})
        facts = _record_taken(ctx, group, took)
        return Outcome(f"{group}: {tgt.server} is Primary ({took} failover)", changed=True, facts=facts)
    used: str
    gate: dict[str, Any] | None = None
    mode = p.mode
    if ctx.mode is Mode.DRILL and mode != "planned":
        # a drill proves the procedure; it never risks data for it
        ctx.progress(f"drill: planned failover only (the playbook says {mode})")
        mode = "planned"
    if mode == "planned":
        _fail_over(ctx, group, "planned")
        used = "planned"
    else:
        planned_error: str | None = None
        if mode == "planned-then-forced":
            ctx.progress(f"trying a planned failover of {group} first (no data loss)")
            try:
                _fail_over(ctx, group, "planned")
                used = "planned"
            except (AzureFailure, TransientError) as exc:
                planned_error = str(exc)
                answers = _source_answers(ctx)
                ctx.record(
                    "sql.planned_failed", {"failover_group": group, "error": planned_error, "source_answers": answers}
                )
                if answers is not False:
                    # forcing is for a lost primary; a primary that answers gets another planned attempt
                    raise TransientError(
                        f"planned failover of {group} failed while the source may still answer: not forcing "
                        f"({planned_error})"
                    ) from None
        if mode == "forced" or planned_error is not None:
            passed, gate = _gate(p, ctx)
            if not passed:
                raise AbortRun(f"forced failover of {group} refused at the RPO gate: the data loss was not accepted")
            ctx.progress(f"forcing the failover of {group} to {tgt.server} (data loss allowed)")
            _fail_over(ctx, group, "forced")
            used = "forced"
    after = _target_state(ctx, group)
    if after.role != "Primary":
        raise ActionError(f"after the {used} failover {tgt.server} is {after.role} in {group}, not Primary")
    facts = {"failover_group": group, "mode": used, "primary": tgt.server, "secondary": src.server, "gate": gate}
    ctx.record("sql.failover", facts)
    return Outcome(f"{group}: {tgt.server} is Primary ({used} failover)", changed=True, facts=facts)


def done_failover(p: FailoverParams, ctx: StepContext) -> bool:
    tgt = ctx.scope.target.sql
    group = p.failover_group or (tgt.failover_group if tgt else "")
    if _target_state(ctx, group).role != "Primary":
        return False  # running the step again follows a failover still in flight before it asks for another
    took = _journaled_kind(ctx)
    if took is not None and not ctx.journaled("sql.failover"):
        _record_taken(ctx, group, took)
    return True


def preflight_failover(p: FailoverParams, ctx: StepContext) -> list[Finding]:
    tgt = ctx.scope.target.sql
    group = p.failover_group or (tgt.failover_group if tgt else "")
    state = _target_state(ctx, group)
    return [
        Finding(
            f"failover group {group}",
            f"primary {state.primary_server}, {state.server} {state.role}",
            f"{state.server} Primary",
            "info" if state.role == "Secondary" else "warning",
            "" if state.role == "Secondary" else "the target is already primary",
        )
    ]


def preflight_replica(p: ReplicaCheckParams, ctx: StepContext) -> list[Finding]:
    try:
        outcome = run_replica_check(p.model_copy(update={"enforce_rpo": False}), ctx)
    except (ActionError, TransientError) as exc:
        return [Finding("replication", str(exc), "links CATCH_UP", "error")]
    return [Finding("replication", outcome.summary, "links CATCH_UP, exposure within RPO", "ok")]


REPLICA_IMPLEMENTATION = Implementation(run=run_replica_check, preflight=preflight_replica)
FAILOVER_IMPLEMENTATION = Implementation(run=run_failover, done=done_failover, preflight=preflight_failover)
