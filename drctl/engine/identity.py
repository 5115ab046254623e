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

# printing and comparing people lives below the actions (``gate.approval`` names its approver too); the engine's
# callers keep asking this module
from drctl.core.identity import Identity
from drctl.core.identity import describe as describe
from drctl.core.identity import matches as matches
from drctl.core.identity import same_person as same_person

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
