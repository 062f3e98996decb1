from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from apicron import __version__
from apicron.api.routes.common import Ctx

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str
    version: str
    role: str
    node_id: str


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(ctx: Ctx) -> Health | JSONResponse:
    """Unauthenticated: this process's role and node id, and whether it reaches the
    database right now (503 while it does not)."""
    fields = {"version": __version__, "role": ctx.role, "node_id": ctx.node_id}
    try:
        with ctx.store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        ctx.health.failed(exc)
        body = Health(status="unhealthy", database="unreachable", **fields)
        return JSONResponse(body.model_dump(), status_code=503)
    ctx.health.succeeded()
    return Health(status="ok", database="ok", **fields)
