"""The console entry point (``drctl``, ``python -m drctl``): a plain ``validate`` runs without building the Typer
app; everything else goes to ``cli/main.py``.

Typer parses arguments by building a pydantic adapter per parameter and imports every command's module for its
help: together more than the whole check of a playbook (``python -X importtime -m drctl validate ...``;
benchmarks/startup.py). ``validate`` is what CI runs on every commit, so when its arguments are plain (files,
``--strict``, ``--format text|json``) it is run here; anything else, help and every argument error included, is
Typer's, so those messages and exit codes have one source. tests/cli/test_entry.py holds the two paths to the
same output.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence

from drctl.errors import DrctlError, ExitCode


def report_error(exc: DrctlError) -> None:
    print(f"error: {exc.message}", file=sys.stderr)
    for item in getattr(exc, "diagnostics", []) or []:
        print(str(item), file=sys.stderr)
    if exc.hint:
        print(f"hint: {exc.hint}", file=sys.stderr)


def guarded(command: Callable[[], None]) -> None:
    """Run a command the way every drctl command ends: a DrctlError is its message and exit code, Ctrl-C is 130,
    anything else is a bug reported as one (exit 70)."""
    try:
        command()
    except DrctlError as exc:
        report_error(exc)
        sys.exit(int(exc.exit_code))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(int(ExitCode.INTERRUPTED))
    except Exception:  # a bug: say so plainly, with what a maintainer needs
        print("internal error: this is a bug in drctl; please report it with the output below", file=sys.stderr)
        traceback.print_exc()
        sys.exit(int(ExitCode.INTERNAL))


def dispatch(argv: Sequence[str]) -> None:
    """``drctl ARGV``: exits with the command's code."""
    from drctl.cli.validate_report import parse_simple

    simple = parse_simple(argv)
    if simple is None:
        from drctl.cli.main import main

        main(list(argv))
        return

    # pydantic looks for plugins in every installed package's metadata the first time it builds a model: a
    # tenth of this command's time, for plugins drctl does not use. Its documented switch; a value the user set
    # wins, and a validate starts no process that could inherit it.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

    def validate() -> None:
        from drctl.cli.validate_report import check_and_report

        code = check_and_report(*simple)
        if code:
            sys.exit(code)

    guarded(validate)


def run() -> None:
    """The console script: ``dispatch``, then leave without tearing the interpreter down.

    A failover imports the Azure SDK; unwinding those thousands of objects at exit took 0.5 s of the operator's
    time (benchmarks/failover_sandbox.py). Everything that matters is already durable: the journal is fsynced
    line by line, and the output streams are flushed here.
    """
    code = 0
    try:
        dispatch(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
