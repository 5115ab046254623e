"""Who is at the keyboard: the OS user and host, and (when a resolver is installed) the Azure principal.

The Azure work installs a principal resolver (``set_principal_resolver``) once it has a credential, so every
approval and decision journaled afterwards names the Azure identity as well as the OS account.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Callable

from drctl.engine.events import Identity

_principal: Callable[[], str | None] | None = None


def set_principal_resolver(resolver: Callable[[], str | None] | None) -> None:
    global _principal  # noqa: PLW0603 - one process-wide hook, set by the CLI at run start
    _principal = resolver


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
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
