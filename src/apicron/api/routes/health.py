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


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(ctx: Ctx) -> Health | JSONResponse:
    """Unauthenticated liveness and database reachability."""
    try:
        with ctx.store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        body = Health(status="unhealthy", database="unreachable", version=__version__)
        return JSONResponse(body.model_dump(), status_code=503)
    return Health(status="ok", database="ok", version=__version__)
