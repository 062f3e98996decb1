"""The two clients of the management REST API: :class:`Client` (blocking) and
:class:`AsyncClient` (asyncio), the same methods over httpx's sync and async transports.

Each method is an operation of :mod:`apicron.client.operations`, bound once in
:class:`Operations`; ``iter_*`` methods walk every page of a list.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self, TypeVar

import httpx

from apicron import __version__
from apicron.client import operations as op
from apicron.client.binding import AsyncSession, Operation, Paged, SyncSession, read_answer
from apicron.client.environment import credentials_from_env, url_from_env
from apicron.client.errors import TransportError
from apicron.client.operations import Call
from apicron.client.pages import PAGE_MAX

R = TypeVar("R")

DEFAULT_TIMEOUT = 30.0


class Operations:
    """Every operation of the management API, as a method of both clients."""

    get_instance = Operation(op.get_instance)
    update_instance = Operation(op.update_instance)

    create_app = Operation(op.create_app)
    list_apps = Operation(op.list_apps)
    iter_apps = Paged(op.list_apps)
    get_app = Operation(op.get_app)
    update_app = Operation(op.update_app)
    delete_app = Operation(op.delete_app)
    reset_app_secret = Operation(op.reset_app_secret)

    create_group = Operation(op.create_group)
    list_groups = Operation(op.list_groups)
    iter_groups = Paged(op.list_groups)
    get_group = Operation(op.get_group)
    update_group = Operation(op.update_group)
    delete_group = Operation(op.delete_group)

    create_api = Operation(op.create_api)
    list_apis = Operation(op.list_apis)
    iter_apis = Paged(op.list_apis)
    get_api = Operation(op.get_api)
    update_api = Operation(op.update_api)
    delete_api = Operation(op.delete_api)
    publish_api = Operation(op.publish_api)
    unpublish_api = Operation(op.unpublish_api)

    create_grants = Operation(op.create_grants)
    list_grants = Operation(op.list_grants)
    iter_grants = Paged(op.list_grants)
    delete_grant = Operation(op.delete_grant)

    create_task = Operation(op.create_task)
    list_tasks = Operation(op.list_tasks)
    iter_tasks = Paged(op.list_tasks)
    get_task = Operation(op.get_task)
    update_task = Operation(op.update_task)
    delete_task = Operation(op.delete_task)
    start_task = Operation(op.start_task)
    stop_task = Operation(op.stop_task)
    clone_task = Operation(op.clone_task)
    bulk_start_tasks = Operation(op.bulk_start_tasks)
    bulk_stop_tasks = Operation(op.bulk_stop_tasks)
    run_task = Operation(op.run_task)

    list_executions = Operation(op.list_executions)
    iter_executions = Paged(op.list_executions)
    get_execution = Operation(op.get_execution)
    replay_execution = Operation(op.replay_execution)
    backfill_task = Operation(op.backfill_task)

    create_user = Operation(op.create_user)
    list_users = Operation(op.list_users)
    iter_users = Paged(op.list_users)
    get_user = Operation(op.get_user)
    update_user = Operation(op.update_user)
    delete_user = Operation(op.delete_user)
    create_token = Operation(op.create_token)
    list_tokens = Operation(op.list_tokens)
    iter_tokens = Paged(op.list_tokens)
    revoke_token = Operation(op.revoke_token)
    get_me = Operation(op.get_me)
    update_me = Operation(op.update_me)
    list_audit = Operation(op.list_audit)
    iter_audit = Paged(op.list_audit)

    create_channel = Operation(op.create_channel)
    list_channels = Operation(op.list_channels)
    iter_channels = Paged(op.list_channels)
    get_channel = Operation(op.get_channel)
    update_channel = Operation(op.update_channel)
    delete_channel = Operation(op.delete_channel)
    test_channel = Operation(op.test_channel)
    list_alerts = Operation(op.list_alerts)
    iter_alerts = Paged(op.list_alerts)

    create_calendar = Operation(op.create_calendar)
    list_calendars = Operation(op.list_calendars)
    iter_calendars = Paged(op.list_calendars)
    get_calendar = Operation(op.get_calendar)
    update_calendar = Operation(op.update_calendar)
    delete_calendar = Operation(op.delete_calendar)

    preview_cron = Operation(op.preview_cron)
    list_nodes = Operation(op.list_nodes)
    health = Operation(op.health)
    metrics = Operation(op.metrics)


def _headers(token: str | None) -> dict[str, str]:
    headers = {"User-Agent": f"apicron-client/{__version__}", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _page_size(value: int) -> int:
    if not 1 <= value <= PAGE_MAX:
        raise ValueError(f"page_size must be 1-{PAGE_MAX}, got {value}")
    return value


def _unreachable(url: str, timeout: float, exc: httpx.HTTPError) -> TransportError:
    if isinstance(exc, httpx.TimeoutException):
        reason = f"no answer within {timeout:g} s"
    else:
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return TransportError(f"cannot reach apicron at {url} ({reason})", url=url)


class Client(Operations, SyncSession):
    """A blocking client of one apicron instance's management API.

    ``url`` is the management API's base URL (``http://127.0.0.1:8080``), ``token`` the
    bearer token (the admin token; None sends none, enough for :meth:`health`).
    ``timeout`` is per request, in seconds; ``page_size`` is how many items each request
    of an ``iter_*`` method asks for (1-500). ``transport`` replaces httpx's (e.g. to add
    TLS client certificates or retries). Use it as a context manager, or :meth:`close` it.

    Every method raises :class:`~apicron.client.errors.ApiError` subclasses for refusals
    (``InvalidInput`` 400, ``Unauthorized`` 401, ``NotFound`` 404, ``Conflict`` 409, …),
    :class:`~apicron.client.errors.TransportError` when the server cannot be reached.
    """

    def __init__(
        self, url: str, token: str | None, *, timeout: float = DEFAULT_TIMEOUT,
        page_size: int = PAGE_MAX, transport: httpx.BaseTransport | None = None,
    ):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.page_size = _page_size(page_size)
        self._http = httpx.Client(base_url=self.url, headers=_headers(token), timeout=timeout,
                                  transport=transport)

    @classmethod
    def from_env(cls, url: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> Self:
        """A client of ``url`` (default ``APICRON_URL``) with the token the environment gives
        (see :mod:`apicron.client.environment`); ClientError when there is none."""
        target = (url or url_from_env()).rstrip("/")
        return cls(target, credentials_from_env(target).token, timeout=timeout)

    def send(self, call: Call[R]) -> R:
        """Send one described call and read its answer (what every method does)."""
        try:
            response = self._http.request(
                call.method, call.path, params=call.query(), json=call.body
            )
        except httpx.HTTPError as exc:
            raise _unreachable(self.url, self.timeout, exc) from None
        return read_answer(call, response, self.url)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.url!r})"


class AsyncClient(Operations, AsyncSession):
    """The asyncio twin of :class:`Client`: the same methods, awaited (``iter_*`` are
    async iterators); ``async with`` it, or ``await`` :meth:`aclose`."""

    def __init__(
        self, url: str, token: str | None, *, timeout: float = DEFAULT_TIMEOUT,
        page_size: int = PAGE_MAX, transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.page_size = _page_size(page_size)
        self._http = httpx.AsyncClient(base_url=self.url, headers=_headers(token),
                                       timeout=timeout, transport=transport)

    @classmethod
    def from_env(cls, url: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> Self:
        """See :meth:`Client.from_env`."""
        target = (url or url_from_env()).rstrip("/")
        return cls(target, credentials_from_env(target).token, timeout=timeout)

    async def send(self, call: Call[R]) -> R:
        try:
            response = await self._http.request(
                call.method, call.path, params=call.query(), json=call.body
            )
        except httpx.HTTPError as exc:
            raise _unreachable(self.url, self.timeout, exc) from None
        return read_answer(call, response, self.url)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncClient({self.url!r})"

