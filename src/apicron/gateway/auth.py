"""Step one of a gateway call: which published API, and may this caller call it.

Contract
--------
:func:`authorize` is pure: it reads only the :class:`~apicron.gateway.snapshot.GatewaySnapshot`
and the request it is given, does no I/O, and either returns :class:`Authorized` or raises
:class:`~apicron.gateway.errors.GatewayError` (status, ``error_code``, message). The gateway's
HTTP edge and the scheduler's dispatcher run the very same function, in this order:

1. ``body`` over 12 MiB: 413.
2. Routing by ``host``, ``method`` and ``raw_path`` (percent-encoded, query excluded):
   a ``host`` equal to a group's ``domain`` routes within that group only; any other host
   routes over every published API while the instance parameter ``app_route`` is on, and
   is refused (404 saying so) while it is off. No published API for the method and path:
   404.
3. NONE-auth APIs pass: ``Authorized.app_id`` is ``None``.
4. APP-auth APIs need either an SDK-HMAC-SHA256 signature (``Authorization`` +
   ``X-Sdk-Date``, checked by :func:`apicron.signing.verify_request` against ``now``, dated
   at most 15 minutes behind it and 5 minutes ahead, ``UNSIGNED-PAYLOAD`` only while the
   instance parameter ``unsigned_payload`` is on, over ``raw_path``, ``query_string``
   exactly as received, the signed headers and ``body``; a query part with an empty name,
   which no signature can cover, is 400 ``BAD_REQUEST``), or, only while ``app_secret`` is
   on, ``X-HW-ID: <key>`` and ``X-HW-AppKey: <secret>`` (compared in constant time).
   Missing or wrong: 401, raised as :class:`~apicron.gateway.errors.UnknownAppKey` when the
   key is not in the snapshot, so the caller may retry with a fresher one
   (:func:`authorize_latest` does).
5. The app must own the API (its group's app) or hold a grant for it: 403 otherwise.
6. While the instance parameter ``replay_guard`` is on, a signed call's
   ``Authorized.replay`` names its signature and how long it must be remembered; the edge
   refuses it if it was seen before (:class:`~apicron.gateway.replay.ReplayGuard`). Not
   pure, so not done here.

``headers`` is any mapping (a multi-dict such as aiohttp's keeps repeated headers, which
matters: a signed header sent twice is refused); names are matched case-insensitively.
No message carries a secret or a signature.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

from apicron.domain.errors import InvalidInput, Unauthorized
from apicron.domain.models import PublishedApi
from apicron.gateway.errors import (
    MAX_BODY_BYTES,
    GatewayError,
    UnknownAppKey,
    bad_request,
    forbidden,
    not_found,
    too_large,
    unauthorized,
)
from apicron.gateway.routing import Match, decode_request_path
from apicron.gateway.snapshot import AppCredential, GatewaySnapshot, SnapshotCache
from apicron.signing import (
    ALGORITHM,
    DATE_FORMAT,
    DEFAULT_MAX_SKEW,
    UNSIGNED_PAYLOAD,
    canonical_query,
    parse_authorization,
    verify_request,
)

AuthMethod = Literal["NONE", "SIGNATURE", "APP_SECRET"]

# How far X-Sdk-Date may be from the gateway clock. Less ahead than behind: a request
# dated ahead stays usable (capturable) for both spans added up.
MAX_PAST_SKEW = DEFAULT_MAX_SKEW
MAX_FUTURE_SKEW = timedelta(minutes=5)

HW_ID = "x-hw-id"
HW_APP_KEY = "x-hw-appkey"
_MISMATCH = "X-HW-ID and X-HW-AppKey do not match an integration app's key and secret"


@dataclass(frozen=True)
class SignatureUse:
    """A signature accepted while ``replay_guard`` is on: to remember until ``expires_at``,
    when its X-Sdk-Date leaves the accepted window and the date alone refuses it."""

    signature: str
    expires_at: datetime


@dataclass(frozen=True)
class Authorized:
    """A call the gateway will forward."""

    api: PublishedApi
    path_params: dict[str, str]
    """Percent-decoded values of the API path's ``{name}`` segments."""
    app_id: str | None
    """The calling app; ``None`` for a NONE-auth API (callers are not identified)."""
    auth_method: AuthMethod
    """How the caller proved itself; tells the proxy which headers were credentials."""
    forwarded_query: str | None = None
    """The query the backend receives instead of the request's: for a signed request its
    canonical form (:func:`apicron.signing.canonical_query`), which is what the signature
    covers; ``None`` forwards the request's query as it came."""
    replay: SignatureUse | None = None
    """Set for a signed call while the instance parameter ``replay_guard`` is on."""


def _shown_path(path: str) -> str:
    return path if len(path) <= 200 else path[:200] + "…"


def request_path(raw_path: str) -> str:
    """The path of a request target, without the query (absolute-form targets included)."""
    if not raw_path.startswith("/") and "://" in raw_path:
        return urlsplit(raw_path).path or "/"
    return raw_path.partition("?")[0]


def host_name(host: str) -> str:
    """The Host header without port or trailing dot, lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        host = host[: host.find("]") + 1] if "]" in host else host
    else:
        name, colon, port = host.rpartition(":")
        if colon and port.isdigit():
            host = name
    return host.rstrip(".")


def route(snapshot: GatewaySnapshot, *, method: str, host: str, raw_path: str) -> Match:
    """The published API serving this request (step 2 of :func:`authorize`)."""
    path = request_path(raw_path)
    domain = host_name(host)
    table = snapshot.routes_by_domain.get(domain)
    if table is None:
        if not snapshot.params.app_route:
            raise not_found(
                "instance parameter app_route is off, so APIs are not served at the gateway's "
                "address; send the API group's domain as the Host header (see "
                "GET /v1/api-groups), or turn app_route on with PUT /v1/instance"
            )
        table = snapshot.routes
    match = table.match(method, decode_request_path(path))
    if match is None:
        where = f" in the API group of domain {domain}" if table is not snapshot.routes else ""
        raise not_found(f"no published API serves {method} {_shown_path(path)}{where}")
    return match


def _credential_headers(headers: Mapping[str, str]) -> tuple[str | None, list[str], list[str]]:
    """The Authorization value and every X-HW-ID / X-HW-AppKey value, in one pass."""
    authorization: str | None = None
    ids: list[str] = []
    keys: list[str] = []
    for name, value in headers.items():
        lower = name.lower()
        if lower == "authorization" and authorization is None:
            authorization = value
        elif lower == HW_ID:
            ids.append(value)
        elif lower == HW_APP_KEY:
            keys.append(value)
    return authorization, ids, keys


def _by_app_secret(snapshot: GatewaySnapshot, ids: list[str], keys: list[str]) -> AppCredential:
    if not snapshot.params.app_secret:
        raise unauthorized(
            "instance parameter app_secret is off, so X-HW-ID / X-HW-AppKey are not accepted; "
            f"sign the request with {ALGORITHM} (apicron.signing.sign_request), or turn "
            "app_secret on with PUT /v1/instance"
        )
    if len(ids) != 1 or len(keys) != 1:
        raise unauthorized("send X-HW-ID (the app key) and X-HW-AppKey (the app secret), once each")
    key = ids[0].strip()
    app = snapshot.apps_by_key.get(key)
    if app is None:
        raise UnknownAppKey(key, _MISMATCH)
    given = keys[0].strip().encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(snapshot.secret_of(app).encode("utf-8"), given):
        raise unauthorized(_MISMATCH)
    return app


def _by_signature(
    snapshot: GatewaySnapshot,
    *,
    method: str,
    path: str,
    query_string: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> AppCredential:
    unknown: list[str] = []

    def secret_for_key(key: str) -> str | None:
        app = snapshot.apps_by_key.get(key)
        if app is None:
            unknown.append(key)
            return None
        return snapshot.secret_of(app)

    allow_unsigned = snapshot.params.unsigned_payload
    if not allow_unsigned and _first(headers, "x-sdk-content-sha256") == UNSIGNED_PAYLOAD:
        raise unauthorized(
            f"X-Sdk-Content-Sha256: {UNSIGNED_PAYLOAD} is not accepted: the instance parameter "
            "unsigned_payload is off; sign the body (its SHA-256)"
        )
    try:
        key = verify_request(
            method, path, query_string, headers, body, secret_for_key=secret_for_key, now=now,
            max_skew=MAX_PAST_SKEW, max_future_skew=MAX_FUTURE_SKEW,
            allow_unsigned_payload=allow_unsigned,
        )
    except Unauthorized as error:
        if unknown:
            raise UnknownAppKey(unknown[0], error.message) from None
        raise unauthorized(error.message) from None
    return snapshot.apps_by_key[key]


def _first(headers: Mapping[str, str], lower_name: str) -> str | None:
    for name, value in headers.items():
        if name.lower() == lower_name:
            return value.strip()
    return None


def _signature_use(headers: Mapping[str, str]) -> SignatureUse:
    """The signature and expiry of a request :func:`verify_request` has accepted (so both
    headers are there, once, and well formed)."""
    authorization = parse_authorization(_first(headers, "authorization") or "")
    signed_at = datetime.strptime(_first(headers, "x-sdk-date") or "", DATE_FORMAT)
    return SignatureUse(authorization.signature, signed_at.replace(tzinfo=UTC) + MAX_PAST_SKEW)


def authenticate(
    snapshot: GatewaySnapshot,
    *,
    method: str,
    raw_path: str,
    query_string: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> tuple[AppCredential, AuthMethod]:
    """The app the request proves to be (step 4 of :func:`authorize`)."""
    authorization, ids, keys = _credential_headers(headers)
    is_signed = authorization is not None and authorization.strip().upper().startswith(ALGORITHM)
    if not is_signed and (ids or keys):
        return _by_app_secret(snapshot, ids, keys), "APP_SECRET"
    if authorization is None:
        alternative = (
            " or send X-HW-ID: <app key> and X-HW-AppKey: <app secret>"
            if snapshot.params.app_secret
            else ""
        )
        raise unauthorized(
            f"this API needs App authentication: sign the request with {ALGORITHM} "
            f"(X-Sdk-Date and Authorization; apicron.signing.sign_request){alternative}"
        )
    try:
        canonical_query(query_string)
    except InvalidInput as error:
        raise bad_request(str(error)) from None
    app = _by_signature(
        snapshot, method=method, path=request_path(raw_path), query_string=query_string,
        headers=headers, body=body, now=now,
    )
    return app, "SIGNATURE"


def authorize(
    snapshot: GatewaySnapshot,
    *,
    method: str,
    host: str,
    raw_path: str,
    query_string: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> Authorized:
    """Route and authenticate one call; see the module's contract."""
    if len(body) > MAX_BODY_BYTES:
        raise too_large(len(body))
    match = route(snapshot, method=method, host=host, raw_path=raw_path)
    api = match.api
    if api.auth_type == "NONE":
        return Authorized(api, match.path_params, None, "NONE")
    try:
        app, how = authenticate(
            snapshot, method=method, raw_path=raw_path, query_string=query_string,
            headers=headers, body=body, now=now,
        )
        if not snapshot.may_call(app.app_id, api):
            raise forbidden(
                f"app {app.name!r} may not call API {api.name!r}: the API belongs to another "
                "app and no grant lets this one call it (grant it with POST /v1/app-auths)"
            )
    except GatewayError as error:
        error.api = api
        raise
    # What the signature covers of the query is its canonical form: forward that, so the
    # backend sees what was signed (not, say, a=2&a=1 for a signed a=1&a=2).
    signed = how == "SIGNATURE"
    forwarded = canonical_query(query_string) if signed else None
    replay = _signature_use(headers) if signed and snapshot.params.replay_guard else None
    return Authorized(api, match.path_params, app.app_id, how, forwarded, replay)


async def authorize_latest(
    cache: SnapshotCache,
    *,
    method: str,
    host: str,
    raw_path: str,
    query_string: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> Authorized:
    """:func:`authorize` against the cache's current snapshot.

    A key the snapshot does not know is looked up once (an app created since the last
    change); if it exists the call is authorized again against the fresher snapshot.
    """

    def attempt(snapshot: GatewaySnapshot) -> Authorized:
        return authorize(
            snapshot, method=method, host=host, raw_path=raw_path, query_string=query_string,
            headers=headers, body=body, now=now,
        )

    try:
        return attempt(await cache.current())
    except UnknownAppKey as error:
        fresher = await cache.learn_key(error.key)
        if fresher is None:
            raise
    return attempt(fresher)
