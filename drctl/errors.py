"""The error tree and the exit codes: the only place either is defined.

Every failure a user can cause or meet is a ``DrctlError`` carrying the exit code the CLI returns for it;
anything else reaching the top level is a bug and exits with ``ExitCode.INTERNAL``.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    #: the run ended with a failed step (after retries and on_failure), or a command's check failed
    STEP_FAILED = 1
    #: the command line itself is wrong (unknown option, missing argument); Click uses 2 as well
    USAGE = 2
    #: a playbook failed validation: nothing was run
    INVALID_PLAYBOOK = 3
    #: every step succeeded but an objective (RTO or RPO) was breached
    OBJECTIVE_BREACHED = 4
    #: the operator aborted the run (Ctrl-C then abort, a rejected approval, a pause answered with abort)
    ABORTED = 5
    #: another live run holds the playbook's lock
    LOCKED = 6
    #: the journal could not be written or read back safely: the run stopped to stay resumable
    JOURNAL = 7
    #: Azure (or the sandbox) could not be reached or refused our credentials before anything was changed
    AZURE = 8
    #: a run, step or report that was asked for does not exist, or a resume was refused
    NOT_FOUND = 9
    #: the run is paused, waiting for an operator decision (non-interactive sessions)
    PAUSED = 10
    #: the sandbox could not start or was given a malformed estate or fault
    SANDBOX = 11
    #: a bug in drctl: please report it with the journal
    INTERNAL = 70
    #: a second Ctrl-C forced the process down (128 + SIGINT)
    INTERRUPTED = 130


class DrctlError(Exception):
    """Base of every error a user can meet; ``exit_code`` decides what the CLI returns."""

    exit_code: ExitCode = ExitCode.STEP_FAILED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(DrctlError):
    exit_code = ExitCode.USAGE


class PlaybookError(DrctlError):
    """A playbook is unreadable or invalid; ``diagnostics`` holds every located problem found."""

    exit_code = ExitCode.INVALID_PLAYBOOK

    def __init__(self, message: str, diagnostics: list[object] | None = None) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics or []


class StepFailed(DrctlError):
    exit_code = ExitCode.STEP_FAILED


class ObjectiveBreached(DrctlError):
    exit_code = ExitCode.OBJECTIVE_BREACHED


class Aborted(DrctlError):
    exit_code = ExitCode.ABORTED


class LockHeld(DrctlError):
    exit_code = ExitCode.LOCKED


class JournalError(DrctlError):
    exit_code = ExitCode.JOURNAL


class AzureError(DrctlError):
    exit_code = ExitCode.AZURE


class NotFound(DrctlError):
    exit_code = ExitCode.NOT_FOUND


class RunPaused(DrctlError):
    exit_code = ExitCode.PAUSED


class SandboxError(DrctlError):
    exit_code = ExitCode.SANDBOX
