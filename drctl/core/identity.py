"""A person at a machine, and the one way to print or compare one.

An action (``gate.approval``), the engine (approvals, separation of duties), the views and the reports all name
people; this module is below all of them so none has to import another to do so. Finding out who is at the
keyboard (the OS account, the Azure principal) is the engine's business (``engine/identity.py``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    """A person at a machine: the OS user always; the Azure principal when known."""

    os_user: str
    host: str
    principal: str | None = None


def describe(who: Identity) -> str:
    """``alice@host``, with the Azure principal when known: ``alice@host (Azure ops@contoso.com)``."""
    base = f"{who.os_user}@{who.host}"
    return f"{base} (Azure {who.principal})" if who.principal else base


def same_person(a: Identity, b: Identity) -> bool:
    """The same account on the same machine, or the same Azure principal (both known)."""
    if (a.os_user, a.host.lower()) == (b.os_user, b.host.lower()):
        return True
    return a.principal is not None and b.principal is not None and a.principal.lower() == b.principal.lower()


def matches(who: Identity, name: str) -> bool:
    """Whether an approvers entry names this person: an OS user (``alice``), a user at a host (``alice@vm``)
    or an Azure principal (``ops@contoso.com``, an app or object id); case-insensitive like the directories."""
    wanted = name.strip().lower()
    names = {who.os_user.lower(), f"{who.os_user}@{who.host}".lower()}
    if who.principal:
        names.add(who.principal.lower())
    return wanted in names
