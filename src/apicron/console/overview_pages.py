"""The overview (issue 15): the page after View Console, for operating rather than
configuring. Its figures come from :mod:`apicron.services.overview`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from apicron.console.web import PREFIX, Ctx, SessionDep, render
from apicron.services import overview as overview_service

router = APIRouter(prefix=PREFIX, include_in_schema=False)
REFRESH_MS = 5000


@router.get("/overview")
def overview_page(request: Request, session: SessionDep, ctx: Ctx) -> HTMLResponse:
    return render(request, session, "overview.html", nav="overview",
                  view=overview_service.overview(ctx), refresh_ms=REFRESH_MS)


@router.get("/overview/panel")
def overview_panel(request: Request, session: SessionDep, ctx: Ctx) -> HTMLResponse:
    """The figures alone, for the page's own refresh (no flashes: they belong to pages)."""
    return render(request, session, "overview_panel.html", flashes=[],
                  view=overview_service.overview(ctx))
