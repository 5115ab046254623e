"""sql.replica_check and sql.failover: the failover group, its links, and RPO evidence."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal

from drctl.actions.base import ActionSpec, Params, Problem, SafetyRole, Scope
from drctl.durations import format_duration
from drctl.playbook.model import Duration

#: where measured RPO exposure comes from: the app's replication endpoint, or storage geo-replication
RpoSource = Literal["app", "storage"]
FailoverMode = Literal["planned", "forced", "planned-then-forced"]


class ReplicaCheckParams(Params):
    #: defaults to the source region's failover group
    failover_group: str | None = None
    rpo_evidence: list[RpoSource] | None = None
    #: the exposure to compare against; the playbook's RPO objective when omitted
    max_exposure: Duration | None = None
    #: fail the step when the exposure is above ``max_exposure`` (otherwise: a journaled breach warning)
    enforce_rpo: bool = False


class FailoverParams(Params):
    mode: FailoverMode = "planned"
    failover_group: str | None = None
    #: forced failover runs only if measured exposure is within this (default: the RPO objective), or an
    #: approver accepts the loss with a reason
    rpo_gate: Duration | None = None
    rpo_evidence: list[RpoSource] | None = None


def evidence_sources(requested: list[RpoSource] | None, scope: Scope) -> list[RpoSource]:
    if requested is not None:
        return requested
    found: list[RpoSource] = []
    if scope.source.replication_url and scope.target.replication_url:
        found.append("app")
    if scope.source.storage_accounts or scope.target.storage_accounts:
        found.append("storage")
    return found


def _evidence_problems(requested: list[RpoSource] | None, scope: Scope) -> list[Problem]:
    problems: list[Problem] = []
    for i, source in enumerate(requested or []):
        if source == "app" and not (scope.source.replication_url and scope.target.replication_url):
            problems.append(Problem("RPO evidence 'app' needs replication_url in both regions", ("rpo_evidence", i)))
        if source == "storage" and not (scope.source.storage_accounts or scope.target.storage_accounts):
            problems.append(Problem("RPO evidence 'storage' needs storage_accounts", ("rpo_evidence", i)))
    return problems


def _sql_problems(group: str | None, scope: Scope) -> list[Problem]:
    problems: list[Problem] = []
    for role in ("source", "target"):
        if scope.region(role).sql is None:
            problems.append(Problem(f"region {scope.region_name(role)!r} declares no sql estate"))
    if group is not None and scope.source.sql and group != scope.source.sql.failover_group:
        problems.append(
            Problem(
                f"failover group {group!r} is not the estate's {scope.source.sql.failover_group!r}",
                ("failover_group",),
            )
        )
    return problems


def _check_replica(p: ReplicaCheckParams, scope: Scope) -> list[Problem]:
    return _sql_problems(p.failover_group, scope) + _evidence_problems(p.rpo_evidence, scope)


def _check_failover(p: FailoverParams, scope: Scope) -> list[Problem]:
    return _sql_problems(p.failover_group, scope) + _evidence_problems(p.rpo_evidence, scope)


def _describe_replica(p: ReplicaCheckParams, scope: Scope) -> list[str]:
    src, tgt = scope.source.sql, scope.target.sql
    if src is None or tgt is None:
        return []
    group = p.failover_group or src.failover_group
    limit = format_duration(p.max_exposure or scope.playbook.objectives.rpo)
    evidence = ", ".join(evidence_sources(p.rpo_evidence, scope)) or "none declared"
    return [
        f"failover group {group}: {src.server} Primary, {tgt.server} Secondary, links CATCH_UP for "
        f"{', '.join(src.databases)}",
        f"RPO exposure from {evidence} against {limit}" + (" (enforced)" if p.enforce_rpo else ""),
    ]


def _describe_failover(p: FailoverParams, scope: Scope) -> list[str]:
    src, tgt = scope.source.sql, scope.target.sql
    if src is None or tgt is None:
        return []
    group = p.failover_group or tgt.failover_group
    gate = format_duration(p.rpo_gate or scope.playbook.objectives.rpo)
    lines = [
        f"SQL failover group {group}: {tgt.server} ({scope.target.location}) becomes Primary, "
        f"{src.server} ({scope.source.location}) Secondary; {p.mode} failover"
    ]
    if p.mode != "planned":
        lines.append(
            f"forced failover (data loss) only if measured RPO exposure <= {gate} or an approver accepts "
            "the loss with a reason"
        )
    return lines


def _promotes(_p: Params, _raw: Mapping[str, Any]) -> set[SafetyRole]:
    return {SafetyRole.PROMOTES_TARGET_DATABASE}


REPLICA_CHECK = ActionSpec(
    name="sql.replica_check",
    summary="Check the failover group's links and partner roles, and measure RPO exposure",
    params=ReplicaCheckParams,
    mutating=False,
    default_timeout=timedelta(minutes=2),
    default_budget=timedelta(seconds=30),
    describe=_describe_replica,
    check=_check_replica,
    needs_azure=True,
    implementation="drctl.actions.impl.sql:REPLICA_IMPLEMENTATION",
)

FAILOVER = ActionSpec(
    name="sql.failover",
    summary="Make the target's SQL server primary in the failover group (planned, forced or both)",
    params=FailoverParams,
    mutating=True,
    default_timeout=timedelta(minutes=15),
    default_budget=timedelta(minutes=5),
    describe=_describe_failover,
    check=_check_failover,
    safety=_promotes,
    needs_azure=True,
    implementation="drctl.actions.impl.sql:FAILOVER_IMPLEMENTATION",
)
