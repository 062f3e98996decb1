"""Unauthenticated probes: ``/livez``, ``/readyz`` and ``/healthz`` (see
:mod:`apicron.services.probes`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from apicron.api.routes.common import Ctx, public
from apicron.services import probes

router = APIRouter(tags=["health"])


class EngineState(BaseModel):
    state: str
    last_pass_at: str | None
    seconds_since_pass: float | None
    failing_for_s: float | None
    last_error: str | None
    live: bool


class Liveness(BaseModel):
    status: str
    engine: EngineState


class Readiness(BaseModel):
    status: str
    database: str
    schema_: str | None = Field(default=None, alias="schema")
    writes: str


class Health(BaseModel):
    status: str
    database: str
    version: str
    role: str
    node_id: str
    checks: dict[str, str]
    engine: EngineState


def _answer(probe: probes.Probe) -> JSONResponse:
    return JSONResponse(probe.body, status_code=probe.status)


_UNHEALTHY: dict[int | str, dict[str, Any]] = {503: {"description": "Unhealthy; the body says why"}}


@router.get("/livez", response_model=Liveness, responses=_UNHEALTHY,
            operation_id="getLiveness", summary="Liveness probe", **public())
def livez(ctx: Ctx) -> JSONResponse:
    """200 while this process and, where it runs one, its engine loop are alive (the
    loop completed a pass within 30 s and has not given up); 503 otherwise."""
    return _answer(probes.liveness(ctx))


@router.get("/readyz", response_model=Readiness, responses=_UNHEALTHY,
            operation_id="getReadiness", summary="Readiness probe", **public())
def readyz(ctx: Ctx) -> JSONResponse:
    """200 when the database answers, its schema is at this version's head and writes
    are not failing; 503 with the failing check otherwise."""
    return _answer(probes.readiness(ctx))


@router.get("/healthz", response_model=Health, responses=_UNHEALTHY,
            operation_id="getHealth", summary="Health: ready and live", **public())
def healthz(ctx: Ctx) -> JSONResponse:
    """Ready and live, with this process's role, node id and version (503 otherwise)."""
    return _answer(probes.health(ctx))
