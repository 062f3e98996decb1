from __future__ import annotations

from fastapi import APIRouter

from apicron.api.routes.common import ERRORS, Ctx, needs
from apicron.domain.access import Permission
from apicron.domain.models import Execution
from apicron.services import backfill, executions

router = APIRouter(prefix="/v1/executions", tags=["executions"], responses=ERRORS)


@router.get(
    "/{execution_id}", operation_id="getExecution", summary="Read an execution",
    **needs(Permission.READ),
)
def get_execution(ctx: Ctx, execution_id: str) -> Execution:
    """The execution with every attempt: times, HTTP status, error kind and a redacted
    excerpt of the answer."""
    return executions.get_execution(ctx, execution_id)


@router.post(
    "/{execution_id}/replay", status_code=202, operation_id="replayExecution",
    summary="Re-run one past execution's occurrence", **needs(Permission.TASKS),
)
def replay_execution(ctx: Ctx, execution_id: str) -> Execution:
    """Queues a **new** execution (trigger `REPLAY`) of the same occurrence: the same
    `scheduled_at` (so `{{scheduled_time}}`, `{{window_start}}`/`{{window_end}}` and
    `X-Apicron-Scheduled-Time` are the original's), a new id, and `replay_of` naming the
    original, whose own history is left as it happened. Refused (409) while the original
    is PENDING or RUNNING. Answers the queued execution."""
    return backfill.replay_execution(ctx, execution_id)
