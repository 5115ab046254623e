"""What a drill may do, decided from the playbook alone (pure): ``drctl drill`` refuses to start on it, and
``drctl plan --mode drill`` says so in advance."""

from __future__ import annotations

from drctl.planning.load import LoadedPlaybook
from drctl.playbook import graph
from drctl.playbook.enums import Mode
from drctl.playbook.model import ChangeWindow


def forcing_steps(loaded: LoadedPlaybook) -> list[str]:
    """The drill steps that could fail over with data loss, each as ``id (why)``; a drill refuses to start.

    ``sql.failover`` with ``mode: forced`` forces by definition. ``planned-then-forced`` is accepted: in a drill
    the action runs its planned part only (it refuses to force when the run's mode is drill). ``storage.failover``
    with ``mode: unplanned`` loses the writes after the account's last sync time, so a drill refuses it; its
    ``planned`` failover (Azure's failover for drills) and ``planned-then-unplanned`` (planned only in a drill)
    are accepted.
    """
    found: list[str] = []
    for step in graph.steps_for(loaded.playbook, Mode.DRILL):
        modes = {getattr(loaded.params.get((step.id, label)), "mode", None) for label in ("forward", "reverse")}
        if step.uses == "sql.failover" and "forced" in modes:
            found.append(f"{step.id} (sql.failover with mode: forced)")
        elif step.uses == "storage.failover" and "unplanned" in modes:
            found.append(f"{step.id} (storage.failover with mode: unplanned loses the writes after the last sync)")
    return found


def describe_window(window: ChangeWindow) -> str:
    return f"{', '.join(d.value for d in window.days)} {window.start}-{window.end} {window.timezone}"
