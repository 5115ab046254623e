"""The facts the SQL actions record (their RPO evidence and gates are the shared ``rpo.*`` kinds)."""

from __future__ import annotations

from drctl.actions.facts import FactKind

FACTS = (
    FactKind(
        "sql.failover",
        lambda d: f"{d.get('failover_group')}: {d.get('primary')} is primary ({d.get('mode')})",
        "SQL failovers",
    ),
    FactKind("sql.planned_failed", lambda d: f"planned failover failed: {d.get('error')}"),
    FactKind("replication.suspended", lambda d: f"replication links not catching up ({d.get('because')})"),
)
