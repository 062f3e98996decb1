from __future__ import annotations

from fastapi import APIRouter

from apicron.api.routes.common import ERRORS, Ctx, needs
from apicron.domain.access import Permission
from apicron.domain.models import Execution
from apicron.services import executions

router = APIRouter(prefix="/v1/executions", tags=["executions"], responses=ERRORS)


@router.get(
    "/{execution_id}", operation_id="getExecution", summary="Read an execution",
    **needs(Permission.READ),
)
def get_execution(ctx: Ctx, execution_id: str) -> Execution:
    """The execution with every attempt: times, HTTP status, error kind and a redacted
    excerpt of the answer."""
    return executions.get_execution(ctx, execution_id)
