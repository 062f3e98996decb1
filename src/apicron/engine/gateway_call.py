"""A task's call, made through the gateway's own pipeline in-process (no extra HTTP hop).

The request is what a client of the gateway would send: the published API's method and
path (path parameters filled from the task's Parameters), the task's query, headers and
body, the task app's credentials as ``X-HW-ID`` / ``X-HW-AppKey`` (DESIGN: why
``app_secret`` must be on), and the occurrence headers with their signature
(:func:`apicron.signing.sign_occurrence`, keyed with the API's
:func:`~apicron.signing.occurrence_key`), added after the gateway's filtering, which drops
any ``X-Apicron-*`` a caller sends. It then goes through
:func:`apicron.gateway.auth.authorize` and :func:`apicron.gateway.proxy.call_backend`, the
very code the gateway runs for every request, so publish state, grants and instance
parameters are checked at every fire. Nothing here raises: every failure is an outcome
with an error kind.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

import aiohttp
from multidict import CIMultiDict

from apicron.alerts.success import assertion_failure
from apicron.domain.alert_rules import ASSERTION_BODY_MAX, SuccessConditions
from apicron.domain.errors import ApicronError
from apicron.domain.models import PublishedApi, StoredNameValue, StoredRequest, StoredTask
from apicron.domain.rules import fill_path, split_path_params
from apicron.engine.call_policy import with_task_timeout
from apicron.engine.clock import EngineClock
from apicron.engine.dispatch import EXCERPT_BYTES, CallOutcome
from apicron.engine.request_filling import FilledRequest, filled_request, has_placeholders
from apicron.gateway.auth import Authorized, authorize
from apicron.gateway.errors import GatewayError
from apicron.gateway.proxy import call_backend
from apicron.gateway.snapshot import GatewaySnapshot, SnapshotCache
from apicron.signing import (
    OCCURRENCE_SIGNATURE_HEADER,
    Occurrence,
    occurrence_key,
    sign_occurrence,
)
from apicron.store.database import is_unavailable

log = logging.getLogger("apicron.engine")

REDACTED = "[REDACTED]"
# Bodies up to this size are checked against a task's assertions on the event loop; larger
# ones (up to the 1 MiB cap) in a worker thread, so that parsing them never holds up the
# calls of other tasks.
INLINE_ASSERTION_BYTES = 64 * 1024
# The gateway's answer when the pipeline refuses a call, as the execution's error kind.
_PIPELINE_KINDS = {401: "AUTH", 403: "AUTH", 404: "AUTH", 413: "CONFIG"}
# Requests kept ready (one per task version); past this the cache starts again.
MAX_PREPARED = 100_000


@functools.lru_cache(maxsize=256)
def _rfc3339(moment: datetime) -> str:
    # Cached: the calls of one second share their scheduled time.
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _kind(error: GatewayError) -> str:
    if error.kind is not None:  # a failed backend call says what failed
        return error.kind
    return _PIPELINE_KINDS.get(error.status, "AUTH")


def redacted_excerpt(body: bytes, credentials: Iterable[str], limit: int = EXCERPT_BYTES) -> str:
    """``body`` as text with every credential replaced by ``[REDACTED]``, then cut to at
    most ``limit`` bytes of UTF-8. Redacting first means a credential straddling the cut
    leaves nothing of itself; ``body`` must extend past ``limit`` by the longest one."""
    text = body.decode("utf-8", "replace")
    for value in sorted({c for c in credentials if c}, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    data = text.encode("utf-8")
    return data[:limit].decode("utf-8", "ignore") if len(data) > limit else text


def _refused(error: GatewayError) -> CallOutcome:
    kind = _kind(error)
    return CallOutcome(
        http_status=error.status if kind == "AUTH" else None, error_kind=kind,
        error_msg=error.rule,
    )


@dataclass(frozen=True, eq=False)
class Prepared:
    """What a task's calls share while neither the task nor the gateway snapshot changes:
    the request as a gateway client would send it (path with its parameters filled, query,
    headers with the app's credentials, body), the API's occurrence key, and the gateway's
    decision on it.

    ``authorize()`` is pure (:mod:`apicron.gateway.auth`): for the same snapshot and request
    it decides the same, so its decision is kept, except for a request carrying its own
    SDK-HMAC-SHA256 ``Authorization`` (its date is checked against the clock): then
    ``authorized`` is None and every call is authorized anew. ``headers`` is shared by the
    calls: read, never changed (the proxy copies what it forwards).
    """

    task_request: StoredRequest
    api: PublishedApi
    raw_path: str
    query_string: str
    headers: CIMultiDict[str]
    body: bytes
    key: str
    """The API's occurrence key (:func:`apicron.signing.occurrence_key`)."""
    credentials: tuple[str, ...]
    """The app's secret and key, the owner's secret, the occurrence key."""
    longest: int
    """The longest credential, in UTF-8 bytes."""
    authorized: Authorized | None


def _prepare(snapshot: GatewaySnapshot, task: StoredTask, now: datetime,
             filled: FilledRequest | None = None) -> Prepared | CallOutcome:
    """Build the task's request against ``snapshot`` and authorize it (raises
    :class:`GatewayError` when the pipeline refuses it or a secret is unreadable);
    ``filled``: the request with this attempt's variables (issue 18), else the task's own."""
    api = snapshot.apis_by_id.get(task.api_id)
    if api is None:
        return CallOutcome(
            error_kind="AUTH", error_msg="the task's API is not published (any more)"
        )
    app = snapshot.apps_by_id.get(task.app_id)
    owner = snapshot.apps_by_id.get(api.app_id)
    if app is None or owner is None:
        which = "task's app" if app is None else "API's app"
        return CallOutcome(error_kind="CONFIG", error_msg=f"the {which} no longer exists")
    try:
        given = task.request.query if filled is None else [
            StoredNameValue(name=n, value=v) for n, v in filled.query]
        path_values, query = split_path_params("request.query", api.path, given)
    except ApicronError as error:
        return CallOutcome(error_kind="CONFIG", error_msg=error.message)
    raw_path = fill_path(api.path, path_values)
    query_string = urlencode(query, quote_via=quote)
    secret = snapshot.secret_of(app)
    headers: CIMultiDict[str] = CIMultiDict(
        ((h.name, h.value) for h in task.request.headers) if filled is None else filled.headers)
    body = b""
    if task.request.body is not None:
        headers["Content-Type"] = task.request.body.content_type
        content = task.request.body.content if filled is None else filled.body
        body = (content or "").encode()
    headers["X-HW-ID"] = app.key
    headers["X-HW-AppKey"] = secret
    owner_secret = snapshot.secret_of(owner)
    key = occurrence_key(owner_secret, api.id)
    credentials = (secret, app.key, owner_secret, key)
    authorized: Authorized | None = authorize(
        snapshot, method=api.method, host="127.0.0.1", raw_path=raw_path,
        query_string=query_string, headers=headers, body=body, now=now,
    )
    if authorized is not None and authorized.auth_method == "SIGNATURE":
        authorized = None
    return Prepared(task.request, api, raw_path, query_string, headers, body, key, credentials,
                    max(len(c.encode()) for c in credentials), authorized)


class GatewayCaller:
    def __init__(self, cache: SnapshotCache, session: aiohttp.ClientSession, clock: EngineClock):
        self.cache = cache
        self.session = session
        self.clock = clock
        self._prepared: dict[tuple[str, datetime], Prepared] = {}
        self._prepared_for: GatewaySnapshot | None = None

    async def call(
        self, task: StoredTask, execution_id: str, scheduled_at: datetime, attempt: int
    ) -> CallOutcome:
        """The attempt's outcome; never raises, so an execution always ends with one.

        A stored secret no configured key decrypts is a ``CONFIG`` failure; anything
        unexpected is logged in one line and recorded as ``CONFIG`` too (``CONNECT``, and so
        retried, when the database is unreachable).
        """
        try:
            return await self._call(task, execution_id, scheduled_at, attempt)
        except GatewayError as error:
            return _refused(error)
        except Exception as exc:
            unavailable = is_unavailable(exc)
            log.error(
                "task %s execution %s attempt %d could not be made: %s: %s",
                task.name, execution_id, attempt, type(exc).__name__, exc,
            )
            return CallOutcome(
                error_kind="CONNECT" if unavailable else "CONFIG",
                error_msg=(
                    "the scheduler could not read the gateway configuration: the database is "
                    "unreachable" if unavailable
                    else f"internal error ({type(exc).__name__}); see the scheduler log"
                ),
            )

    def _ready(self, snapshot: GatewaySnapshot, task: StoredTask) -> Prepared | CallOutcome:
        """The task's request against this snapshot, built once per task version and
        snapshot (see :class:`Prepared`); a refusal that does not depend on the call is an
        outcome, not cached."""
        if snapshot is not self._prepared_for:
            # A new snapshot is the change feed at work (publish, grant, secret reset,
            # instance parameters): every decision made on the old one is dropped.
            self._prepared.clear()
            self._prepared_for = snapshot
        version = (task.id, task.updated_at)
        ready = self._prepared.get(version)
        if ready is not None and ready.task_request == task.request:
            return ready
        built = _prepare(snapshot, task, self.clock.now())
        if isinstance(built, Prepared):
            if len(self._prepared) >= MAX_PREPARED:
                self._prepared.clear()
            self._prepared[version] = built
        return built

    async def _call(
        self, task: StoredTask, execution_id: str, scheduled_at: datetime, attempt: int
    ) -> CallOutcome:
        snapshot = await self.cache.current()
        if has_placeholders(task):
            # Issue 18: the request variables of this attempt, filled in first; such a
            # request differs per attempt, so it is built and authorized for each one.
            try:
                filled = filled_request(task, execution_id, scheduled_at, attempt)
            except ApicronError as error:
                return CallOutcome(error_kind="CONFIG", error_msg=error.message)
            prepared = _prepare(snapshot, task, self.clock.now(), filled)
        else:
            prepared = self._ready(snapshot, task)
        if isinstance(prepared, CallOutcome):
            return prepared
        api, headers, body = prepared.api, prepared.headers, prepared.body
        query_string = prepared.query_string
        occurrence = Occurrence(task.id, execution_id, _rfc3339(scheduled_at), attempt)
        signed = sign_occurrence(prepared.key, occurrence, api.method, body)
        signature = signed[OCCURRENCE_SIGNATURE_HEADER].partition("=")[2]
        # Every credential form this call carries or derives from: a backend that echoes
        # its request must not put one into the history.
        credentials = (*prepared.credentials, signature)
        longest = max(prepared.longest, len(signature))
        conditions = task.success
        reads_body = conditions is not None and conditions.reads_body
        try:
            authorized = prepared.authorized or authorize(
                snapshot,
                method=api.method,
                host="127.0.0.1",
                raw_path=prepared.raw_path,
                query_string=query_string,
                headers=headers,
                body=body,
                now=self.clock.now(),
            )
            authorized = with_task_timeout(authorized, task.timeout_ms)
            response = await call_backend(
                self.session,
                authorized,
                query_string=query_string,
                headers=headers,
                body=body,
                client_ip="127.0.0.1",
                scheme="http",
                # Read past the cut by the longest credential, so that one straddling it
                # is redacted whole before the excerpt is cut (redacted_excerpt).
                # Assertions (issue 14) read up to 1 MiB; the excerpt reads as before.
                max_body_bytes=(ASSERTION_BODY_MAX if reads_body else EXCERPT_BYTES) + longest,
                added_headers=signed,
            )
        except GatewayError as error:
            if error.kind == "TIMEOUT" and task.timeout_ms is not None:
                return CallOutcome(error_kind="TIMEOUT", error_msg=(
                    f"the backend of API {api.name!r} did not answer within "
                    f"{task.timeout_ms} ms (the task's timeout_ms)"))
            return _refused(error)
        excerpt = redacted_excerpt(response.body[: EXCERPT_BYTES + longest], credentials)
        retry_after = response.headers.get("Retry-After")
        if conditions is None:
            ok = 200 <= response.status <= 299
        else:
            ok = conditions.accepts(response.status)
        if not ok:
            accepted = f", not one of {conditions.status_codes}" if conditions else ""
            return CallOutcome(
                http_status=response.status, error_kind="HTTP",
                error_msg=f"the backend answered HTTP {response.status}{accepted}",
                excerpt=excerpt or None, retry_after=retry_after,
            )
        if conditions is not None and reads_body:
            failure = await _assertion_failure(conditions, response.body, response.truncated,
                                               credentials)
            if failure is not None:
                return CallOutcome(
                    http_status=response.status, error_kind="ASSERTION", error_msg=failure,
                    excerpt=excerpt or None, retry_after=retry_after,
                )
        return CallOutcome(http_status=response.status, excerpt=excerpt or None,
                           retry_after=retry_after)


async def _assertion_failure(
    conditions: SuccessConditions, body: bytes, truncated: bool, credentials: tuple[str, ...]
) -> str | None:
    """Why the answer fails the task's body assertions, or None; a large body is checked
    in a worker thread (see :data:`INLINE_ASSERTION_BYTES`)."""
    cut = truncated or len(body) > ASSERTION_BODY_MAX
    body = body[:ASSERTION_BODY_MAX]
    if len(body) <= INLINE_ASSERTION_BYTES:
        return assertion_failure(conditions, body, cut, credentials)
    return await asyncio.to_thread(assertion_failure, conditions, body, cut, credentials)
