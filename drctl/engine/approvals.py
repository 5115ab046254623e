"""Approvals: one machinery for ``gate.approval`` and for actions that need a person's yes (forced failover).

An approval request is journaled (``approval.requested``, with its ``request_id`` ``<step>.<n>``), then the first
acceptable answer wins, from any of three places:

- the terminal prompt (when stdin is a terminal), asked by the operator thread;
- an answer file ``<run dir>/approvals/<request_id>.json`` that ``drctl approve RUN STEP`` drops atomically from
  another terminal on this machine, polled every ``poll_seconds`` (kept afterwards as ``.taken``);
- ``--yes``: the operator running drctl approves, and is recorded as the approver.

``approvers`` is empty (anyone), a list of identities, or ``("others",)``: anyone but the operator (separation
of duties; the operator is whoever runs drctl now, and whoever started the run). ``--yes`` and the operator's own
terminal never answer an ``others`` gate: the refusal is journaled and the wait goes on for ``drctl approve``
from another account.

An answer from someone outside the step's ``approvers``, or without a reason where one is required, is refused
(``approval.refused``) and the wait goes on. No answer by the step's timeout: ``approval.timed_out`` and the step
fails. Who answered (OS user, host, Azure principal when known), how, when and why are journaled.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drctl.actions.runtime import Approval, TimedOut
from drctl.core.clock import Clock
from drctl.engine import codec
from drctl.engine import events as ev
from drctl.engine.identity import current as current_identity
from drctl.engine.identity import describe, matches, same_person
from drctl.engine.journal import FILE_MODE, Recorder, fsync_dir
from drctl.engine.operator import ApprovalAnswer, ApprovalPrompt, SerialAsker

if TYPE_CHECKING:
    from drctl.engine.context import EngineStepContext

ANSWER_SUFFIX = ".json"
#: approval topics: "gate" (gate.approval and most action questions), which ``--yes`` answers; "data-loss"
#: (accepting a forced failover's data loss, safety rule 2), which only a person or ``--accept-data-loss`` answers
GATE = "gate"
DATA_LOSS = "data-loss"
#: ``approvers`` of a gate that anyone but the operator may answer (``approvers: others`` in the playbook)
OTHERS = "others"


def answer_path(directory: Path, request_id: str) -> Path:
    return directory / f"{request_id}{ANSWER_SUFFIX}"


def write_answer(
    directory: Path, request_id: str, *, approved: bool, reason: str | None, approver: ev.Identity, now: datetime
) -> Path:
    """Drop an answer atomically (write a temporary file, fsync, rename): the engine never reads half of one."""
    target = answer_path(directory, request_id)
    temporary = directory / f".{request_id}.{os.getpid()}.tmp"
    body = {
        "request_id": request_id,
        "decision": "approve" if approved else "reject",
        "reason": reason,
        "approver": codec.to_data(approver),
        "at": now.isoformat(),
        "pid": os.getpid(),
    }
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.write(fd, json.dumps(body).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, target)
    fsync_dir(directory)
    return target


def _parse_answer(data: Mapping[str, Any]) -> ApprovalAnswer:
    who = data["approver"]
    approver = ev.Identity(os_user=str(who["os_user"]), host=str(who["host"]), principal=who.get("principal"))
    reason = data.get("reason")
    return ApprovalAnswer(
        approved=data["decision"] == "approve", approver=approver, reason=str(reason) if reason else None, via="file"
    )


def needs_another(approvers: Sequence[str]) -> bool:
    return tuple(approvers) == (OTHERS,)


def refusal(
    answer: ApprovalAnswer,
    *,
    approvers: Sequence[str],
    require_reason: bool,
    operators: Sequence[ev.Identity] = (),
) -> str | None:
    """Why an answer cannot count, or None when it can; ``drctl approve`` asks the same before dropping a file."""
    who = describe(answer.approver)
    if needs_another(approvers):
        if answer.via in ("yes", "prompt"):  # the run's own terminal is the operator's, whoever types
            how = "--yes" if answer.via == "yes" else "the run's own terminal"
            return f"{how} answers for the operator, and this gate needs an approver other than the operator"
        if any(same_person(answer.approver, operator) for operator in operators):
            return f"{who} is the operator of this run, and this gate needs an approver other than the operator"
    elif approvers and not any(matches(answer.approver, name) for name in approvers):
        return f"{who} is not among the approvers ({', '.join(approvers)})"
    if require_reason and answer.approved and not (answer.reason or "").strip():
        return "this approval requires a reason"
    return None


class ApprovalDesk:
    def __init__(
        self,
        *,
        run_id: str,
        directory: Path,
        recorder: Recorder,
        clock: Clock,
        asker: SerialAsker,
        auto_yes: ev.Identity | None = None,
        poll_seconds: float = 0.5,
        granted: Mapping[str, Approval] | None = None,
        requested: Mapping[str, int] | None = None,
        standing: Mapping[str, ApprovalAnswer] | None = None,
        operators: Sequence[ev.Identity] | None = None,
    ) -> None:
        self._run_id = run_id
        self.directory = directory
        self._recorder = recorder
        self._clock = clock
        self._asker = asker
        self._auto_yes = auto_yes
        self._poll = poll_seconds
        self._granted = dict(granted or {})
        self._count = dict(requested or {})
        #: answers given on the command line for a topic (``--accept-data-loss`` answers "data-loss")
        self._standing = dict(standing or {})
        #: who runs this run (now, and who started it): never their own approver at an ``others`` gate
        self.operators = tuple(operators) if operators else (current_identity(),)
        self._lock = threading.Lock()

    def prior(self, step_id: str) -> Approval | None:
        with self._lock:
            return self._granted.get(step_id)

    def request(
        self,
        ctx: EngineStepContext,
        *,
        prompt: str,
        require_reason: bool,
        approvers: Sequence[str],
        topic: str = GATE,
    ) -> Approval:
        step = ctx.step_id
        with self._lock:
            self._count[step] = self._count.get(step, 0) + 1
            request_id = f"{step}.{self._count[step]}"
        deadline = ctx.now() + timedelta(seconds=max(0.0, ctx.remaining()))
        self._recorder.emit(
            ev.ApprovalRequested(
                at=ctx.now(),
                step=step,
                request_id=request_id,
                prompt=prompt,
                require_reason=require_reason,
                approvers=tuple(approvers),
                deadline=deadline,
            )
        )
        question = ApprovalPrompt(self._run_id, step, request_id, prompt, require_reason, tuple(approvers), deadline)
        settled = threading.Event()
        asking: Future[ApprovalAnswer | None] | None = None
        candidates: list[ApprovalAnswer] = []
        if self._auto_yes is not None and topic == GATE:
            candidates.append(ApprovalAnswer(True, self._auto_yes, "approved with --yes", via="yes"))
        if topic in self._standing:
            candidates.append(self._standing[topic])
        # the terminal is the operator's own: at an ``others`` gate it only shows how someone else answers
        if self._asker.operator.interactive:
            asking = self._asker.submit(lambda: self._asker.operator.approve(question, settled))
        try:
            while True:
                if asking is not None and asking.done():
                    answer = asking.result()
                    asking = None
                    if answer is not None:
                        candidates.append(answer)
                candidates.extend(self._take_file(request_id))
                for answer in candidates:
                    why = refusal(answer, approvers=approvers, require_reason=require_reason, operators=self.operators)
                    if why is None:
                        return self._settle(ctx, request_id, answer)
                    self._recorder.emit(
                        ev.ApprovalRefused(
                            at=ctx.now(), step=step, request_id=request_id, approver=answer.approver, why=why
                        )
                    )
                    retry = answer.via == "prompt" and not needs_another(approvers)
                    if retry and not settled.is_set():  # let the person at the terminal retry
                        asking = self._asker.submit(lambda: self._asker.operator.approve(question, settled))
                candidates = []
                try:
                    ctx.sleep(self._poll, interruptible=True)
                except TimedOut:
                    self._recorder.emit(ev.ApprovalTimedOut(at=ctx.now(), step=step, request_id=request_id))
                    raise
        finally:
            settled.set()

    def _take_file(self, request_id: str) -> list[ApprovalAnswer]:
        path = answer_path(self.directory, request_id)
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            os.replace(path, path.with_suffix(".bad"))
            return []
        os.replace(path, path.with_suffix(".taken"))
        try:
            return [_parse_answer(data)]
        except (KeyError, TypeError):
            return []

    def _settle(self, ctx: EngineStepContext, request_id: str, answer: ApprovalAnswer) -> Approval:
        now = ctx.now()
        kind = ev.ApprovalGranted if answer.approved else ev.ApprovalRejected
        self._recorder.emit(
            kind(
                at=now,
                step=ctx.step_id,
                request_id=request_id,
                approver=answer.approver,
                via=answer.via,
                reason=answer.reason,
            )
        )
        approval = Approval(
            approved=answer.approved,
            approver=answer.approver,
            at=now,
            via=answer.via,
            reason=answer.reason,
        )
        if answer.approved:
            with self._lock:
                self._granted[ctx.step_id] = approval
        return approval
