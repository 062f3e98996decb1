"""A task's request as the equivalent ``curl`` command, to replay it by hand (issue 15)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from urllib.parse import quote, urlencode

from apicron.domain.models import StoredRequest

MASK = "<app secret>"


def curl_command(
    *, method: str, url: str, query: Sequence[tuple[str, str]], request: StoredRequest,
    auth_type: str, app_key: str, host: str | None = None,
) -> str:
    """``curl`` calling ``url`` (the gateway's address of the API, its path parameters
    filled) with ``query`` (the task's query without the path parameters' entries), the
    task's headers and body; an APP-auth API gets ``X-HW-ID`` with the app key and
    ``X-HW-AppKey`` with a placeholder for the secret, which is never shown. ``host`` (a
    group's domain) is sent as the Host header. One argument per line, each shell-quoted."""
    # Encoded as the engine encodes it (apicron.engine.gateway_call).
    query_string = urlencode(list(query), quote_via=quote)
    target = f"{url}?{query_string}" if query_string else url
    parts = [f"curl -X {method} {shlex.quote(target)}"]
    if host:
        parts.append(f"-H {shlex.quote('Host: ' + host)}")
    if auth_type == "APP":
        parts.append(f"-H {shlex.quote('X-HW-ID: ' + app_key)}")
        parts.append(f"-H {shlex.quote('X-HW-AppKey: ' + MASK)}")
    parts.extend(f"-H {shlex.quote(f'{h.name}: {h.value}')}" for h in request.headers)
    if request.body is not None:
        parts.append(f"-H {shlex.quote('Content-Type: ' + request.body.content_type)}")
        parts.append(f"--data-raw {shlex.quote(request.body.content)}")
    return " \\\n  ".join(parts)
