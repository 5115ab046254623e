"""dns.swap at run time: If-Match writes, 412 handling, verification at the authoritative servers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from drctl.actions import stepgraph
from drctl.actions.dns.spec import DnsSwapParams, Move, swap_records
from drctl.actions.runtime import (
    FACT_SERVICE_RESTORED,
    ActionError,
    Finding,
    Implementation,
    Outcome,
    StepContext,
    TransientError,
)
from drctl.azure.dns import RecordState
from drctl.text import plural

if TYPE_CHECKING:
    from drctl.azure.clients import AzureClients

#: how many times a record may change under us (412) before the step gives the decision back to the operator
CONFLICT_ROUNDS = 3
#: how long a resumed step watches for a record write sent before a crash to show, before writing it again
SETTLE = 20.0


def _where(ctx: StepContext) -> tuple[str, str, str | None]:
    dns = ctx.scope.playbook.dns
    if dns is None:
        raise ActionError("the playbook has no dns section")
    subscription = ctx.secrets.expand(dns.subscription) if dns.subscription else None
    return dns.resource_group, dns.zone, subscription


def _read(ctx: StepContext, move: Move) -> RecordState:
    from drctl.actions.azure_bridge import arm
    from drctl.azure import dns as azure_dns

    group, zone, subscription = _where(ctx)
    return arm(
        ctx,
        f"read {move.fqdn} {move.type}",
        azure_dns.get_record,
        group,
        zone,
        move.name,
        move.type,
        subscription=subscription,
    )


def _key(move: Move) -> str:
    return f"dns.write {move.fqdn} {move.type} -> {move.value} ttl {move.ttl}"


def _changed_fact(move: Move, previous: list[str], previous_ttl: int, changed_at: datetime) -> dict[str, Any]:
    return {
        "fqdn": move.fqdn,
        "type": move.type,
        "previous_values": previous,
        "previous_ttl": previous_ttl,
        "values": [move.value],
        "ttl": move.ttl,
        "changed_at": changed_at.isoformat(),
        # resolvers may serve the old answer until it expires: the real switch time for clients
        "clients_switch_by": (changed_at + timedelta(seconds=previous_ttl)).isoformat(),
    }


def _made_before(ctx: StepContext, move: Move) -> dict[str, Any] | None:
    """The change this step made to a record before a crash (journaled, or only intended when the answer was
    lost): a resumed step reports it, with its previous TTL, instead of calling the record "already there"."""
    from drctl.actions.azure_bridge import FACT_FINISHED, FACT_INTENT

    for fact in reversed(ctx.journaled("dns.changed")):
        if fact.get("fqdn") == move.fqdn and fact.get("type") == move.type and fact.get("values") == [move.value]:
            return dict(fact)
    ended = [f for f in ctx.journaled(FACT_FINISHED) if f.get("key") == _key(move)]
    failed = {f.get("round") for f in ended if f.get("state") in ("Failed", "Canceled")}
    intents = [f for f in ctx.journaled(FACT_INTENT) if f.get("key") == _key(move) and f.get("round") not in failed]
    if not intents:
        return None
    intent = intents[-1]
    fact = _changed_fact(
        move,
        list(intent.get("previous_values") or []),
        int(intent.get("previous_ttl") or 0),
        datetime.fromisoformat(str(intent["at"])),
    )
    ctx.record("dns.changed", {**fact, "from_intent": True})
    return fact


def _move(ctx: StepContext, move: Move) -> dict[str, Any]:
    from drctl.actions.azure_bridge import AzureFailure, Mutation, start_or_follow
    from drctl.azure import dns as azure_dns
    from drctl.azure.errors import Kind

    group, zone, subscription = _where(ctx)
    for _ in range(CONFLICT_ROUNDS):
        current = _read(ctx, move)
        if current.values == (move.value,) and current.ttl == move.ttl:
            return _made_before(ctx, move) or {
                "fqdn": move.fqdn,
                "type": move.type,
                "values": [move.value],
                "ttl": move.ttl,
                "already": True,
            }
        known = {move.value, move.source_value}
        if current.values and not set(current.values) <= known:
            raise ActionError(
                f"{move.fqdn} {move.type} is {', '.join(current.values)}: neither the source's {move.source_value} nor "
                f"the target's {move.value}. Someone else changed it; drctl does not overwrite it. Check who did, "
                "then resume (or skip this step with a reason)."
            )

        def write(azure: AzureClients, etag: str | None = current.etag) -> None:
            azure_dns.set_record(
                azure,
                group,
                zone,
                move.name,
                move.type,
                values=(move.value,),
                ttl=move.ttl,
                if_match=etag,
                subscription=subscription,
            )

        before = {"previous_values": list(current.values), "previous_ttl": current.ttl or 0}
        what = f"set {move.fqdn} {move.type} -> {move.value}"
        mutation = Mutation(key=_key(move), what=what, start=write, detail=before, settle=SETTLE)

        def reached() -> bool:
            state = _read(ctx, move)
            return state.values == (move.value,) and state.ttl == move.ttl

        try:
            if start_or_follow(ctx, mutation, reached=reached).how == "found":
                found = _made_before(ctx, move)
                if found is not None:
                    return found
        except AzureFailure as exc:
            if exc.found.kind is not Kind.PRECONDITION:
                raise
            ctx.record("dns.conflict", {"fqdn": move.fqdn, "type": move.type, "etag": current.etag})
            ctx.progress(f"{move.fqdn} changed while we wrote it (412): reading it again")
            continue
        fact = _changed_fact(move, list(current.values), current.ttl or 0, ctx.now())
        ctx.record("dns.changed", fact)
        return fact
    raise TransientError(f"{move.fqdn} kept changing while we wrote it ({CONFLICT_ROUNDS} times)")


def _servers(ctx: StepContext) -> list[tuple[str, int]]:
    from drctl.actions.azure_bridge import arm
    from drctl.azure import dns as azure_dns
    from drctl.net import dnsquery

    chosen = dnsquery.override(ctx.services.get("network"))
    if chosen:
        return chosen
    group, zone, subscription = _where(ctx)
    names = arm(ctx, f"read zone {zone}", azure_dns.name_servers, group, zone, subscription=subscription)
    found = dnsquery.server_addresses(names)
    if not found:
        raise TransientError(f"cannot resolve the name servers of {zone}: {', '.join(names) or 'none listed'}")
    return found


def _verify(ctx: StepContext, p: DnsSwapParams, moves: list[Move]) -> dict[str, Any]:
    from drctl.net import dnsquery

    servers = _servers(ctx)
    deadline = ctx.now() + p.verify_timeout
    while True:
        checks = [(f"{m.fqdn} @ {s[0]}:{s[1]}", m, dnsquery.query(m.fqdn, m.type, s)) for m in moves for s in servers]
        wrong = [(key, a) for key, m, a in checks if a.values != (m.value,) or a.ttl != m.ttl]
        if not wrong:
            return {
                "servers": [f"{s[0]}:{s[1]}" for s in servers],
                "answers": {key: {"values": list(a.values), "ttl": a.ttl} for key, _, a in checks},
                "verified_at": ctx.now().isoformat(),
            }
        if ctx.now() >= deadline:
            key, answer = wrong[0]
            seen = answer.error or f"{', '.join(answer.values) or 'nothing'} TTL {answer.ttl}"
            raise TransientError(f"not yet visible at the authoritative servers: {key} answers {seen}")
        ctx.sleep(0.5)


def _restored(ctx: StepContext, changes: list[dict[str, Any]], moved: list[dict[str, Any]]) -> dict[str, Any]:
    """Service restored for clients: the new answers at the authoritative servers, plus the previous TTL every
    resolver that honours TTLs may serve the old answer for. A record found already moved (a resumed attempt)
    has no previous TTL this attempt saw: its current TTL stands in, and the fact says so."""
    authoritative = ctx.now()
    lag = max((int(c["previous_ttl"]) for c in moved), default=0)
    known = len(moved) == len(changes)
    if not known:
        lag = max([lag, *(int(c["ttl"]) for c in changes if c.get("already"))])
    return {
        "at": (authoritative + timedelta(seconds=lag)).isoformat(),
        "authoritative_at": authoritative.isoformat(),
        "previous_ttl_seconds": lag,
        "previous_ttl_known": known,
        "by": "dns.swap",
    }


def run_swap(p: DnsSwapParams, ctx: StepContext) -> Outcome:
    moves = swap_records(p, ctx.scope)
    changes = [_move(ctx, move) for move in moves]
    return _verified(p, ctx, moves, changes)


def _verified(p: DnsSwapParams, ctx: StepContext, moves: list[Move], changes: list[dict[str, Any]]) -> Outcome:
    """Verify the records at the authoritative servers, and record the restore: the end of a swap, whether the
    run wrote the records just now or before a crash."""
    facts: dict[str, Any] = {"records": changes}
    if p.verify:
        facts["verification"] = _verify(ctx, p, moves)
        ctx.record("dns.verified", facts["verification"])
    moved = [c for c in changes if not c.get("already")]
    ctx.record(FACT_SERVICE_RESTORED, _restored(ctx, changes, moved))
    latest = max((c["clients_switch_by"] for c in moved), default=None)
    summary = f"{plural(len(moved), 'record')} moved" + (
        f", {len(changes) - len(moved)} already there" if len(moved) < len(changes) else ""
    )
    if p.verify:
        summary += ", verified at the authoritative servers"
    if latest:
        summary += f"; clients switch by {latest[11:19]}"
    return Outcome(summary, changed=bool(moved), facts=facts)


def done_swap(p: DnsSwapParams, ctx: StepContext) -> bool | Outcome:
    """Records at the target in ARM are not a finished swap: the verification at the authoritative servers and
    the restore time a crash interrupted are done here, or the step runs again (it writes nothing twice)."""
    moves = swap_records(p, ctx.scope)
    if not all((state := _read(ctx, m)).values == (m.value,) and state.ttl == m.ttl for m in moves):
        return False
    if ctx.journaled(FACT_SERVICE_RESTORED) and (ctx.journaled("dns.verified") or not p.verify):
        return True
    changes = [_made_before(ctx, m) or {"fqdn": m.fqdn, "type": m.type, "already": True} for m in moves]
    try:
        return _verified(p, ctx, moves, changes)
    except TransientError:
        return False  # not visible yet: the step runs again, finds the records written and goes on verifying


def preflight_swap(p: DnsSwapParams, ctx: StepContext) -> list[Finding]:
    from drctl.durations import format_duration as fd

    findings = []
    rto = ctx.playbook.objectives.rto.total_seconds()
    swapped = stepgraph.planned_finish(ctx.playbook, ctx.mode, ctx.step_id)
    for move in swap_records(p, ctx.scope):
        state = _read(ctx, move)
        current = f"{', '.join(state.values) or 'empty'} TTL {state.ttl}"
        intended = f"{move.value} TTL {move.ttl}"
        subject = f"DNS {move.fqdn} {move.type}"
        lead = fd(state.ttl or 0)
        lower = f"lower the TTL to {move.ttl} at least {lead} before a failover (now, in steady state)"
        if state.ttl and swapped + state.ttl > rto:
            clients = f"T+{fd(swapped)} + TTL {lead} = T+{fd(swapped + state.ttl)}"
            message = f"clients switch by {clients} on the planned path, past the RTO {fd(rto)}: {lower}"
            findings.append(Finding(subject, current, intended, "error", message))
        elif state.ttl and state.ttl > move.ttl:
            message = f"clients may keep the old answer for up to {lead} after the swap: {lower}"
            findings.append(Finding(subject, current, intended, "warning", message))
        else:
            findings.append(Finding(subject, current, intended, "ok"))
    return findings


SWAP_IMPLEMENTATION = Implementation(run=run_swap, done=done_swap, preflight=preflight_swap)


def implementation(action: str) -> Implementation[Any] | None:
    """The run-time half of ``action``: how the registry reaches this module when a run starts (``RunModule``)."""
    from drctl.actions.dns.spec import DNS_SWAP

    known: dict[str, Implementation[Any]] = {DNS_SWAP.name: SWAP_IMPLEMENTATION}
    return known.get(action)
