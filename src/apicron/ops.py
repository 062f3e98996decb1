"""The ops listener: ``/livez``, ``/readyz``, ``/healthz`` and ``/metrics`` on their own
port, for nodes that serve no management API (roles ``scheduler`` and ``gateway``), so
that every node can be health-checked and scraped.

Off unless ``APICRON_OPS_PORT`` is set; binds ``APICRON_OPS_HOST`` (127.0.0.1 by
default). It answers without a token, like the management API's probes; ``/metrics``
there is meant for a Prometheus on the same host or network (bind it accordingly).
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from apicron.domain.errors import ConfigurationError
from apicron.metrics import exposition
from apicron.services import probes
from apicron.services.context import Context


class OpsListener:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.port = 0
        self._runner: web.AppRunner | None = None

    def _probe(self, probe: probes.Probe) -> web.Response:
        return web.Response(status=probe.status, text=json.dumps(probe.body),
                            content_type="application/json")

    async def _livez(self, _request: web.Request) -> web.Response:
        return self._probe(probes.liveness(self.ctx))

    async def _readyz(self, _request: web.Request) -> web.Response:
        return self._probe(await asyncio.to_thread(probes.readiness, self.ctx))

    async def _healthz(self, _request: web.Request) -> web.Response:
        return self._probe(await asyncio.to_thread(probes.health, self.ctx))

    async def _metrics(self, _request: web.Request) -> web.Response:
        response = web.Response(body=exposition(self.ctx.role))
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    async def start(self, host: str, port: int) -> None:
        app = web.Application()
        app.router.add_get("/livez", self._livez)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, host, port).start()
        except OSError as error:
            await self.close()
            raise ConfigurationError(
                f"the ops listener cannot listen on {host}:{port} ({error.strerror or error}); "
                "set APICRON_OPS_HOST / APICRON_OPS_PORT"
            ) from None
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
