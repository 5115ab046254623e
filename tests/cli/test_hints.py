"""Every ``drctl ...`` command a hint or message can print works as printed (issue 11, item 4).

The commands are taken from the source, not from a list kept by hand: every string literal (f-strings with
their fields filled in) of the modules that print hints, errors and prompts. Each ``drctl <command> ...`` in one
is parsed by the real Typer app, as the shell would hand it over: an unknown command or option, a missing
argument or a bad value fails the test, naming the file and line. A new hint is checked the day it is written.
"""

from __future__ import annotations

import ast
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer

from drctl.cli.main import app
from tests.conftest import ROOT

#: where hints, errors, prompts and run messages are written (the sandbox's own TLS and SMTP names aside)
SOURCES = (
    "drctl/cli/*.py",
    "drctl/engine/*.py",
    "drctl/actions/*.py",
    "drctl/actions/*/*.py",
    "drctl/azure/*.py",
    "drctl/sandbox/client.py",
    "drctl/sandbox/process.py",
)
#: ``drctl`` used as a noun in prose ("a drctl journal", "drctl stopped while ..."), never a command
PROSE = {"stopped", "does", "waits", "journal", "never", "cannot", "can", "process", "is"}
#: what a field of an f-string stands for when the hint is printed
RUN_ID = "20260303T020000Z-a1b2"


@dataclass(frozen=True)
class Hint:
    where: str
    text: str
    command: str
    #: in backticks: a command named in a sentence ("`drctl drill` refuses unless ...") may leave its arguments
    #: to the reader; its command and options must still exist
    mention: bool = False


def _value(expression: str) -> str:
    name = expression.rsplit(".", 1)[-1].lower()
    if "reason" in name:
        return '--reason "because"'
    if "run" in name or name == "rid":
        return RUN_ID
    if "step" in name or name == "sid":
        return "promote-database"
    if name in ("where", "_dir_flag(state_dir)"):
        return ""
    if "file" in name or "playbook" in name:
        return "playbooks/au-east-to-au-southeast.yaml"
    return "X"


def _render(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        # a template for str.format: "drctl resume {run} --sandbox"
        return re.sub(r"\{([A-Za-z_][\w.]*)\}", lambda m: _value(m.group(1)), node.value)
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                parts.append(_value(ast.unparse(value.value)))
        return "".join(parts)
    return None


def _strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inner: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            inner.update(id(v) for v in node.values)
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            inner.add(id(body[0].value))  # a docstring documents, it is never printed
    found = []
    for node in ast.walk(tree):
        if id(node) in inner:
            continue
        text = _render(node)
        if text and "drctl " in text:
            found.append((getattr(node, "lineno", 0), text))
    return found


_COMMAND = re.compile(r"(?<![\w./$])(`?)drctl (?=[a-z])")
#: where a command printed in running text ends
_END = re.compile(r";|\s\(|\)|\?|\n|`|, | then |$")


def hints() -> list[Hint]:
    out = []
    for pattern in SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            for line, text in _strings(path):
                for match in _COMMAND.finditer(text):
                    rest = text[match.end() :]
                    if rest.split(" ", 1)[0].rstrip(".,:;") in PROSE:
                        continue
                    if match.group(1):
                        command = rest.split("`", 1)[0]
                    else:
                        end = _END.search(rest)
                        command = rest[: end.start() if end else len(rest)]
                    command = command.strip()
                    if command.endswith(".") and not command.endswith("..."):
                        command = command[:-1]  # the end of the sentence
                    out.append(Hint(f"{path.relative_to(ROOT)}:{line}", text, command, mention=bool(match.group(1))))
    return out


HINTS = hints()
#: click's UsageError (Typer vendors click; BadParameter is one): unknown command or option, missing argument,
#: bad value; what the shell would answer with exit 2
CommandLineError: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


_CLI = typer.main.get_command(app)


def _parse(args: list[str]) -> None:
    """Parse ``args`` as ``drctl`` would, down to the command that would run; run nothing."""
    command: Any = _CLI
    ctx = command.make_context("drctl", list(args))
    while hasattr(command, "resolve_command"):  # a group: on to its subcommand
        # the subcommand's name and arguments (click 8.2 renamed protected_args to _protected_args)
        protected = getattr(ctx, "_protected_args", None) or getattr(ctx, "protected_args", None) or []
        if not [*protected, *ctx.args]:
            return  # a group that runs on its own (``drctl runs``)
        name, command, rest = command.resolve_command(ctx, [*protected, *ctx.args])
        ctx = command.make_context(name, rest, parent=ctx)


def _variants(command: str) -> list[list[str]]:
    """The command as printed, and with each ``[optional]`` part taken up."""
    bare = re.sub(r"\s*\[[^\]]*\]", "", command)
    full = command.replace("[", "").replace("]", "")
    return [shlex.split(bare)] + ([shlex.split(full)] if full != bare else [])


def test_the_source_has_the_hints_it_is_known_for() -> None:
    """The extraction finds hints: a broken pattern cannot make the test below pass by finding none."""
    commands = {h.command.split(" ", 1)[0] for h in HINTS}
    assert {"resume", "status", "approve", "sandbox", "runs", "failover", "drill"} <= commands
    assert any(h.command == f'resume {RUN_ID} --force --reason "..."' for h in HINTS)
    assert any(h.command == f"resume {RUN_ID} --sandbox" for h in HINTS)
    assert len(HINTS) >= 25


@pytest.mark.parametrize("hint", HINTS, ids=[f"{h.where}:{h.command}" for h in HINTS])
def test_every_printed_command_parses(hint: Hint) -> None:
    for args in _variants(hint.command):
        try:
            try:
                _parse(args)
            except CommandLineError as exc:
                if not (hint.mention and type(exc).__name__ == "MissingParameter"):
                    raise
                _parse([*args, "--help"])  # named, not spelled out: it must exist, with these options
        except CommandLineError as exc:
            message: Any = getattr(exc, "format_message", exc.__str__)
            pytest.fail(f"{hint.where}: `drctl {shlex.join(args)}` does not work as printed: {message()}")
        except typer.Exit:
            pass  # --help


def test_the_parser_refuses_what_the_shell_would() -> None:
    """The check above can fail: a misspelt command, an unknown option, a missing argument."""
    for broken in ("resme RUN", "resume RUN --sandbx", "approve RUN", "sandbox up --mode sideways"):
        with pytest.raises(CommandLineError):
            _parse(shlex.split(broken))
