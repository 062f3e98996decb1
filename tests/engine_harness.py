"""An engine in the test's own event loop with a driven clock, a real SQLite store, the
real gateway pipeline and real backends on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from apicron.domain.models import (
    ApiCreate,
    AppCreate,
    Execution,
    GrantCreate,
    GroupCreate,
    TaskCreate,
)
from apicron.engine.clock import DrivenClock
from apicron.engine.dispatch import Dispatcher
from apicron.engine.gateway_call import GatewayCaller
from apicron.engine.results import ResultWriter
from apicron.engine.retry import RetryPolicy
from apicron.engine.scheduler import Engine, EngineSettings
from apicron.gateway.proxy import backend_session
from apicron.gateway.snapshot import SnapshotCache
from apicron.server import open_runtime
from apicron.services import apis, apps, executions, grants, groups, tasks
from apicron.services.context import Context
from apicron.settings import load_settings
from tests.conftest import unique
from tests.servers import ADMIN_TOKEN, SECRET_KEY

START = datetime(2027, 3, 1, 8, 0, 0, tzinfo=UTC)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Backend:
    """A real HTTP server that records every request and answers as the test says."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.responses: list[tuple[int, dict[str, str], str]] = []
        self.delay = 0.0
        self.delays: dict[str, float] = {}
        """Seconds to hold requests whose path starts with a key (else ``delay``)."""
        self.url = ""
        self._runner: web.AppRunner | None = None
        self.hold_first = 0
        """The first this many requests wait for :attr:`gate` (then answer as usual)."""
        self.gate = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.received.append(
            {
                "method": request.method,
                "path": request.path,
                "query": list(request.query.items()),
                "headers": dict(request.headers),
                "body": await request.read(),
                "at": time.monotonic(),
            }
        )
        if len(self.received) <= self.hold_first:
            await self.gate.wait()
        delay = next((d for p, d in self.delays.items() if request.path.startswith(p)),
                     self.delay)
        if delay:
            await asyncio.sleep(delay)
        status, headers, text = self.responses.pop(0) if self.responses else (200, {}, "ok")
        return web.Response(status=status, headers=headers, text=text)

    async def start(self) -> Backend:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # At the end of a test, requests the backend still holds are cancelled, not waited for.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


class Harness:
    def __init__(self, data_dir: Path, database_url: str | None = None):
        self.clock = DrivenClock(START)
        env = {"APICRON_DATA_DIR": str(data_dir), "APICRON_ADMIN_TOKEN": ADMIN_TOKEN}
        if database_url:
            env |= {"APICRON_DATABASE_URL": database_url, "APICRON_SECRET_KEY": SECRET_KEY}
        settings = load_settings(env)
        runtime = open_runtime(settings, announce_token=False)
        self.ctx: Context = dataclasses.replace(runtime.ctx, clock=self.clock.now)
        self.backend = Backend()
        self.engine: Engine | None = None
        self._run: asyncio.Task[None] | None = None
        self._session_cm: Any = None
        self.session: aiohttp.ClientSession | None = None
        self.gave_up: list[str] = []
        """Each time :meth:`settle` stopped waiting at its limit, what was still pending
        (added to the error of a test that fails, by :func:`scenario`)."""

    async def __aenter__(self) -> Harness:
        await self.backend.start()
        self._session_cm = backend_session()
        self.session = await self._session_cm.__aenter__()
        await self.start_engine()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop_engine()
        await self._session_cm.__aexit__(None, None, None)
        await self.backend.stop()
        self.ctx.store.close()

    async def start_engine(self, *, settle: bool = True, **overrides: Any) -> None:
        """A new engine running; ``settle=False`` returns as soon as it has begun (in its
        start-up take-over), for tests of what arrives at that moment."""
        assert self.session is not None
        caller = GatewayCaller(SnapshotCache(self.ctx), self.session, self.clock)
        dispatcher = Dispatcher(caller, ResultWriter(), self.clock, RetryPolicy())
        settings = EngineSettings(node_id=unique("node"), **overrides)
        self.engine = Engine(self.ctx, dispatcher, self.clock, settings)
        self._run = asyncio.create_task(self.engine.run())
        await asyncio.sleep(0.05 if settle else 0)

    async def stop_engine(self) -> None:
        if self.engine is not None and self._run is not None:
            await self.engine.stop(grace_seconds=2)
            await asyncio.wait_for(self._run, 5)
            self.engine = None

    # -- world ---------------------------------------------------------------------------

    def api(self, *, method: str = "POST", path: str | None = None, auth: str = "APP",
            timeout_ms: int = 2000, owner: str | None = None,
            backend_path: str = "/hook") -> dict[str, str]:
        app_id = owner or apps.create_app(self.ctx, AppCreate(name=unique("app"))).id
        group = groups.create_group(self.ctx, GroupCreate(name=unique("grp"), app_id=app_id))
        api = apis.create_api(
            self.ctx,
            ApiCreate(group_id=group.id, name=unique("api"), method=method,
                      path=path or f"/{unique('p')}", auth_type=auth,
                      backend_url=self.backend.url + backend_path,
                      backend_timeout_ms=timeout_ms),
        )
        apis.publish_api(self.ctx, api.id)
        return {"app_id": app_id, "api_id": api.id}

    def task(self, owned: dict[str, str], **fields: Any) -> str:
        spec = {"name": unique("task"), "trigger_type": "CRON", "cron_expression": "* * * * * ?",
                "effective_time": START, **owned, **fields}
        task = tasks.create_task(self.ctx, TaskCreate.model_validate(spec))
        tasks.start_task(self.ctx, task.id)
        return task.id

    def grant(self, app_id: str, api_id: str) -> str:
        return grants.create_grants(self.ctx, GrantCreate(app_id=app_id, api_ids=[api_id])
                                    ).items[0].id

    def history(self, task_id: str) -> list[Execution]:
        """Executions scheduled up to now (the engine plans the next second ahead)."""
        page = executions.list_executions(self.ctx, task_id, status=None, start=None, end=None,
                                          offset=0, limit=500)
        return sorted(
            (e for e in page.items if e.scheduled_at <= self.clock.now()),
            key=lambda e: e.scheduled_at,
        )

    # -- time ----------------------------------------------------------------------------

    async def advance(self, seconds: float, step: float = 1.0) -> None:
        """Move the driven clock in steps, letting the engine and the calls run at each."""
        await self.settle()  # what was just changed is planned before time moves
        remaining = seconds
        while remaining > 1e-9:
            delta = min(step, remaining)
            self.clock.advance(timedelta(seconds=delta))
            remaining -= delta
            await self.settle()

    async def settle(self, quiet: float = 0.05, limit: float = 5.0) -> None:
        """Wait (real time) until the engine has looked at the world as it is now (a pass
        after a wake-up: what was just started or became due is planned and fired), no
        call is in flight and every result is written."""
        engine = self.engine
        if engine is not None and engine.running:
            # A pass begun after the wake-up has completed.
            target = engine.passes_begun + 1
            engine.wake()
            deadline = time.monotonic() + limit
            # Polling a counter the engine keeps for tests (an event per pass would cost the
            # engine for nothing).
            while engine.running and engine.passes < target and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.005)
            if engine.running and engine.passes < target:
                self._gave_up(limit, f"no engine pass completed after the wake-up "
                                     f"(passes {engine.passes}, begun {engine.passes_begun})")

        def busy() -> bool:
            engine = self.engine
            return engine is not None and bool(
                engine.dispatcher.calls_in_flight or engine.results_pending
            )

        deadline = time.monotonic() + limit
        await asyncio.sleep(quiet)
        while time.monotonic() < deadline:
            if not busy():
                await asyncio.sleep(quiet)
                if not busy():
                    return
            await asyncio.sleep(0.01)
        engine = self.engine
        if engine is not None:
            self._gave_up(limit, f"{engine.dispatcher.calls_in_flight} calls in flight, "
                                 f"{engine.results_pending} results not written")

    def _gave_up(self, limit: float, pending: str) -> None:
        """Said, not raised: a test may hold calls on purpose (a slow backend), and on a
        loaded machine a settle can run out while the test still passes. A test that
        fails gets these lines with its error (:func:`scenario`)."""
        self.gave_up.append(f"settle gave up after {limit} s at {self.clock.now().isoformat()}"
                            f" (driven clock): {pending}")

    async def eventually(self, check: Callable[[], bool], limit: float = 5.0) -> None:
        deadline = time.monotonic() + limit
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.02)


def scenario(fn: Callable[[Harness], Awaitable[None]]) -> Callable[[Path, str | None], None]:
    """A pytest test running ``fn`` against a new :class:`Harness` on the database under test.

    The returned test takes the ``tmp_path`` and ``database_url`` fixtures, so it runs once on
    SQLite and once on PostgreSQL; it keeps ``fn``'s name and docstring for pytest's report.
    """

    def test(tmp_path: Path, database_url: str | None) -> None:
        async def main() -> None:
            async with Harness(tmp_path, database_url) as h:
                try:
                    await fn(h)
                except BaseException as exc:
                    # Why a condition was not reached: what the engine still had pending.
                    for line in h.gave_up:
                        exc.add_note(line)
                    raise

        asyncio.run(main())

    test.__name__ = fn.__name__
    test.__doc__ = fn.__doc__
    return test
