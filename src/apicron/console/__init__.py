"""The web console: server-rendered pages over the same services as the REST API.

Mounted on the management port by :func:`mount_console`; its routes stay out of the
OpenAPI document, which describes only the ``/v1`` contract. The page modules import
:mod:`apicron.console.web` for what they share; their routers are registered here, above
all of them, so that no module imports one that imports it back (issue 19).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from apicron.api.params import storable_parameters
from apicron.console import (
    account_pages,
    alert_pages,
    api_edit_pages,
    app_group_edit_pages,
    calendar_pages,
    overview_pages,
    pages,
    replay_pages,
    task_detail_pages,
    task_organise_pages,
    task_pages,
)
from apicron.console.web import HERE, PREFIX, CsrfRejected, LoginRequired, router


def mount_console(app: FastAPI) -> None:
    """Add the console's pages, its static files and its login handling to ``app``."""
    async def _login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        if request.url.path.startswith(f"{PREFIX}/api/"):
            return JSONResponse({"error_msg": "log in again"}, status_code=401)
        return RedirectResponse(f"{PREFIX}/login?next={quote(exc.path)}", status_code=303)

    async def _csrf(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith(f"{PREFIX}/api/"):
            return JSONResponse({"error_msg": str(exc)}, status_code=403)
        return HTMLResponse(
            "<!doctype html><title>Refused</title><p>The form was refused: it did not come "
            f"from this console session. <a href='{PREFIX}/instances'>Back</a></p>",
            status_code=403,
        )

    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(CsrfRejected, _csrf)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="console-static")
    # Ids and filters from the address bar go to the database: no NUL in them (400).
    storable = [Depends(storable_parameters)]
    app.include_router(router, dependencies=storable)
    app.include_router(pages.router, dependencies=storable)
    app.include_router(task_organise_pages.router, dependencies=storable)
    app.include_router(task_pages.router, dependencies=storable)
    app.include_router(replay_pages.router, dependencies=storable)
    app.include_router(account_pages.router, dependencies=storable)
    app.include_router(alert_pages.router, dependencies=storable)
    app.include_router(calendar_pages.router, dependencies=storable)
    app.include_router(overview_pages.router, dependencies=storable)
    app.include_router(api_edit_pages.router, dependencies=storable)
    app.include_router(app_group_edit_pages.router, dependencies=storable)
    # After task_pages: /console/tasks/new is a page of its own, not a task id.
    app.include_router(task_detail_pages.router, dependencies=storable)


__all__ = ["mount_console"]
