"""sql.replica_check and sql.failover at run time: roles, links, RPO evidence, the source-loss decision and
the per-resource RPO gate."""

from __future__ import annotations

from typing import Any

from drctl.actions.evidence import (
    Evidence,
    app_exposure,
    assess_sql_source,
    gate_decision,
    pass_or_ask,
    record_evidence,
    storage_exposure,
)
from drctl.actions.hidden import last_intended_kind, record_hidden_failover
from drctl.actions.rpo import Exposure, FailoverKind
from drctl.actions.runtime import (
    FACT_RPO_EXPOSURE,
    ActionError,
    Finding,
    Implementation,
    Outcome,
    StepContext,
    TransientError,
)
from drctl.actions.sql.spec import FailoverParams, ReplicaCheckParams, RpoSource, evidence_sources
from drctl.azure.sql import FailoverGroupState
from drctl.azure.sql import FailoverKind as RequestKind
from drctl.durations import format_duration
from drctl.playbook.enums import Mode
from drctl.playbook.model import SqlEstate


def measure_group(
    ctx: StepContext, group: str, tied: str | None, sources: list[RpoSource]
) -> tuple[Exposure, Evidence]:
    """The failover group's exposure (``unknown`` without evidence about it), with any storage figures beside
    it, each about its own account; all journaled as ``rpo.evidence``."""
    from drctl.actions.rpo import for_resource, group_resource
    from drctl.actions.storage.spec import declared_accounts

    evidence = Evidence()
    if "app" in sources:
        app_exposure(ctx, group, tied, evidence)
    if "storage" in sources:
        storage_exposure(ctx, declared_accounts(ctx.scope), evidence)
    why = "; ".join(evidence.notes) or "no evidence source about it"
    mine = for_resource(evidence.found, group_resource(group), why_unknown=why)
    return mine, evidence


def _sql_estates(ctx: StepContext) -> tuple[SqlEstate, SqlEstate]:
    """The source's and the target's SQL estate (validation guarantees both for SQL steps)."""
    src, tgt = ctx.scope.source.sql, ctx.scope.target.sql
    if src is None or tgt is None:
        raise ActionError("both regions need an sql estate")
    return src, tgt


def _others(evidence: Evidence, mine: Exposure) -> str:
    """Figures about other resources, said as such: they never stand for the failover group's."""
    texts = [e.text() for e in evidence.found if e.resource != mine.resource]
    return f"; also {'; '.join(texts)}" if texts else ""


def _read_links(
    ctx: StepContext, src: SqlEstate, tgt: SqlEstate, fatal: list[str], waiting: list[str]
) -> dict[str, str]:
    """Each target database's link to the source: wrong roles are fatal, a link not catching up is waited for."""
    from drctl.actions.azure_bridge import arm
    from drctl.azure import sql as azure_sql

    target_rg = ctx.scope.target.resource_group
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
    return links


def run_replica_check(p: ReplicaCheckParams, ctx: StepContext) -> Outcome:
    from drctl.actions.azure_bridge import arm
    from drctl.actions.rpo import passes
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
    links = _read_links(ctx, src, tgt, fatal, waiting)
    mine, evidence = measure_group(ctx, group, p.replication_url_group, evidence_sources(p.rpo_evidence, scope))
    record_evidence(ctx, "check", evidence, [mine])
    source_state = ""
    if waiting and not fatal:
        # links stop catching up when the primary is lost; while the source shows any life they are waited for
        assessment = assess_sql_source(ctx, group)
        if assessment.verdict != "alive":
            # expected when the primary is lost: the failover's own decision and gate are the safeguard then
            ctx.record("replication.suspended", {"links": links, "because": assessment.meaning})
            waiting = []
            source_state = f" (source {assessment.verdict})"
    limit = (p.max_exposure or scope.playbook.objectives.rpo).total_seconds()
    facts: dict[str, Any] = {
        "failover_group": group,
        "primary": state.primary_server,
        "links": links,
        "rpo_exposure_seconds": mine.seconds,
        "rpo_exposure_status": mine.status,
        "rpo_limit_seconds": limit,
    }
    if fatal:
        raise ActionError("; ".join(fatal))
    if waiting:
        raise TransientError("; ".join(waiting))
    within = passes(mine, limit)
    if not within and p.enforce_rpo:
        shown = "not measured" if mine.status == "unknown" else f"over {format_duration(limit)}"
        raise ActionError(f"{mine.text()}: {shown}, and enforce_rpo is set")
    if mine.status == "unknown":
        verdict = "not measured: forcing it would need a person to accept the possible loss"
    else:
        verdict = f"{'within' if within else 'OVER'} {format_duration(limit)}"
    catching_up = sum(1 for s in links.values() if s == "CATCH_UP")
    summary = (
        f"{group}: {src.server} Primary, {catching_up}/{len(tgt.databases)} links CATCH_UP{source_state}; "
        f"{mine.text()}, {verdict}{_others(evidence, mine)}"
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


FAILOVER_KEY = "sql.failover."


def _mutation(ctx: StepContext, group: str, kind: RequestKind) -> Any:
    from drctl.actions.azure_bridge import Mutation
    from drctl.azure import sql as azure_sql

    tgt = ctx.scope.target.sql
    assert tgt is not None  # checked by validation
    rg = ctx.scope.target.resource_group
    return Mutation(
        key=f"{FAILOVER_KEY}{kind} {group} -> {tgt.server}",
        what=f"{kind} failover of {group} to {tgt.server}",
        start=lambda azure: azure_sql.begin_fail_over(azure, rg, tgt.server, group, kind),
        client="sql",
    )


def _start_failover(ctx: StepContext, group: str, kind: RequestKind) -> None:
    """Every SQL failover request goes through here, once per intent: the journal holds it before it is sent, and
    an operation an earlier attempt or a crashed process left in flight is followed, never started again."""
    from drctl.actions.azure_bridge import start_or_follow

    start_or_follow(ctx, _mutation(ctx, group, kind), reached=lambda: _target_state(ctx, group).role == "Primary")


def _record_taken(ctx: StepContext, group: str, took: str) -> dict[str, Any]:
    from drctl.actions.rpo import group_resource

    src, tgt = _sql_estates(ctx)
    facts = {"failover_group": group, "mode": took, "primary": tgt.server, "secondary": src.server}
    return record_hidden_failover(
        ctx,
        fact="sql.failover",
        facts=facts,
        resource=group_resource(group),
        kind="forced" if took == "forced" else "planned",
        gate_is_about=lambda g: g.get("resource") in (None, group),
    )


def _decide_forcing(p: FailoverParams, ctx: StepContext, group: str) -> tuple[dict[str, Any], Exposure]:
    """Safety rule 2 for one failover group: force only on a clear loss of the source and measured exposure of
    *this group* within the gate; anything else is put to a person (data-loss topic, never ``--yes``)."""

    assessment = assess_sql_source(ctx, group)
    limit = (p.rpo_gate or ctx.scope.playbook.objectives.rpo).total_seconds()
    sources: list[RpoSource] = ["app"] if p.rpo_evidence is None or "app" in p.rpo_evidence else []
    exposure, evidence = measure_group(ctx, group, p.replication_url_group, sources)
    record_evidence(ctx, "gate", evidence, [exposure])
    decision = gate_decision(exposure, limit, assessment)
    if assessment.verdict == "alive" and p.mode == "planned-then-forced":
        ctx.record("rpo.gate", {**decision, "passed": False, "by": "source-alive"})
        raise TransientError(f"not forcing {group}: {assessment.text()}; the planned failover will be tried again")
    decided = pass_or_ask(
        ctx,
        decision,
        exposure,
        assessment,
        doubt=f"{assessment.text()}, so a forced failover may leave two primaries accepting writes",
        question=lambda why: (
            f"Forcing the failover of {group} may lose committed data: {why}. Accept the data loss and force?"
        ),
        refused=f"forced failover of {group} refused: the data loss was not accepted",
        reuse_prior=True,
    )
    return decided, exposure


def run_failover(p: FailoverParams, ctx: StepContext) -> Outcome:
    from drctl.actions.azure_bridge import AzureBusy, AzureFailure, follow_in_flight
    from drctl.actions.rpo import group_resource, loss_fact

    src, tgt = _sql_estates(ctx)
    group = p.failover_group or tgt.failover_group
    follow_in_flight(ctx, FAILOVER_KEY, "sql")
    before = _target_state(ctx, group)
    if before.role == "Primary":
        took = last_intended_kind(ctx, FAILOVER_KEY)
        if took is None:
            return Outcome(f"{tgt.server} is already primary in {group}: nothing to do", facts={"already": True})
        facts = _record_taken(ctx, group, took)
        return Outcome(f"{group}: {tgt.server} is Primary ({took} failover)", changed=True, facts=facts)
    gate: dict[str, Any] | None = None
    exposure: Exposure | None = None
    used: FailoverKind = "planned"
    mode = p.mode
    if ctx.mode is Mode.DRILL and mode != "planned":
        # a drill proves the procedure; it never risks data for it
        ctx.progress(f"drill: planned failover only (the playbook says {mode})")
        mode = "planned"
    force = mode == "forced"
    if mode != "forced":
        if mode == "planned-then-forced":
            ctx.progress(f"trying a planned failover of {group} first (no data loss)")
        try:
            _start_failover(ctx, group, "planned")
        except AzureBusy:
            raise  # an operation on the group is still running: wait for it, it is not a failed planned failover
        except (AzureFailure, TransientError) as exc:
            if mode == "planned":
                if isinstance(exc, AzureFailure):  # the same failure, with advice that can help (not "resume")
                    raise AzureFailure(f"{exc}; {_planned_only_advice(ctx)}", exc.found) from exc
                raise
            ctx.record("sql.planned_failed", {"failover_group": group, "error": str(exc)})
            force = True
    if force:
        gate, exposure = _decide_forcing(p, ctx, group)
        ctx.progress(f"forcing the failover of {group} to {tgt.server} (data loss allowed)")
        _start_failover(ctx, group, "forced")
        used = "forced"
    after = _target_state(ctx, group)
    if after.role != "Primary":
        raise ActionError(f"after the {used} failover {tgt.server} is {after.role} in {group}, not Primary")
    facts = {"failover_group": group, "mode": used, "primary": tgt.server, "secondary": src.server, "gate": gate}
    ctx.record("sql.failover", facts)
    ctx.record(FACT_RPO_EXPOSURE, loss_fact(group_resource(group), used, exposure))
    return Outcome(f"{group}: {tgt.server} is Primary ({used} failover)", changed=True, facts=facts)


def _planned_only_advice(ctx: StepContext) -> str:
    """What can help when a planned-only failover failed: resuming the same step fails the same way while the
    source region is down."""
    run, step = ctx.run_id, ctx.step_id
    if ctx.mode is Mode.DRILL:
        return (
            "a drill fails over planned only; if the source region is down, end the drill "
            f'(drctl resume {run} --abort --reason "...") and fail over for real with drctl failover PLAYBOOK'
        )
    return (
        f"mode planned never forces; if the source region is down, resuming fails the same way: set "
        f"with: {{mode: planned-then-forced}} on step {step} (it forces only behind the RPO gate, which asks a "
        f'person when the exposure is over it or unmeasured), then: drctl resume {run} --force --reason "..."'
    )


def done_failover(p: FailoverParams, ctx: StepContext) -> bool:
    tgt = ctx.scope.target.sql
    group = p.failover_group or (tgt.failover_group if tgt else "")
    if _target_state(ctx, group).role != "Primary":
        return False  # running the step again follows a failover still in flight before it asks for another
    took = last_intended_kind(ctx, FAILOVER_KEY)
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
    unknown = outcome.facts.get("rpo_exposure_status") == "unknown"
    return [
        Finding(
            "replication",
            outcome.summary,
            "links CATCH_UP, exposure measured within RPO",
            "warning" if unknown else "ok",
            "no RPO evidence about the failover group: a forced failover would need a person" if unknown else "",
        )
    ]


REPLICA_IMPLEMENTATION = Implementation(run=run_replica_check, preflight=preflight_replica)
FAILOVER_IMPLEMENTATION = Implementation(run=run_failover, done=done_failover, preflight=preflight_failover)


def implementation(action: str) -> Implementation[Any] | None:
    """The run-time half of ``action``: how the registry reaches this module when a run starts (``RunModule``)."""
    from drctl.actions.sql.spec import FAILOVER, REPLICA_CHECK

    known: dict[str, Implementation[Any]] = {
        REPLICA_CHECK.name: REPLICA_IMPLEMENTATION,
        FAILOVER.name: FAILOVER_IMPLEMENTATION,
    }
    return known.get(action)
