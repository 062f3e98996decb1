"""``apicron.client`` against real servers: every operation through the sync client and the
async one, typed records back, typed errors with ``error_code`` and ``field``, paging."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web

from apicron.client import (
    ApiCreate,
    ApiError,
    App,
    AppCreate,
    AppUpdate,
    AsyncClient,
    Client,
    Conflict,
    Execution,
    GrantCreate,
    GroupCreate,
    InstanceUpdate,
    InvalidInput,
    NotFound,
    Page,
    PreviewRequest,
    Task,
    TaskCreate,
    TaskUpdate,
    TransportError,
    Unauthorized,
    UnexpectedResponse,
)
from apicron.client.environment import ADMIN_TOKEN_FILE
from apicron.domain import errors as domain
from tests.conftest import unique
from tests.servers import ADMIN_TOKEN, ApicronProcess
from tests.threaded_server import ThreadedServer


def test_every_operation_through_the_sync_client(server: ApicronProcess) -> None:
    with Client(server.url, ADMIN_TOKEN) as apicron:
        instance = apicron.get_instance()
        assert instance.params.app_route and instance.params.app_secret

        owner = apicron.create_app(AppCreate(name=unique("app"), description="owns"))
        assert owner.secret and owner.key and "secret" not in repr(owner)
        caller = apicron.create_app(AppCreate(name=unique("app")))
        renamed = apicron.update_app(caller.id, AppUpdate(description="calls"))
        assert isinstance(renamed, App) and renamed.description == "calls"
        assert apicron.reset_app_secret(caller.id).secret != caller.secret

        group = apicron.create_group(GroupCreate(name=unique("grp"), app_id=owner.id))
        path = f"/{unique('p')}/orders/{{region}}"
        api = apicron.create_api(ApiCreate(
            group_id=group.id, name=unique("api"), method="POST", path=path,
            backend_url="http://127.0.0.1:9/{region}",
        ), publish=True)
        assert api.published and api.app_id == owner.id and api.published_at is not None
        assert apicron.unpublish_api(api.id).published is False
        assert apicron.publish_api(api.id).published is True

        (grant,) = apicron.create_grants(GrantCreate(app_id=caller.id, api_ids=[api.id])).items
        assert [g.id for g in apicron.iter_grants(app_id=caller.id)] == [grant.id]

        task = apicron.create_task(TaskCreate(
            name=unique("task"), app_id=caller.id, api_id=api.id, trigger_type="CRON",
            cron_expression="0 0 12 ? * 6#3", timezone="Europe/Berlin",
            request={"query": [{"name": "region", "value": "eu"}]},
        ))
        assert isinstance(task, Task) and task.status == "INITIALIZED"
        assert task.schedule_description.startswith("At 12:00, on the third Friday")
        started = apicron.start_task(task.id)
        assert started.status == "STARTED" and started.next_fire_time is not None
        assert apicron.get_task(task.id).next_fire_time == started.next_fire_time
        page = apicron.list_tasks(name=task.name, status="STARTED")
        assert isinstance(page, Page) and [t.id for t in page.items] == [task.id]

        queued = apicron.run_task(task.id)
        assert isinstance(queued, Execution) and queued.trigger == "MANUAL"
        deadline = time.monotonic() + 30
        while apicron.get_execution(queued.id).status not in ("FAILED", "SUCCEEDED"):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        (execution,) = apicron.iter_executions(task.id, status="FAILED")
        assert execution.id == queued.id and execution.attempts[0].error_kind == "CONNECT"
        assert apicron.list_executions(task.id, since="2000-01-01T00:00:00Z").total == 1

        stopped = apicron.stop_task(task.id)
        updated = apicron.update_task(task.id, TaskUpdate(max_retries=3, end_time=None))
        assert (stopped.status, updated.max_retries) == ("STOPPED", 3)

        preview = apicron.preview_cron(PreviewRequest(cron_expression="0 0 12 ? * 6#3",
                                                      count=3))
        assert len(preview.next_fire_times) == 3 and "third Friday" in preview.description
        assert any(node.alive for node in apicron.list_nodes())
        assert apicron.health().status == "ok"
        assert "apicron" in apicron.metrics()

        apicron.delete_task(task.id)
        apicron.delete_grant(grant.id)
        apicron.unpublish_api(api.id)
        apicron.delete_api(api.id)
        apicron.delete_group(group.id)
        apicron.delete_app(owner.id)
        with pytest.raises(NotFound):
            apicron.get_app(owner.id)


def test_refusals_are_typed_errors_with_code_field_and_url(server: ApicronProcess) -> None:
    with Client(server.url, ADMIN_TOKEN) as apicron:
        app = apicron.create_app(AppCreate(name=unique("app")))
        group = apicron.create_group(GroupCreate(name=unique("grp"), app_id=app.id))
        api = apicron.create_api(ApiCreate(
            group_id=group.id, name=unique("api"), method="GET", path=f"/{unique('p')}",
            backend_url="http://127.0.0.1:9/x",
        ), publish=True)
        fields = {"app_id": app.id, "api_id": api.id, "trigger_type": "CRON"}

        with pytest.raises(InvalidInput) as invalid:  # a rule only the server checks
            apicron.create_task(TaskCreate(name=unique("task"), cron_expression="0 * * * *",
                                           end_time=datetime(2020, 1, 1, tzinfo=UTC),
                                           **fields))
        error = invalid.value
        assert (error.status, error.error_code, error.field) == (400, "INVALID_INPUT",
                                                                 "end_time")
        assert str(error).startswith("end_time: ")
        assert isinstance(error, domain.InvalidInput) and isinstance(error, ApiError)

        task = apicron.create_task(TaskCreate(name=unique("task"), cron_expression="0 * * * *",
                                              **fields))
        apicron.start_task(task.id)
        with pytest.raises(Conflict) as conflict:
            apicron.update_task(task.id, TaskUpdate(description="x"))
        assert conflict.value.error_code == "TASK_STARTED"
        assert isinstance(conflict.value, domain.Conflict)
        with pytest.raises(domain.Conflict):  # a domain class catches the client's error
            apicron.create_app(AppCreate(name=app.name))
        with pytest.raises(NotFound) as missing:
            apicron.get_task("0" * 32)
        assert missing.value.status == 404 and missing.value.url == server.url

    with Client(server.url, "not-the-token") as stranger, pytest.raises(Unauthorized) as refused:
        stranger.list_apps()
    assert refused.value.url == server.url and "not the admin token" in str(refused.value)
    assert "not-the-token" not in repr(stranger)

    nowhere = Client("http://127.0.0.1:9", ADMIN_TOKEN)
    with nowhere, pytest.raises(TransportError) as down:
        nowhere.get_instance()
    assert str(down.value).startswith("cannot reach apicron at http://127.0.0.1:9")


class HtmlServer(ThreadedServer):
    """Not apicron: a page of HTML with status 200 for every path (a proxy's login page)."""

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        return web.Response(text="<html>sign in</html>", content_type="text/html")


def test_an_answer_that_is_not_apicrons_is_said_so() -> None:
    html = HtmlServer().start()
    try:
        with Client(f"http://127.0.0.1:{html.port}", ADMIN_TOKEN) as apicron, pytest.raises(
            UnexpectedResponse
        ) as wrong:
            apicron.list_tasks()
    finally:
        html.stop()
    assert "answered HTTP 200 (text/html" in str(wrong.value)
    assert "is the URL an apicron management API" in str(wrong.value)


def test_iter_walks_every_page(server: ApicronProcess) -> None:
    prefix = unique("pg")
    with Client(server.url, ADMIN_TOKEN, page_size=2) as apicron:
        made = {apicron.create_app(AppCreate(name=f"{prefix}_{i}")).id for i in range(5)}
        assert {a.id for a in apicron.iter_apps(name=prefix)} == made
        assert len(list(apicron.iter_apps(name=prefix, offset=3))) == 2
        assert apicron.list_apps(name=prefix, limit=2).total == 5
    with pytest.raises(ValueError, match="page_size"):
        Client(server.url, ADMIN_TOKEN, page_size=501)


def test_the_async_client_has_the_same_operations(server: ApicronProcess) -> None:
    async def scenario() -> dict[str, Any]:
        async with AsyncClient(server.url, ADMIN_TOKEN, page_size=1) as apicron:
            app = await apicron.create_app(AppCreate(name=unique("app")))
            name = unique("grp")
            group = await apicron.create_group(GroupCreate(name=name, app_id=app.id))
            found = [g async for g in apicron.iter_groups(app_id=app.id)]
            zone = (await apicron.get_instance()).timezone
            with pytest.raises(NotFound):
                await apicron.get_group("0" * 32)
            both = await asyncio.gather(apicron.get_app(app.id), apicron.get_group(group.id))
            return {"found": [g.id for g in found], "group": group.id, "zone": zone,
                    "names": [both[0].name, both[1].name], "app": app.name}

    result = asyncio.run(scenario())
    assert result["found"] == [result["group"]] and result["zone"]
    assert result["names"][0] == result["app"]


def test_update_instance_changes_only_what_is_given(fresh_server: ApicronProcess) -> None:
    with Client(fresh_server.url, ADMIN_TOKEN) as apicron:
        changed = apicron.update_instance(InstanceUpdate(timezone="Asia/Tokyo"))
        assert (changed.timezone, changed.name) == ("Asia/Tokyo", "apicron")
        assert changed.params.app_route and changed.params.app_secret


def test_from_env_finds_the_url_and_token(server: ApicronProcess,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APICRON_URL", server.url)
    monkeypatch.setenv("APICRON_TOKEN", ADMIN_TOKEN)
    with Client.from_env() as apicron:
        assert apicron.url == server.url and apicron.get_instance().name
    monkeypatch.delenv("APICRON_TOKEN")
    monkeypatch.delenv("APICRON_ADMIN_TOKEN", raising=False)
    monkeypatch.setenv("APICRON_DATA_DIR", str(server.data_dir / "nothing-here"))
    with pytest.raises(domain.ApicronError, match=r"no token for http://127\.0\.0\.1:"):
        Client.from_env()


def test_the_token_file_name_is_the_servers() -> None:
    from apicron.crypto import TOKEN_FILE

    assert ADMIN_TOKEN_FILE == TOKEN_FILE


SERVER_MODULES = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "aiohttp",
                  "cryptography", "jinja2", "prometheus_client", "psycopg")


def test_the_client_and_the_cli_import_nothing_of_the_server() -> None:
    probe = (
        "import sys, apicron.client, apicron.cli.main, apicron.declarative\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({SERVER_MODULES!r})))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('apicron.api', 'apicron.server', "
        "'apicron.services', 'apicron.store', 'apicron.engine', 'apicron.gateway', "
        "'apicron.console'))))"
    )
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           timeout=60, check=True)
    assert shown.stdout.splitlines() == ["[]", "[]"]


def test_the_cli_starts_without_building_the_records() -> None:
    # Shell completion runs the program at every TAB: its start must stay light. Building
    # the domain's pydantic models and importing httpx waits until a command needs them.
    probe = (
        "import sys, apicron.cli.main\n"
        "print(sorted(m for m in ('apicron.domain.models', 'httpx', 'yaml', 'pydantic', "
        "'apicron.declarative', 'apicron.triggers') if m in sys.modules))"
    )
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                           timeout=60, check=True)
    assert shown.stdout.strip() == "[]"
