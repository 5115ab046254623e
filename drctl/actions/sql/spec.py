"""sql.replica_check and sql.failover: the failover group, its links, and RPO evidence."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal

from drctl.actions.base import ActionSpec, Params, Problem, SafetyRole, Scope
from drctl.durations import format_duration
from drctl.playbook.model import Duration

#: where measured RPO exposure comes from: the app's replication endpoint (about the failover group named in
#: ``replication_url_group``), or storage geo-replication (about each storage account, never about a group)
RpoSource = Literal["app", "storage"]
FailoverMode = Literal["planned", "forced", "planned-then-forced"]


class ReplicaCheckParams(Params):
    #: defaults to the source region's failover group
    failover_group: str | None = None
    rpo_evidence: list[RpoSource] | None = None
    #: the failover group the regions' ``replication_url`` report on: their answers count as evidence about
    #: this group only when the playbook says so here (and an answer naming another group never counts)
    replication_url_group: str | None = None
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
    #: as in ``sql.replica_check``: what ties the replication endpoints' answers to this failover group
    replication_url_group: str | None = None


def evidence_sources(requested: list[RpoSource] | None, scope: Scope) -> list[RpoSource]:
    if requested is not None:
        return requested
    found: list[RpoSource] = []
    if scope.source.replication_url and scope.target.replication_url:
        found.append("app")
    if scope.source.storage_accounts or scope.target.storage_accounts:
        found.append("storage")
    return found


def app_evidence_gap(requested: list[RpoSource] | None, tied: str | None, group: str, scope: Scope) -> str | None:
    """Why the replication endpoints cannot give evidence about ``group``, or None when they can."""
    if requested is not None and "app" not in requested:
        return "rpo_evidence leaves out 'app', the only evidence about a failover group"
    for role in ("source", "target"):
        if not scope.region(role).replication_url:
            return f"region {scope.region_name(role)!r} has no replication_url"
    if tied is None:
        return (
            "replication_url_group is not set: the replication endpoints count as evidence about a failover "
            "group only when the playbook names it"
        )
    if tied != group:
        return f"the replication endpoints report on {tied!r}, not on {group!r}"
    return None


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


def _tie_problems(tied: str | None, scope: Scope) -> list[Problem]:
    if tied is not None and scope.source.sql and tied != scope.source.sql.failover_group:
        return [
            Problem(
                f"replication_url_group {tied!r} is not the estate's failover group "
                f"{scope.source.sql.failover_group!r}",
                ("replication_url_group",),
            )
        ]
    return []


def _check_replica(p: ReplicaCheckParams, scope: Scope) -> list[Problem]:
    return (
        _sql_problems(p.failover_group, scope)
        + _evidence_problems(p.rpo_evidence, scope)
        + _tie_problems(p.replication_url_group, scope)
    )


def _check_failover(p: FailoverParams, scope: Scope) -> list[Problem]:
    problems = (
        _sql_problems(p.failover_group, scope)
        + _evidence_problems(p.rpo_evidence, scope)
        + _tie_problems(p.replication_url_group, scope)
    )
    for i, source in enumerate(p.rpo_evidence or []):
        if source == "storage":
            problems.append(
                Problem(
                    "storage evidence is about storage accounts, never about a failover group: it cannot gate "
                    "a SQL failover",
                    ("rpo_evidence", i),
                )
            )
    group = p.failover_group or (scope.target.sql.failover_group if scope.target.sql else None)
    if p.mode != "planned" and group is not None and scope.source.sql and scope.target.sql:
        gap = app_evidence_gap(p.rpo_evidence, p.replication_url_group, group, scope)
        if gap is not None:
            problems.append(
                Problem(
                    f"this step can force a failover of {group} without RPO evidence about it ({gap}): every "
                    "forced failover will wait for a person to accept the possible data loss",
                    ("mode",),
                    severity="warning",
                )
            )
    return problems


def _describe_replica(p: ReplicaCheckParams, scope: Scope) -> list[str]:
    src, tgt = scope.source.sql, scope.target.sql
    if src is None or tgt is None:
        return []
    group = p.failover_group or src.failover_group
    limit = format_duration(p.max_exposure or scope.playbook.objectives.rpo)
    gap = app_evidence_gap(p.rpo_evidence, p.replication_url_group, group, scope)
    evidence = ", ".join(
        f"{group} from the replication endpoints" if s == "app" else "storage accounts (each its own)"
        for s in evidence_sources(p.rpo_evidence, scope)
        if s != "app" or gap is None
    )
    evidence = evidence or f"nothing about {group} ({gap})"
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
        gap = app_evidence_gap(p.rpo_evidence, p.replication_url_group, group, scope)
        lines.append(
            "forced failover (data loss) only when the source is lost (ARM replication state and probes), and "
            + (
                f"the RPO exposure of {group} is measured <= {gate}, or an approver accepts the loss with a reason"
                if gap is None
                else f"an approver accepts the loss with a reason: no RPO evidence about {group} ({gap})"
            )
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
)
