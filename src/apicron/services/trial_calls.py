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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import httpx

from apicron.domain import rules
from apicron.domain.access import Permission
from apicron.domain.errors import InvalidInput, NotFound, Problem
from apicron.domain.validation import check_all
from apicron.domain.vocabulary import ContentType, choices
from apicron.gateway.snapshot import AppCredential, GatewaySnapshot, build_snapshot
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
class Pair:
    """A query parameter or header as typed: ``name``, ``value``."""

    name: str
    value: str


@dataclass(frozen=True)
class TrialRequest:
    """What the caller fills in for a test call: a value for each ``{name}`` of the API's
    path (``path_params``), query parameters (a name may repeat), headers, and a body
    (``body`` None: none) of ``content_type``. Checked by the task request's rules
    (:mod:`apicron.domain.rules`), fields named ``path.<name>``, ``query``, ``headers``,
    ``body``."""

    path_params: Mapping[str, str] = field(default_factory=dict)
    query: Sequence[Pair] = ()
    headers: Sequence[Pair] = ()
    body: str | None = None
    content_type: str = "application/json"
    unreadable: Sequence[Problem] = ()
    """What the form that made this request could not read (a line that is no
    ``name=value``): reported with the other problems, and nothing is sent."""


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


def path_params(api_path: str) -> list[str]:
    """The ``{name}`` parameters of an API path, in order."""
    return rules.PATH_PARAM.findall(api_path)


def _check(api_path: str, method: str, request: TrialRequest) -> None:
    """Every problem of ``request`` at once (InvalidInput with ``more``)."""
    def path_value(name: str) -> None:
        if not request.path_params.get(name):
            raise InvalidInput(f"give a value for {{{name}}}: the API's path {api_path} has it",
                               field=f"path.{name}")

    def body() -> None:
        if request.body is None:
            return
        rules.check_body_allowed("body", method)
        if request.content_type not in choices(ContentType):
            raise InvalidInput(f"content type must be one of {', '.join(choices(ContentType))}",
                               field="body")
        if any(h.name.lower() == "content-type" for h in request.headers):
            raise InvalidInput("Content-Type is set by the body's content type when a body is "
                               "given", field="headers")
        rules.check_body_content("body", request.content_type, request.body)

    def unreadable() -> None:
        if request.unreadable:
            first, *more = request.unreadable
            raise InvalidInput(first.rule, field=first.field, more=more)

    check_all(unreadable, *(lambda n=name: path_value(n) for name in path_params(api_path)),
              lambda: rules.check_query("query", request.query),
              lambda: rules.check_headers("headers", request.headers), body)


def trial_call(ctx: Context, api_id: str, app_id: str,
               request: TrialRequest | None = None) -> TrialCallResult:
    """Call the published API ``api_id`` through the gateway as app ``app_id``, its path
    parameters filled as the engine fills a task's (:func:`apicron.domain.rules.fill_path`).

    Raises :class:`NotFound` when the API is not published, :class:`InvalidInput`
    (field ``app_id``) when the app may not call it, or naming each field of ``request``
    that breaks a rule (a missing path parameter, a reserved header, a body the method
    does not take or its content type does not parse). A refusal by the gateway or a
    failing backend is an answer, not an error.
    """
    ctx.require(Permission.APIS)
    request = request or TrialRequest()
    snapshot = build_snapshot(ctx, 0)
    api = snapshot.apis_by_id.get(api_id)
    if api is None:
        raise NotFound(f"no published API with id {api_id!r}: publish it to test it")
    app = snapshot.apps_by_id.get(app_id)
    if app is None or not snapshot.may_call(app.app_id, api):
        raise InvalidInput("choose an app that owns this API or is granted it", field="app_id")
    _check(api.path, api.method, request)
    return _send(snapshot, ctx.gateway_url, api.method, api.path, app, request)


def _send(snapshot: GatewaySnapshot, gateway_url: str, method: str, api_path: str,
          app: AppCredential, request: TrialRequest) -> TrialCallResult:
    key, name = app.key, app.name
    secret = snapshot.secret_of(app)
    # Encoded as the engine encodes a task's call (apicron.engine.gateway_call).
    query = urlencode([(p.name, p.value) for p in request.query], quote_via=quote)
    url = gateway_url.rstrip("/") + rules.fill_path(api_path, request.path_params) + (
        f"?{query}" if query else "")
    own = [(h.name, h.value) for h in request.headers]
    if request.body is not None:
        own.append(("Content-Type", request.content_type))
    sent = [*own, ("X-HW-ID", key), ("X-HW-AppKey", secret)]
    shown = [*own, ("X-HW-ID", key), ("X-HW-AppKey", SECRET_SHOWN)]
    content = None if request.body is None else request.body.encode()
    started = time.perf_counter()
    try:
        with httpx.Client(timeout=TIMEOUT_S, follow_redirects=False, trust_env=False) as client, \
                client.stream(method, url, headers=sent, content=content) as answer:
            data = b""
            for chunk in answer.iter_bytes():
                data += chunk
                if len(data) > BODY_SHOWN_BYTES + len(secret):
                    break
            elapsed = (time.perf_counter() - started) * 1000
    except httpx.HTTPError as error:
        return TrialCallResult(
            method, url, name, shown, None, "", [], "", False,
            (time.perf_counter() - started) * 1000,
            _redacted(f"no answer from the gateway: {type(error).__name__}: {error}", secret),
        )
    text = _redacted(data.decode("utf-8", "replace"), secret)
    cut = text.encode()[:BODY_SHOWN_BYTES].decode("utf-8", "ignore")
    return TrialCallResult(
        method, url, name, shown, answer.status_code, answer.reason_phrase,
        # Raw: the names as the gateway spelled them (httpx's view lower-cases them).
        [(n.decode("latin-1"), _redacted(v.decode("latin-1"), secret))
         for n, v in answer.headers.raw],
        cut, len(cut) < len(text), elapsed, None,
    )
