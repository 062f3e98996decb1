"""``/docs``: no third-party script, no page without the console's security headers. The
OpenAPI document stays at ``/openapi.json``; ``/docs`` only points at it."""

from __future__ import annotations

import httpx

from apicron.console.web import SECURITY_HEADERS
from tests.servers import ApicronProcess


def test_docs_points_at_the_openapi_document_with_the_consoles_headers(
    server: ApicronProcess,
) -> None:
    r = httpx.get(f"{server.url}/docs", timeout=30)
    assert r.status_code == 200
    for name, value in SECURITY_HEADERS.items():
        assert r.headers[name] == value
    assert 'href="/openapi.json"' in r.text
    assert "<script" not in r.text and "://" not in r.text  # nothing loaded from elsewhere
    assert httpx.get(f"{server.url}/openapi.json", timeout=30).status_code == 200


def test_no_swagger_or_redoc_page_is_served(server: ApicronProcess) -> None:
    for path in ("/redoc", "/docs/oauth2-redirect"):
        r = httpx.get(f"{server.url}{path}", timeout=30)
        assert r.status_code == 404, path
