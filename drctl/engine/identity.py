"""Who is at the keyboard: the OS user and host, and (when a resolver is installed) the Azure principal.

The Azure work installs a principal resolver (``set_principal_resolver``) once it has a credential, so every
approval and decision journaled afterwards names the Azure identity as well as the OS account.

The OS user is the account the process runs as (its effective uid in the password database), never ``$USER``
or ``$LOGNAME``, which anyone can set: an approval must name who gave it. ``describe`` is the one way every
view, message and report prints a person; ``same_person`` is how separation of duties tells two apart.
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Callable

from drctl.engine.events import Identity

_principal: Callable[[], str | None] | None = None


def set_principal_resolver(resolver: Callable[[], str | None] | None) -> None:
    global _principal  # noqa: PLW0603 - one process-wide hook, set by the CLI at run start
    _principal = resolver


def os_user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, OSError):  # no passwd entry (some containers): the login name, else unknown
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "unknown"


def host() -> str:
    return socket.gethostname()


def current() -> Identity:
    principal = None
    if _principal is not None:
        try:
            principal = _principal()
        except Exception:
            principal = None
    return Identity(os_user=os_user(), host=host(), principal=principal)


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
