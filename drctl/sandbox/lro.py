"""Long-running operations: accepted at once, finished when their duration has elapsed.

No timer thread: ``Operations.advance(now)`` runs every operation that is due, in order, before any request
reads the state, so a GET right after the due time already sees the swapped roles. The world mutation runs
at completion (not at acceptance), and it may still fail then: a planned SQL failover whose primary region
went down while it was in progress ends ``Failed``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drctl.sandbox.ops import OperationStatus, OpKind

#: what a completion returns: None for success, else (code, message)
Outcome = tuple[str, str] | None


@dataclass
class Operation:
    id: str
    op: OpKind
    namespace: str
    location: str
    started: float
    due: float
    #: the world mutation, run once at ``due``
    complete: Callable[[float], Outcome]
    #: ARM path of the resource the final GET (Location) answers with; None: an empty 200
    result_path: str | None
    #: a fault decided at acceptance that the operation ends Failed with (code, message)
    forced_error: Outcome = None
    #: run instead of ``complete`` when a forced error ends the operation (undo what acceptance showed)
    abort: Callable[[float], None] | None = None
    status: OperationStatus = OperationStatus.IN_PROGRESS
    error: dict[str, str] | None = None
    ended: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "op": self.op.value,
            "status": self.status.value,
            "started": self.started,
            "due": self.due,
            "ended": self.ended,
            "error": self.error,
            "resource": self.result_path,
            **self.detail,
        }


class Operations:
    """Registry of every LRO of this run (they are few: a failover, a few scale-outs)."""

    def __init__(self) -> None:
        self._ops: dict[str, Operation] = {}

    def create(
        self,
        *,
        op: OpKind,
        namespace: str,
        location: str,
        now: float,
        duration: float,
        complete: Callable[[float], Outcome],
        result_path: str | None,
        forced_error: Outcome = None,
        abort: Callable[[float], None] | None = None,
        detail: dict[str, Any] | None = None,
    ) -> Operation:
        busy = self.running_on(result_path)
        if busy is not None:
            from drctl.sandbox.arm.core import ArmError

            # as ARM does: one operation at a time on a resource; a second is refused, never run alongside
            raise ArmError(
                409,
                "AnotherOperationInProgress",
                f"Another operation ({busy.op.value}, {busy.id}) is in progress on this resource; retry once it ends.",
            )
        operation = Operation(
            id=str(uuid.uuid4()),
            op=op,
            namespace=namespace,
            location=location,
            started=now,
            due=now + duration,
            complete=complete,
            result_path=result_path,
            forced_error=forced_error,
            abort=abort,
            detail=dict(detail or {}),
        )
        self._ops[operation.id] = operation
        return operation

    def running_on(self, result_path: str | None) -> Operation | None:
        """The operation still running on the resource at ``result_path``, if any."""
        if result_path is None:
            return None
        wanted = result_path.lower()
        for operation in self._ops.values():
            if operation.status is OperationStatus.IN_PROGRESS and (operation.result_path or "").lower() == wanted:
                return operation
        return None

    def get(self, op_id: str) -> Operation | None:
        return self._ops.get(op_id.lower())

    def advance(self, now: float) -> None:
        due = sorted(
            (o for o in self._ops.values() if o.status is OperationStatus.IN_PROGRESS and o.due <= now),
            key=lambda o: o.due,
        )
        for operation in due:
            if operation.forced_error is not None:
                outcome: Outcome = operation.forced_error
                if operation.abort is not None:
                    operation.abort(operation.due)
            else:
                outcome = operation.complete(operation.due)
            operation.ended = operation.due
            if outcome is None:
                operation.status = OperationStatus.SUCCEEDED
            else:
                operation.status = OperationStatus.FAILED
                operation.error = {"code": outcome[0], "message": outcome[1]}

    def pending(self) -> list[Operation]:
        return [o for o in self._ops.values() if o.status is OperationStatus.IN_PROGRESS]

    def snapshot(self) -> list[dict[str, Any]]:
        return [o.as_json() for o in self._ops.values()]
