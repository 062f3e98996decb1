from __future__ import annotations

from fastapi import APIRouter

from apicron.api.routes.common import ERRORS, Ctx, needs
from apicron.domain.access import Permission
from apicron.domain.models import Node
from apicron.services import nodes

router = APIRouter(prefix="/v1/nodes", tags=["nodes"], responses=ERRORS)


@router.get(
    "", operation_id="listNodes", summary="List apicron processes",
    **needs(Permission.READ),
)
def list_nodes(ctx: Ctx) -> list[Node]:
    """Every apicron process registered on this database: its role, host, pid, last
    heartbeat, and whether it is alive (heartbeat within the last 10 s)."""
    return nodes.list_nodes(ctx)
