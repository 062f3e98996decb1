"""The management API application: the contract's routers behind the bearer token."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, Response

from apicron import __version__
from apicron.api.auth import TokenGate, require_token
from apicron.api.errors import install_error_handlers
from apicron.api.limits import BodyLimit
from apicron.api.openapi_docs import API_DESCRIPTION, describe_document
from apicron.api.openapi_links import add_links
from apicron.api.params import storable_parameters
from apicron.api.routes import (
    alerts,
    apis,
    apps,
    calendars,
    channels,
    cron,
    executions,
    grants,
    groups,
    health,
    instance,
    metrics,
    nodes,
    task_actions,
    tasks,
    users,
)
from apicron.console import mount_console
from apicron.console.web import harden
from apicron.domain.access import ANONYMOUS
from apicron.services.context import Context

PROTECTED = (
    instance.router, apps.router, groups.router, apis.router, grants.router,
    task_actions.router, tasks.router,
    executions.router, cron.router, metrics.router, nodes.router, users.router,
    users.tokens_router, users.me_router, users.audit_router,
    channels.router, alerts.router, calendars.router,
)


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description,
            routes=app.routes,
        )
        # Validation failures answer 400 with the error body, never FastAPI's 422.
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        describe_document(schema)
        add_links(schema)
        app.openapi_schema = schema
    return app.openapi_schema


# Swagger UI would load its script and styles from a CDN, outside the console's
# Content-Security-Policy: not served. /docs says where the document is instead.
_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>apicron API documentation</title></head>
<body><h1>apicron management API</h1>
<p>The OpenAPI document of this API is at <a href="/openapi.json">/openapi.json</a>: open it
in any OpenAPI viewer or client generator. Every call but the probes needs
<code>Authorization: Bearer &lt;token&gt;</code>: a user's API token, or the admin token.
Each operation names the least role it needs in <code>x-apicron-role</code>.</p>
</body></html>
"""


def _docs() -> Response:
    return harden(HTMLResponse(_DOCS_PAGE))


def create_api_app(ctx: Context, admin_token: str) -> FastAPI:
    app = FastAPI(
        title="apicron",
        version=__version__,
        description=API_DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.add_api_route("/docs", _docs, methods=["GET"], include_in_schema=False)
    # The edges start from nobody: a route that did not say who acts can do nothing.
    app.state.ctx = replace(ctx, actor=ANONYMOUS)
    app.state.admin_token = admin_token
    install_error_handlers(app)
    app.add_middleware(BodyLimit)
    # outermost: before any body
    app.add_middleware(TokenGate, ctx=app.state.ctx, admin_token=admin_token)
    app.include_router(health.router)
    for router in PROTECTED:
        app.include_router(
            router, dependencies=[Depends(require_token), Depends(storable_parameters)]
        )
    mount_console(app)  # the web console's pages, outside the OpenAPI document
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
