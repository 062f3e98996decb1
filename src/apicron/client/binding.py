"""How an operation of :mod:`apicron.client.operations` becomes a method of both clients.

An :class:`Operation` (one call, one answer) or :class:`Paged` (every item of a list, page
after page) is a descriptor: read through a :class:`SyncSession` it is a plain method,
through an :class:`AsyncSession` a coroutine method (and an async iterator for ``Paged``),
each typed with the operation's own parameters. Sending and reading the answer are the
sessions' job; the rule for reading an answer is :func:`read_answer`, shared by both.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from typing import Any, Generic, ParamSpec, Self, TypeVar, overload

import httpx
from pydantic import ValidationError

from apicron.client.errors import UnexpectedResponse, api_error
from apicron.client.operations import Call
from apicron.client.pages import PAGE_MAX
from apicron.domain.models import Page

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


def read_answer(call: Call[R], response: httpx.Response, base_url: str) -> R:
    """``R`` from a successful answer; an ``ApiError`` for a refusal (status ≥ 400);
    ``UnexpectedResponse`` when the answer is not what apicron sends."""
    where = f"{call.method} {base_url}{call.path}"
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            body = None
        raise api_error(response.status_code, body, text=response.text, method=call.method,
                        url=base_url)
    try:
        return call.decode(response)
    except (ValidationError, ValueError) as exc:
        kind = response.headers.get("content-type", "no content type")
        raise UnexpectedResponse(
            f"{where} answered HTTP {response.status_code} ({kind}) that is not apicron's "
            f"{call.path} answer ({_first_line(exc)}); is the URL an apicron management API "
            "of this version?",
            url=base_url,
        ) from None


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class SyncSession:
    """What :class:`Operation` needs of a blocking client."""

    page_size: int = PAGE_MAX

    def send(self, call: Call[R]) -> R:
        raise NotImplementedError


class AsyncSession:
    """What :class:`Operation` needs of an asyncio client."""

    page_size: int = PAGE_MAX

    async def send(self, call: Call[R]) -> R:
        raise NotImplementedError


class Operation(Generic[P, R]):
    """One operation, a method of both clients (see the module's docstring)."""

    def __init__(self, build: Callable[P, Call[R]]):
        self.build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, session: None, owner: type[Any]) -> Self: ...

    @overload
    def __get__(self, session: SyncSession, owner: type[Any]) -> Callable[P, R]: ...

    @overload
    def __get__(
        self, session: AsyncSession, owner: type[Any]
    ) -> Callable[P, Awaitable[R]]: ...

    def __get__(self, session: SyncSession | AsyncSession | None, owner: type[Any]) -> Any:
        if session is None:
            return self
        build = self.build
        if isinstance(session, AsyncSession):
            async_session = session

            async def call_async(*args: P.args, **kwargs: P.kwargs) -> R:
                return await async_session.send(build(*args, **kwargs))

            return functools.wraps(build)(call_async)
        sync_session = session

        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            return sync_session.send(build(*args, **kwargs))

        return functools.wraps(build)(call)


class Paged(Generic[P, T]):
    """Every item of a list operation, fetched the session's ``page_size`` (default
    :data:`PAGE_MAX`) at a time from the ``offset`` given (default 0); ``limit`` is
    ignored. Items created or deleted while the pages are read may be seen twice or not at
    all, as with any offset paging."""

    def __init__(self, build: Callable[P, Call[Page[T]]]):
        self.build = build
        self.__doc__ = f"Every item of {build.__name__}, page after page.\n\n{build.__doc__}"

    @overload
    def __get__(self, session: None, owner: type[Any]) -> Self: ...

    @overload
    def __get__(self, session: SyncSession, owner: type[Any]) -> Callable[P, Iterator[T]]: ...

    @overload
    def __get__(
        self, session: AsyncSession, owner: type[Any]
    ) -> Callable[P, AsyncIterator[T]]: ...

    def __get__(self, session: SyncSession | AsyncSession | None, owner: type[Any]) -> Any:
        if session is None:
            return self
        build = self.build
        if isinstance(session, AsyncSession):
            async_session = session

            async def items_async(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
                call = build(*args, **kwargs)
                offset = int(call.params.get("offset") or 0)
                while True:
                    page = await async_session.send(
                        _page_at(call, offset, async_session.page_size))
                    for item in page.items:
                        yield item
                    offset += len(page.items)
                    if not page.items or offset >= page.total:
                        return

            return items_async
        sync_session = session

        def items(*args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
            call = build(*args, **kwargs)
            offset = int(call.params.get("offset") or 0)
            while True:
                page = sync_session.send(_page_at(call, offset, sync_session.page_size))
                yield from page.items
                offset += len(page.items)
                if not page.items or offset >= page.total:
                    return

        return items


def _page_at(call: Call[Page[T]], offset: int, size: int) -> Call[Page[T]]:
    return replace(call, params={**call.params, "offset": offset, "limit": size})
