"""``apicron serve``: open the store, upgrade the schema, and run the listeners."""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass

import uvicorn

from apicron.api.app import create_api_app
from apicron.crypto import TOKEN_FILE, ensure_private_dir, load_admin_token, load_secret_box
from apicron.services.context import Context, system_clock
from apicron.settings import Settings
from apicron.store import migrate
from apicron.store.database import make_engine
from apicron.store.store import Store

log = logging.getLogger("apicron")


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    ctx: Context
    admin_token: str


def open_runtime(settings: Settings, *, announce_token: bool = True) -> Runtime:
    """Everything a process of this instance needs, with the schema upgraded."""
    if settings.is_sqlite:
        ensure_private_dir(settings.data_dir)
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    store = Store(engine)
    with store.write() as q:
        q.ensure_instance(system_clock())
    box = load_secret_box(settings.secret_key, settings.data_dir)
    token, generated = load_admin_token(settings.admin_token, settings.data_dir)
    if generated and announce_token:
        # Printed once, to the terminal only (never to the log), when first generated.
        print(
            f"apicron: generated the admin token (kept in {settings.data_dir / TOKEN_FILE}, "
            f"mode 0600):\n  {token}",
            file=sys.stderr,
            flush=True,
        )
    ctx = Context(store=store, secrets=box, gateway_url=settings.gateway_url)
    return Runtime(settings=settings, ctx=ctx, admin_token=token)


async def _serve(runtime: Runtime) -> None:
    settings = runtime.settings
    app = create_api_app(runtime.ctx, runtime.admin_token)
    config = uvicorn.Config(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_level="info",
        access_log=True,
        server_header=False,
    )
    server = uvicorn.Server(config)
    log.info(
        "apicron listening: management API http://%s:%d, database %s",
        settings.api_host, settings.api_port, settings.database_url.split("://", 1)[0],
    )
    await server.serve()


def serve(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    runtime = open_runtime(settings)
    try:
        asyncio.run(_serve(runtime))
    finally:
        runtime.ctx.store.close()
