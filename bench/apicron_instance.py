"""apicron as the benchmarks run it: a fresh data directory, tasks written into its SQLite
file, and a real ``apicron serve`` process (management API, gateway and engine in one).

Creating tasks one service call at a time runs at a few hundred a second here, so the
harness validates one template task through apicron's own services and writes the others
as copies of its row, changing only id, name, API and cron expression (every one of them
a valid expression). Starting them is one UPDATE setting exactly what ``start_task`` sets
(status, the next fire time from the task's own trigger); the engine is then woken the way
any start wakes it, by starting one more task through the REST API.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import bindparam, insert, select, update

from apicron.domain.models import ApiCreate, AppCreate, GroupCreate, StoredTask, TaskCreate
from apicron.domain.schedules import schedule_of
from apicron.server import open_runtime
from apicron.services import apis, apps, groups
from apicron.services import tasks as task_service
from apicron.services.context import Context, new_id
from apicron.settings import load_settings
from apicron.store.tables import tasks as task_table
from bench.common import ADMIN_TOKEN, Children, free_port, python_module, rss_mb, wait_http

WAKER = "bench-waker"
_CHUNK = 20_000


@dataclass(frozen=True)
class TaskSpec:
    name: str
    api: str
    """Key of the API (see :meth:`Instance.publish`) the task calls."""
    cron_expression: str
    max_retries: int = 0


@dataclass
class Instance:
    data_dir: Path
    backend_url: str
    api_ids: dict[str, str] = field(default_factory=dict)
    app_id: str = ""
    app_key: str = ""
    app_secret: str = ""
    waker_id: str = ""
    database_url: str = ""
    """A ``postgresql://`` URL shared by several processes; empty: SQLite in ``data_dir``."""
    secret_key: str = ""
    """``APICRON_SECRET_KEY`` (required with PostgreSQL: every node reads the app secrets)."""
    _ctx: Context | None = None

    def settings_env(self) -> dict[str, str]:
        """The settings every process of this instance is started with."""
        env = {"APICRON_DATA_DIR": str(self.data_dir), "APICRON_ADMIN_TOKEN": ADMIN_TOKEN}
        if self.database_url:
            env |= {"APICRON_DATABASE_URL": self.database_url,
                    "APICRON_SECRET_KEY": self.secret_key}
        return env

    @property
    def ctx(self) -> Context:
        if self._ctx is None:
            settings = load_settings(self.settings_env())
            self._ctx = open_runtime(settings, announce_token=False).ctx
        return self._ctx

    def close(self) -> None:
        if self._ctx is not None:
            self._ctx.store.close()
            self._ctx = None

    def publish(self, paths: dict[str, str], *, timeout_ms: int = 5000) -> None:
        """An app, a group and one published APP-auth GET API per ``key: backend path``,
        and the waker task (never due; starting it wakes the engine)."""
        ctx = self.ctx
        app = apps.create_app(ctx, AppCreate(name="bench"))
        group = groups.create_group(ctx, GroupCreate(name="bench", app_id=app.id))
        self.app_id, self.app_key = app.id, app.key
        assert app.secret is not None
        self.app_secret = app.secret
        for key, path in paths.items():
            api = apis.create_api(ctx, ApiCreate(
                group_id=group.id, name=f"api-{key}", method="GET", path=f"/bench/{key}",
                auth_type="APP", backend_url=self.backend_url + path,
                backend_timeout_ms=timeout_ms))
            apis.publish_api(ctx, api.id)
            self.api_ids[key] = api.id
        waker = task_service.create_task(ctx, TaskCreate(
            name=WAKER, app_id=app.id, api_id=next(iter(self.api_ids.values())),
            trigger_type="CRON", cron_expression="0 0 0 1 1 ?"))
        self.waker_id = waker.id

    def insert_tasks(self, specs: Sequence[TaskSpec]) -> float:
        """Insert INITIALIZED tasks as copies of one validated template; returns seconds."""
        started = time.perf_counter()
        ctx = self.ctx
        with ctx.store.read() as q:
            template = dict(q.connection.execute(
                select(task_table).where(task_table.c.id == self.waker_id)).mappings().one())
        now = datetime.now(UTC)
        with ctx.store.write() as q:
            for first in range(0, len(specs), _CHUNK):
                q.connection.execute(insert(task_table), [
                    {**template, "id": new_id(), "name": s.name, "api_id": self.api_ids[s.api],
                     "cron_expression": s.cron_expression, "max_retries": s.max_retries,
                     "effective_time": now, "created_at": now, "updated_at": now}
                    for s in specs[first:first + _CHUNK]
                ])
        return time.perf_counter() - started

    def set_cron(self, expression: str) -> None:
        """Give every task but the waker this cron expression (the burst's second is known
        only once the server runs)."""
        with self.ctx.store.write() as q:
            q.connection.execute(update(task_table).where(task_table.c.id != self.waker_id)
                                 .values(cron_expression=expression))

    def start_tasks(self, first: datetime, *, prefix: str = "",
                    statuses: tuple[str, ...] = ("INITIALIZED",)) -> float:
        """Start the tasks whose name starts with ``prefix`` with ``first`` as effective
        time: exactly what ``start_task`` stores. Returns seconds."""
        started = time.perf_counter()
        ctx = self.ctx
        with ctx.store.read() as q:
            rows = q.connection.execute(
                select(task_table).where(task_table.c.status.in_(statuses),
                                         task_table.c.name.like(prefix + "%"),
                                         task_table.c.id != self.waker_id)).mappings().all()
        # Tasks with the same trigger and effective time fire at the same times.
        known: dict[tuple[Any, ...], datetime | None] = {}
        advances: list[dict[str, Any]] = []
        for row in rows:
            key = tuple(row[c] for c in ("trigger_type", "cron_expression", "interval_unit",
                                         "interval_value", "timezone", "end_time"))
            if key not in known:
                task = StoredTask.model_validate({**row, "effective_time": first})
                known[key] = schedule_of(task).first_at_or_after(first)
            advances.append({"task_id": row["id"], "effective": first, "next_fire": known[key]})
        with ctx.store.write() as q:
            for start in range(0, len(advances), _CHUNK):
                q.connection.execute(
                    update(task_table).where(task_table.c.id == bindparam("task_id"))
                    .values(effective_time=bindparam("effective"), status="STARTED",
                            next_fire_time=bindparam("next_fire")),
                    advances[start:start + _CHUNK])
        return time.perf_counter() - started


class Server:
    """``apicron serve`` in its own process, on free ports.

    ``role`` is ``serve --role``: ``all`` (API, gateway and engine in one process) by
    default; a ``scheduler`` or ``gateway`` node serves no management API, so it is also
    given an ops port (``APICRON_OPS_PORT``) whose ``/healthz`` tells it has started.
    """

    def __init__(self, group: Children, instance: Instance, log: Path,
                 env: dict[str, str] | None = None, role: str = "all"):
        self.group = group
        self.instance = instance
        self.extra_env = env or {}
        self.role = role
        self.api_port = free_port()
        self.gateway_port = free_port()
        self.ops_port = free_port() if role in ("scheduler", "gateway") else None
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_s = 0.0

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> float:
        """Start and wait until the management API answers; returns the seconds it took."""
        env = {**os.environ, **self.instance.settings_env(),
               "APICRON_API_PORT": str(self.api_port),
               "APICRON_GATEWAY_PORT": str(self.gateway_port), **self.extra_env}
        command = python_module("apicron", "serve")
        health = f"http://127.0.0.1:{self.api_port}/healthz"
        if self.role != "all":
            command += ["--role", self.role]
        if self.ops_port is not None:
            env["APICRON_OPS_PORT"] = str(self.ops_port)
            health = f"http://127.0.0.1:{self.ops_port}/healthz"
        self.process = self.group.start(command, env=env, log=self.log)
        self.startup_s = wait_http(health, self.process, f"apicron serve --role {self.role}",
                                   timeout=120)
        return self.startup_s

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=f"http://127.0.0.1:{self.api_port}", timeout=60,
                            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})

    def wake(self) -> None:
        """Start (or restart) the waker task through the REST API: the engine looks at once."""
        with self.client() as client:
            task_id = self.instance.waker_id
            if client.get(f"/v1/tasks/{task_id}").json()["status"] == "STARTED":
                client.post(f"/v1/tasks/{task_id}/stop").raise_for_status()
            client.post(f"/v1/tasks/{task_id}/start").raise_for_status()

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def stop(self) -> None:
        if self.process is not None:
            self.group.stop(self.process, timeout=30)
            self.process = None


def backend_command(port: int) -> list[str]:
    return python_module("bench.backend", port)
