"""The run's one verdict (``engine/verdict.py``) in words, the same in the live view, ``status`` and ``runs``.

Never a breached objective beside "succeeded" or "achieved": the words come from the verdict's result and each
objective's status, nothing else.
"""

from __future__ import annotations

from drctl.durations import format_duration as fd
from drctl.engine import events as ev

REHEARSAL = "REHEARSAL on a sandbox: not evidence of recovery, and never counted as a drill"


def banner(started: ev.RunStarted) -> str | None:
    """The rehearsal banner for a run against a sandbox, else None."""
    from drctl.engine.verdict import rehearsal

    return REHEARSAL if rehearsal(started) else None


def describe_environment(env: ev.Environment) -> str:
    if env.kind == "sandbox":
        how = "embedded (--sandbox)" if env.embedded else f"at {env.arm_endpoint}"
        faults = f", faults {'; '.join(env.faults)}" if env.faults else ""
        return f"sandbox {how}, estate sha256 {(env.estate_sha256 or '?')[:12]}{faults} (a rehearsal)"
    if env.kind == "azure":
        return f"Azure: ARM {env.arm_endpoint}, tenant {env.tenant or '?'}, subscription {env.subscription}"
    return "no Azure (the playbook has no Azure step)"


def objective_text(o: ev.ObjectiveVerdict, *, short: bool = False) -> str:
    """``RTO 5m08s met``, ``RTO NOT MET: 1h00m08s > 1h``, ``RPO unmeasured``, with the RTO's two times."""
    if o.achieved_seconds is None:
        word = {"pending": "pending", "unmeasured": "unmeasured"}.get(o.status, "NOT MET")
        return f"{o.name} {word}" + ("" if short else f" ({o.basis})")
    figure = ("at most " if o.evidence == "at most" else "") + fd(o.achieved_seconds)
    if o.met is True:
        head = f"{o.name} {figure} met (objective {fd(o.objective_seconds)})"
    elif o.met is False:
        head = f"{o.name} NOT MET: {figure} > {fd(o.objective_seconds)}"
    else:
        head = f"{o.name} {figure}, unproven against {fd(o.objective_seconds)}"
    if short:
        return head
    if o.switch:
        head += f"; clients served by the target at T+{fd(o.achieved_seconds)} ({o.switch})"
    elif o.evidence == "none by construction":
        head += "; planned failover: no data loss by construction"
    return head


def verdict_line(verdict: ev.RunVerdict) -> str:
    """The run's last line: its verdict, the exit code, and each objective."""
    code = f" (exit {verdict.exit_code})" if verdict.exit_code is not None else ""
    objectives = "; ".join(objective_text(o) for o in verdict.objectives)
    prefix = "REHEARSAL (sandbox, not evidence): " if verdict.rehearsal else ""
    return f"{prefix}run {verdict.headline}{code}: {objectives}"


def verdict_word(verdict: ev.RunVerdict) -> str:
    """One short word-group for tables: ``passed``, ``BREACHED (RTO)``, ``FAILED (step failed, RTO)``..."""
    missed = [o.name for o in verdict.objectives if o.met is False]
    if verdict.result == "passed":
        word = "passed"
    elif verdict.result == "not finished":
        word = "-"
    elif verdict.result == "breached":
        word = f"BREACHED ({', '.join(missed)} not met)"
    else:
        why = [verdict.result if verdict.result == "aborted" else "step failed", *(f"{m} not met" for m in missed)]
        word = f"{verdict.headline} ({', '.join(why)})"
    return word + (" [rehearsal]" if verdict.rehearsal else "")
