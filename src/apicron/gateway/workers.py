"""Several gateway processes on one port: ``APICRON_GATEWAY_WORKERS`` > 1 (issue 20).

One Python process answers on one core; :class:`GatewayWorkers` lets the gateway use them
all. ``apicron serve`` (roles ``all`` and ``gateway``) then starts N child processes
(:mod:`apicron.gateway.worker`), each listening on the gateway's port with SO_REUSEPORT:
the Linux kernel spreads new connections over them. Each has its own snapshot cache fed by
its own change watcher, exactly like a separate gateway node, so a publish or a revocation
reaches every worker within the same bound as it reaches another node. The ``serve``
process keeps the management API, the engine (which calls through the gateway's pipeline
in-process, not through the workers) and the ops listener.

The rules the supervisor keeps:

* start: every worker must say ``ready`` (listening) or ``apicron serve`` fails at start
  with the worker's one line (e.g. the port is taken);
* a worker that dies is never silently lost: one ERROR line naming it, its exit code or
  signal; ``/readyz`` answers 503 (check ``gateway_workers``) until it listens again;
  ``apicron_gateway_worker_restarts_total{worker}`` counts it; it is restarted at once,
  then after 1, 2, 4… s (30 s at most) while it keeps dying before it has served 10 s;
* SIGTERM to ``serve`` drains them: each stops accepting, finishes its calls in flight
  (5 s at most) and exits; one that has not after 10 s is killed. A worker also stops when
  its stdin closes, so one never outlives a ``serve`` killed with -9.

Metrics stay one set: each worker writes its gateway metrics with prometheus_client's
multiprocess mode into a private temporary directory, and ``/metrics`` of ``serve`` sums
them (a dead worker's counters are kept in the sums, so totals never go back).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from apicron.domain.errors import ConfigurationError
from apicron.settings import Settings

log = logging.getLogger("apicron.gateway")

_READY_TIMEOUT_S = 60.0
_DRAIN_TIMEOUT_S = 10.0
_SERVED_LONG_ENOUGH_S = 10.0
_MAX_BACKOFF_S = 30.0
_METRIC_PREFIX = "apicron_gateway_"


def describe_exit(code: int) -> str:
    """``exit code 1`` or ``signal 9 (SIGKILL)``, from a ``returncode``."""
    if code >= 0:
        return f"exit code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"
    return f"signal {-code} ({name})"


@dataclass
class _Worker:
    slot: int
    process: asyncio.subprocess.Process | None = None
    ready_at: float = 0.0
    restarts: int = 0
    failures_in_a_row: int = 0
    last_exit: str = ""
    supervisor: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None


class GatewayWorkers:
    """N gateway worker processes of this ``serve`` process, started and supervised.

    Use from one event loop: :meth:`start` (raises :class:`ConfigurationError` with the
    first worker's one-line reason when one cannot listen), then :meth:`close`.
    """

    def __init__(self, settings: Settings, count: int):
        self._settings = settings
        self._count = count
        self._workers = [_Worker(slot) for slot in range(1, count + 1)]
        self._stopping = False
        self.metrics_dir = tempfile.mkdtemp(prefix="apicron-gateway-metrics-")
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_WorkerMetrics(self))

    def problem(self) -> str | None:
        """For ``/readyz``: which workers are down and why, or None when all listen."""
        down = [worker for worker in self._workers if not worker.running or not worker.ready_at]
        if not down:
            return None
        said = "; ".join(
            f"worker {worker.slot} {worker.last_exit or 'starting'}, restarting"
            for worker in down
        )
        return f"{self._count - len(down)} of {self._count} gateway workers listening; {said}"

    async def start(self) -> None:
        try:
            await asyncio.gather(*(self._spawn(worker) for worker in self._workers))
        except BaseException:
            await self.close()
            raise
        for worker in self._workers:
            worker.supervisor = asyncio.create_task(
                self._supervise(worker), name=f"apicron-gateway-worker-{worker.slot}"
            )
        log.info("gateway workers listening: %s", ", ".join(
            f"{worker.slot} (pid {worker.pid})" for worker in self._workers))

    async def close(self) -> None:
        """Drain every worker (SIGTERM), kill one still there after 10 s; forget them."""
        self._stopping = True
        for worker in self._workers:
            if worker.supervisor is not None:
                worker.supervisor.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker.supervisor
        await asyncio.gather(*(self._stop(worker) for worker in self._workers))
        shutil.rmtree(self.metrics_dir, ignore_errors=True)

    async def _stop(self, worker: _Worker) -> None:
        process = worker.process
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), _DRAIN_TIMEOUT_S)
            except TimeoutError:
                log.error("gateway worker %d (pid %d) did not stop within %.0f s of SIGTERM; "
                          "killed", worker.slot, process.pid, _DRAIN_TIMEOUT_S)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if process.stdin is not None:
            process.stdin.close()

    async def _spawn(self, worker: _Worker) -> None:
        """Start ``worker`` and wait until it listens; ConfigurationError if it cannot."""
        worker.ready_at = 0.0
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "apicron.gateway.worker", str(worker.slot),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": self.metrics_dir},
            # Its own session: a terminal's Ctrl-C reaches serve, which drains the workers
            # itself (and knows then that their exit is no death).
            start_new_session=True,
        )
        worker.process = process
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(self._settings.model_dump_json().encode() + b"\n")
        try:
            await process.stdin.drain()
            line = await asyncio.wait_for(process.stdout.readline(), _READY_TIMEOUT_S)
        except (TimeoutError, ConnectionError):
            line = b""
        said = line.decode(errors="replace").strip()
        if said.startswith("ready"):
            worker.ready_at = time.monotonic()
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        code = await process.wait()
        if said.startswith("error "):
            raise ConfigurationError(said.removeprefix("error "))
        raise ConfigurationError(
            f"gateway worker {worker.slot} did not start ({describe_exit(code)}); see the "
            "lines before this one"
        )

    async def _supervise(self, worker: _Worker) -> None:
        while True:
            process = worker.process
            assert process is not None
            code = await process.wait()
            if self._stopping:
                return
            served = time.monotonic() - worker.ready_at if worker.ready_at else 0.0
            worker.failures_in_a_row = (
                0 if served >= _SERVED_LONG_ENOUGH_S else worker.failures_in_a_row + 1
            )
            worker.ready_at = 0.0
            worker.restarts += 1
            worker.last_exit = f"(pid {process.pid}) exited with {describe_exit(code)}"
            multiprocess.mark_process_dead(process.pid, self.metrics_dir)  # type: ignore[no-untyped-call]
            await self._restart(worker)

    async def _restart(self, worker: _Worker) -> None:
        while not self._stopping:
            delay = (0.0 if worker.failures_in_a_row <= 1
                     else min(_MAX_BACKOFF_S, 2.0 ** (worker.failures_in_a_row - 2)))
            log.error("gateway worker %d %s; restarting it%s", worker.slot, worker.last_exit,
                      f" in {delay:g} s" if delay else "")
            await asyncio.sleep(delay)
            if self._stopping:
                return
            try:
                await self._spawn(worker)
            except Exception as error:  # e.g. no process could be made: try again, said
                worker.failures_in_a_row += 1
                worker.last_exit = f"could not be restarted ({error})"
                continue
            log.warning("gateway worker %d restarted (pid %s)", worker.slot, worker.pid)
            return

    @property
    def workers(self) -> list[_Worker]:
        return list(self._workers)


class _WorkerMetrics(Collector):
    """The gateway's metrics summed over the workers, and the workers' own state."""

    def __init__(self, pool: GatewayWorkers):
        self._pool = pool
        self._sums = multiprocess.MultiProcessCollector(None, path=pool.metrics_dir)  # type: ignore[no-untyped-call]

    def collect(self) -> Iterable[Metric]:
        for metric in self._sums.collect():  # type: ignore[no-untyped-call]
            # Each worker imports more than the gateway (process and engine metrics have
            # files too): the gateway's alone are served as the gateway's.
            if metric.name.startswith(_METRIC_PREFIX):
                yield metric
        workers = self._pool.workers
        yield GaugeMetricFamily(
            "apicron_gateway_workers", "Gateway worker processes configured "
            "(APICRON_GATEWAY_WORKERS).", value=len(workers))
        yield GaugeMetricFamily(
            "apicron_gateway_workers_running", "Gateway worker processes listening now.",
            value=sum(1 for worker in workers if worker.running and worker.ready_at))
        restarts = CounterMetricFamily(
            "apicron_gateway_worker_restarts", "Gateway worker processes that died and were "
            "restarted, by worker (1…N).", labels=["worker"])
        for worker in workers:
            restarts.add_metric([str(worker.slot)], worker.restarts)
        yield restarts
