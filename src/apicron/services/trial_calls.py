"""The console's Test call of a published API (issue 15): one real request to the
gateway's own address with a chosen app's credentials, as a client of the gateway would
send it, and the gateway's answer (status, headers, timing, body) with every credential
redacted. ("Trial" in the names: pytest would collect a ``test_call`` or ``TestCall…``.)

It goes through the gateway listener over HTTP, not around it, so publish state, grants,
instance parameters and the backend's answer are exactly what a caller gets. The app's
secret is sent, never returned: it is masked in the request shown and replaced by
``[REDACTED]`` wherever the answer echoes it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from apicron.domain.access import Permission
from apicron.domain.errors import InvalidInput, NotFound
from apicron.domain.rules import PATH_PARAM
from apicron.gateway.snapshot import build_snapshot
from apicron.services.context import Context

REDACTED = "[REDACTED]"
SECRET_SHOWN = "<app secret>"  # noqa: S105 - the mask shown instead of the secret
# Enough of a body to see what a backend answered; the rest is cut (and said so).
BODY_SHOWN_BYTES = 64 * 1024
# The gateway waits for the backend at most the API's timeout (≤ 60 s), plus its own work.
TIMEOUT_S = 65.0


@dataclass(frozen=True)
class CallerApp:
    """An app that may call the API: it owns it (through its group) or holds a grant."""

    id: str
    name: str


@dataclass(frozen=True)
class TrialCallResult:
    """What was sent and what came back.

    ``request_headers`` masks the app secret; ``status`` is None when no answer came
    (``error`` says why); ``elapsed_ms`` is the wall time from sending to the whole body
    read; ``body`` is text (undecodable bytes replaced), at most ``BODY_SHOWN_BYTES``,
    ``truncated`` when more came.
    """

    method: str
    url: str
    app_name: str
    request_headers: list[tuple[str, str]]
    status: int | None
    reason: str
    headers: list[tuple[str, str]]
    body: str
    truncated: bool
    elapsed_ms: float
    error: str | None


def caller_apps(ctx: Context, api_id: str) -> list[CallerApp]:
    """The apps that may call the published API ``api_id``, by name; empty when it is
    not published."""
    ctx.require(Permission.READ)
    snapshot = build_snapshot(ctx, 0)
    api = snapshot.apis_by_id.get(api_id)
    if api is None:
        return []
    return sorted((CallerApp(a.app_id, a.name) for a in snapshot.apps_by_id.values()
                   if snapshot.may_call(a.app_id, api)), key=lambda a: a.name)


def _redacted(text: str, secret: str) -> str:
    return text.replace(secret, REDACTED) if secret else text


def trial_call(ctx: Context, api_id: str, app_id: str) -> TrialCallResult:
    """Call the published API ``api_id`` through the gateway as app ``app_id``.

    Raises :class:`NotFound` when the API is not published, :class:`InvalidInput`
    (field ``app_id``) when the app may not call it, or (field ``api_id``) when its path
    has parameters (a test call sends none). A refusal by the gateway or a failing
    backend is an answer, not an error.
    """
    ctx.require(Permission.APIS)
    snapshot = build_snapshot(ctx, 0)
    api = snapshot.apis_by_id.get(api_id)
    if api is None:
        raise NotFound(f"no published API with id {api_id!r}: publish it to test it")
    app = snapshot.apps_by_id.get(app_id)
    if app is None or not snapshot.may_call(app.app_id, api):
        raise InvalidInput("choose an app that owns this API or is granted it", field="app_id")
    if PATH_PARAM.search(api.path):
        raise InvalidInput("a test call sends no path parameters: this API's path has some",
                           field="api_id")
    secret = snapshot.secret_of(app)
    url = ctx.gateway_url.rstrip("/") + api.path
    sent = [("X-HW-ID", app.key), ("X-HW-AppKey", secret)]
    shown = [("X-HW-ID", app.key), ("X-HW-AppKey", SECRET_SHOWN)]
    started = time.perf_counter()
    try:
        with httpx.Client(timeout=TIMEOUT_S, follow_redirects=False, trust_env=False) as client, \
                client.stream(api.method, url, headers=sent) as answer:
            data = b""
            for chunk in answer.iter_bytes():
                data += chunk
                if len(data) > BODY_SHOWN_BYTES + len(secret):
                    break
            elapsed = (time.perf_counter() - started) * 1000
    except httpx.HTTPError as error:
        return TrialCallResult(
            api.method, url, app.name, shown, None, "", [], "", False,
            (time.perf_counter() - started) * 1000,
            _redacted(f"no answer from the gateway: {type(error).__name__}: {error}", secret),
        )
    text = _redacted(data.decode("utf-8", "replace"), secret)
    cut = text.encode()[:BODY_SHOWN_BYTES].decode("utf-8", "ignore")
    return TrialCallResult(
        api.method, url, app.name, shown, answer.status_code, answer.reason_phrase,
        # Raw: the names as the gateway spelled them (httpx's view lower-cases them).
        [(name.decode("latin-1"), _redacted(value.decode("latin-1"), secret))
         for name, value in answer.headers.raw],
        cut, len(cut) < len(text), elapsed, None,
    )
