"""``drctl report RUN``: a run's evidence report rebuilt from its journal alone, in Markdown, HTML, JSON or JUnit
XML; and the reports every run writes into its directory when it ends (``write_run_reports``)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from drctl.cli.run_cmd import STATE_DIR_HELP
from drctl.reports.formats import ReportFormat


def write_run_reports(journal: Path) -> None:
    """At the end of a run (succeeded, failed, aborted; a paused run has not ended): every format beside the
    journal. A report that cannot be written is a warning: the run's outcome and exit code stand."""
    from drctl.reports.files import write_reports

    try:
        written = write_reports(journal)
    except Exception as exc:  # the run has ended and its journal is complete; `drctl report` can try again
        print(f"warning: the reports could not be written ({type(exc).__name__}: {exc})", file=sys.stderr)
        return
    print(f"reports: {written[0].parent}/report.{{md,html,json,xml}}", file=sys.stderr)


def report(
    run: str | None = typer.Argument(None, metavar="[RUN]", help="The run id or a prefix; the latest run if omitted."),
    output_format: ReportFormat = typer.Option(ReportFormat.MD, "--format", help="md, html, json or junit."),
    output: Path | None = typer.Option(None, "--output", "-o", metavar="FILE", help="Write to FILE, not stdout."),
    write: bool = typer.Option(
        False, "--write", help="(Re)write every format into the run's directory, as the end of a run does."
    ),
    state_dir: Path | None = typer.Option(None, "--state-dir", help=STATE_DIR_HELP),
) -> None:
    """A run's report, rebuilt from its journal alone: the verdict first (RTO, RPO, MTTR against objectives),
    the timeline, every step planned against actual, approvals, messages, DNS, RPO evidence, and whether the
    journal's hash chain verifies. A run that has not ended gets an interim report.

    Exit codes: 0 written, 9 no such run, 7 the journal cannot be read.
    """
    from drctl.engine.paths import StateDir, resolve_state_dir
    from drctl.reports.build import load_report
    from drctl.reports.files import render, write_atomically, write_reports

    state = StateDir(resolve_state_dir(state_dir))
    journal = state.journal(state.find(run))
    built = load_report(journal)
    if not built.journal.chain_verified:
        print(f"warning: the journal does not verify: {built.journal.verification}", file=sys.stderr)
    if write:
        for path in write_reports(journal):
            typer.echo(str(path))
        return
    text = render(built, output_format)
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_atomically(output, text)
        print(f"report: {output}", file=sys.stderr)


def register(app: typer.Typer) -> None:
    app.command("report")(report)
