"""The facts the storage actions record (their RPO evidence and gates are the shared ``rpo.*`` kinds)."""

from __future__ import annotations

from drctl.actions.facts import FactKind

FACTS = (FactKind("storage.failover", lambda d: f"storage account {d.get('account')}: {d.get('type')} failover done"),)
