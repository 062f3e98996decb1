"""``apicron serve``: open the store, upgrade the schema, and run the listeners."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import uvicorn

from apicron.alerts.sender import AlertSender, SenderSettings
from apicron.api.app import create_api_app
from apicron.collector import settle_collector
from apicron.crypto import TOKEN_FILE, ensure_private_dir, load_admin_token, load_secret_box
from apicron.domain.errors import ConfigurationError
from apicron.domain.vocabulary import NodeRole, choices
from apicron.engine.clock import SystemClock
from apicron.engine.dispatch import Dispatcher
from apicron.engine.gateway_call import GatewayCaller
from apicron.engine.results import ResultWriter
from apicron.engine.scheduler import Engine, EngineFailed, EngineSettings, watch
from apicron.gateway import Gateway
from apicron.gateway.proxy import backend_session
from apicron.gateway.snapshot import SnapshotCache
from apicron.gateway.workers import GatewayWorkers
from apicron.logs import LogLevel, configure_logging, set_node_id
from apicron.metrics import use_gateway_registry
from apicron.ops import OpsListener
from apicron.services.change_watcher import ChangeWatcher
from apicron.services.context import AccessPolicy, Context, system_clock
from apicron.services.nodes import Heartbeat
from apicron.services.retention import Retention
from apicron.services.secret_rotation import check_stored_credentials
from apicron.settings import Settings
from apicron.store import migrate
from apicron.store.database import make_engine
from apicron.store.store import Store
from apicron.tls import gateway_context

log = logging.getLogger("apicron")


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    ctx: Context
    admin_token: str


def open_store(settings: Settings, role: str = "all") -> Context:
    """The store (schema upgraded, instance row present) and the secret box, as a context."""
    if settings.is_sqlite:
        ensure_private_dir(settings.data_dir)
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    store = Store(engine)
    with store.write() as q:
        q.ensure_instance(system_clock())
    box = load_secret_box(settings.secret_key, settings.data_dir)
    return Context(store=store, secrets=box, gateway_url=settings.gateway_url, role=role,
                   public_url=settings.public_url, alert_timeout_s=settings.alert_timeout,
                   outbound=settings.outbound_policy, access=access_policy(settings))


def access_policy(settings: Settings) -> AccessPolicy:
    """The sign-in and audit settings, as the services read them."""
    return AccessPolicy(
        session_idle=timedelta(seconds=settings.session_idle),
        session_max=timedelta(seconds=settings.session_max),
        login_max_failures=settings.login_max_failures,
        login_window=timedelta(seconds=settings.login_window),
        login_lockout=timedelta(seconds=settings.login_lockout),
        login_slowdown_s=settings.login_slowdown,
        audit_retention=timedelta(days=settings.audit_retention),
        admin_token_disabled=settings.admin_token_disabled,
    )


def open_runtime(
    settings: Settings, *, announce_token: bool = True, role: str = "all"
) -> Runtime:
    """Everything a process of this instance needs, with the schema upgraded."""
    ctx = open_store(settings, role)
    # A wrong key fails here, at start, in one line; a key retired too early is named here
    # (one line), not discovered at the first gateway call.
    try:
        check_stored_credentials(ctx.store, ctx.secrets)
    except BaseException:
        ctx.store.close()
        raise
    token, generated = load_admin_token(settings.admin_token, settings.data_dir)
    if generated and announce_token:
        _announce_token(token, settings.data_dir / TOKEN_FILE)
    return Runtime(settings=settings, ctx=ctx, admin_token=token)


def _announce_token(token: str, path: Path) -> None:
    """Show a just-generated admin token once, on a terminal only: under systemd or in a
    container stderr is the log, which must never hold it; there the file is named."""
    if sys.stderr.isatty():
        message = f"generated the admin token (kept in {path}, mode 0600):\n  {token}"
        print(f"apicron: {message}", file=sys.stderr, flush=True)
    else:
        # A log line (in the log's format), which must not hold the token.
        log.warning("generated the admin token into %s (mode 0600); read it from there (it "
                    "is printed only on a terminal)", path)


ROLES = choices(NodeRole)


class _ApiServer(uvicorn.Server):
    """uvicorn without its own signal handling: ``_serve`` stops every listener together.

    (uvicorn would re-raise the signal once stopped, killing the process before the
    gateway has closed.)
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _on_signals(handler: Callable[[], None]) -> Callable[[], None]:
    """Run ``handler`` on SIGINT and SIGTERM; return the undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows' default loop
            loop.add_signal_handler(sig, handler)
            installed.append(sig)

    def undo() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return undo


async def _serve(runtime: Runtime, role: str = "all") -> int:
    """Serve until a signal (exit code 0) or until the engine gives up (exit code 1)."""
    if role not in ROLES:
        raise ConfigurationError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    settings = runtime.settings
    tls = gateway_context(settings)  # also the start-up check of the certificate files
    scheme = "https" if tls is not None else "http"
    stop = asyncio.Event()
    api_server: _ApiServer | None = None
    exit_code = 0

    def on_engine_failure(error: BaseException) -> None:
        # The process ends non-zero so that a supervisor restarts it. EngineFailed was
        # said in one CRITICAL line already; anything else is said here.
        if not isinstance(error, EngineFailed):
            log.critical("engine crashed (%s: %s); exiting so that a supervisor restarts "
                         "apicron", type(error).__name__, error, exc_info=error)
        nonlocal exit_code
        exit_code = 1
        stop.set()

    def on_signal() -> None:
        if stop.is_set() and api_server is not None:
            api_server.force_exit = True  # a second signal: do not wait for open connections
        stop.set()

    undo_signals = _on_signals(on_signal)
    listening = []
    try:
        async with contextlib.AsyncExitStack() as stack:
            # Registered first, removed last: while this process serves, it is listed.
            heartbeat = Heartbeat(runtime.ctx)
            await heartbeat.start()
            stack.push_async_callback(heartbeat.stop)
            watcher = ChangeWatcher(runtime.ctx).start()
            stack.callback(watcher.stop)
            gateway: Gateway | None = None
            if role in ("all", "gateway") and settings.gateway_workers > 1:
                listening.append(await _start_gateway_workers(runtime, stack, scheme))
            elif role in ("all", "gateway"):
                # Started first, so that a healthy management API implies a listening gateway.
                gateway = Gateway(runtime.ctx, outbound=settings.outbound_policy)
                await gateway.start(settings.gateway_host, settings.gateway_port, tls)
                stack.push_async_callback(gateway.close)
                listening.append(f"gateway {scheme}://{settings.gateway_host}:{gateway.port}")
            if role in ("all", "api"):
                app = create_api_app(runtime.ctx, runtime.admin_token)
                config = uvicorn.Config(
                    app,
                    host=settings.api_host,
                    port=settings.api_port,
                    # apicron.logs configured every logger, uvicorn's too: one format.
                    log_config=None,
                    log_level=settings.log_level.value,
                    # The management API's access log only when debugging (its callers
                    # are operators and scripts; the gateway keeps its own access log).
                    access_log=settings.log_level is LogLevel.DEBUG,
                    server_header=False,
                    # Client certificates are the gateway's: the API has its bearer tokens.
                    ssl_certfile=settings.tls_cert,
                    ssl_keyfile=settings.tls_key,
                    # X-Forwarded-Proto / -For believed from these proxies only (the console
                    # cookie is Secure when the scheme, so told, is https).
                    proxy_headers=True,
                    forwarded_allow_ips=list(settings.forwarded_allow_ips),
                )
                api_server = _ApiServer(config)
                # Sessions, sign-in failures and the audit log are pruned where they are
                # written: on the nodes serving the management API.
                stack.callback(Retention(runtime.ctx).start().stop)
                listening.insert(
                    0, f"management API {scheme}://{settings.api_host}:{settings.api_port}"
                )
            if role in ("all", "scheduler"):
                await _start_engine(runtime, stack, gateway if role == "all" else None,
                                    on_engine_failure)
                listening.append("scheduler")
            if settings.ops_port is not None:
                ops = OpsListener(runtime.ctx)
                await ops.start(settings.ops_host, settings.ops_port)
                stack.push_async_callback(ops.close)
                listening.append(f"ops http://{settings.ops_host}:{ops.port}")
            # Everything loaded so far lives as long as the process: keep it out of the
            # garbage collector's passes, and space them out, which otherwise stall every
            # call in flight (measured: p99 under load, apicron.collector).
            settle_collector()
            log.info(
                "apicron node %s listening (role %s): %s, database %s",
                runtime.ctx.node_id, role, ", ".join(listening) or "nothing",
                settings.database_shown,
            )
            if api_server is None:
                await stop.wait()
            else:
                await _serve_api_until(api_server, stop)
    finally:
        undo_signals()
    return exit_code


async def _start_gateway_workers(
    runtime: Runtime, stack: contextlib.AsyncExitStack, scheme: str
) -> str:
    """``APICRON_GATEWAY_WORKERS`` > 1: the gateway in that many child processes sharing
    its port (:mod:`apicron.gateway.workers`); what is listening, in words."""
    settings = runtime.settings
    workers = GatewayWorkers(settings, settings.gateway_workers)
    await workers.start()
    stack.push_async_callback(workers.close)
    runtime.ctx.readiness_checks["gateway_workers"] = workers.problem
    use_gateway_registry(workers.registry)
    stack.callback(use_gateway_registry, None)
    return (f"gateway {scheme}://{settings.gateway_host}:{settings.gateway_port} "
            f"({settings.gateway_workers} worker processes)")


async def _start_engine(
    runtime: Runtime,
    stack: contextlib.AsyncExitStack,
    gateway: Gateway | None,
    on_failure: Callable[[BaseException], None],
) -> None:
    """The scheduler calls through the gateway's pipeline in-process: with the gateway in
    this process it shares its snapshot cache and backend session."""
    if gateway is not None:
        cache, session = gateway.cache, gateway.session
    else:
        cache = SnapshotCache(runtime.ctx)
        session = await stack.enter_async_context(
            backend_session(outbound=runtime.settings.outbound_policy)
        )
    clock = SystemClock()
    dispatcher = Dispatcher(GatewayCaller(cache, session, clock), ResultWriter(), clock)
    engine = Engine(
        runtime.ctx,
        dispatcher,
        clock,
        EngineSettings(
            take_over_on_start=runtime.settings.is_sqlite,
            # Several nodes share the due tasks: smaller claims interleave between them.
            batch_size=500 if runtime.settings.is_sqlite else 100,
            # Orphans of a dead node are looked for every second: taken over right after
            # their lease expires, not up to a scan interval later.
            queue_scan_every=timedelta(seconds=5 if runtime.settings.is_sqlite else 1),
            grace=timedelta(seconds=runtime.settings.misfire_grace),
            give_up_after=timedelta(seconds=runtime.settings.engine_give_up),
        ),
    )
    # Issue 14: alerts are delivered next to the engine, in a thread of their own (a
    # hanging channel never reaches the engine's loop); stopped after the engine, so that
    # its last results' alerts may still go out.
    sender = AlertSender(runtime.ctx, SenderSettings(
        node_id=runtime.ctx.node_id, public_url=runtime.settings.public_url,
        timeout_s=runtime.settings.alert_timeout,
        take_over_on_start=runtime.settings.is_sqlite,
    ), runtime.settings.outbound_policy).start()
    stack.push_async_callback(asyncio.to_thread, sender.stop)
    running = asyncio.create_task(engine.run(), name="apicron-engine")
    watch(running, on_failure)

    async def stop() -> None:
        await engine.stop()
        with contextlib.suppress(EngineFailed):
            await running

    stack.push_async_callback(stop)


async def _serve_api_until(server: _ApiServer, stop: asyncio.Event) -> None:
    async def stop_on_signal() -> None:
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.create_task(stop_on_signal())
    try:
        await server.serve()
    finally:
        watcher.cancel()


def serve(settings: Settings, role: str = "all") -> int:
    """Run this process's listeners (``role``: all, api, gateway or scheduler) until a
    SIGINT or SIGTERM, then stop them and close the store. Returns the exit code: 0, or 1
    when the engine gave up (said in one CRITICAL line)."""
    configure_logging(settings.log_format, settings.log_level)
    if role not in ROLES:
        raise ConfigurationError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    runtime = open_runtime(settings, role=role)
    set_node_id(runtime.ctx.node_id)
    try:
        return asyncio.run(_serve(runtime, role))
    finally:
        runtime.ctx.store.close()
