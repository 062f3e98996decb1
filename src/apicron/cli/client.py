"""The CLI's client of the management REST API (``APICRON_URL`` + the admin token)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from apicron.cli.output import fail
from apicron.crypto import TOKEN_FILE

DEFAULT_URL = "http://127.0.0.1:8080"


def _token() -> str:
    token = os.environ.get("APICRON_ADMIN_TOKEN")
    if token:
        return token
    data_dir = Path(
        os.environ.get("APICRON_DATA_DIR") or Path.home() / ".local" / "share" / "apicron"
    ).expanduser()
    try:
        return (data_dir / TOKEN_FILE).read_text().strip()
    except OSError:
        fail(
            "no admin token: set APICRON_ADMIN_TOKEN, or APICRON_DATA_DIR to the server's "
            "data directory"
        )


class Client:
    def __init__(self, url: str | None = None, token: str | None = None):
        self.url = (url or os.environ.get("APICRON_URL") or DEFAULT_URL).rstrip("/")
        self._http = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token or _token()}"},
            timeout=30,
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(method, path, json=json, params=clean)
        except httpx.HTTPError as exc:
            fail(f"cannot reach apicron at {self.url} ({exc}); is `apicron serve` running?")
        if response.status_code == 204:
            return None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400:
            message = body.get("error_msg") if isinstance(body, dict) else None
            fail(f"{message or response.text} (HTTP {response.status_code})")
        return body
