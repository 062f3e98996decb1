"""The OpenAPI document as a reader and a generator see it: stable readable operationIds, a
summary and description for every operation, a description for every schema, field and
parameter, a working example for every request body, PUT semantics stated, and a
TypeScript client generated from ``/openapi.json`` that compiles with strict ``tsc``.

The generator is ``@hey-api/openapi-ts`` (npm; ``openapi-generator-cli`` downloads its Java
generator from Maven Central at first use, which this project's machines cannot reach);
``tests/openapi_client/`` pins it and TypeScript, installed by ``scripts/test.sh``."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from apicron.domain.accounts import MeUpdate, TokenCreate, UserCreate, UserUpdate
from apicron.domain.alerting import ChannelCreate, ChannelUpdate
from apicron.domain.backfill import BackfillRequest
from apicron.domain.calendars import CalendarCreate, CalendarUpdate
from apicron.domain.models import (
    ApiCreate,
    ApiUpdate,
    AppCreate,
    AppUpdate,
    GrantCreate,
    GroupCreate,
    GroupUpdate,
    InstanceUpdate,
    PreviewRequest,
    TaskCreate,
    TaskUpdate,
)
from apicron.domain.task_actions import BulkAction, TaskClone, TaskStop
from tests.servers import ApicronProcess

TOOLS = Path(__file__).resolve().parent / "openapi_client"

# The contract's operations and their ids: clients are generated with these names, so a
# change here breaks every generated client (say so in the CHANGELOG).
OPERATIONS = {
    ("get", "/livez"): "getLiveness",
    ("get", "/readyz"): "getReadiness",
    ("get", "/healthz"): "getHealth",
    ("get", "/metrics"): "getMetrics",
    ("get", "/v1/instance"): "getInstance",
    ("put", "/v1/instance"): "updateInstance",
    ("post", "/v1/apps"): "createApp",
    ("get", "/v1/apps"): "listApps",
    ("get", "/v1/apps/{app_id}"): "getApp",
    ("put", "/v1/apps/{app_id}"): "updateApp",
    ("delete", "/v1/apps/{app_id}"): "deleteApp",
    ("post", "/v1/apps/{app_id}/reset-secret"): "resetAppSecret",
    ("post", "/v1/api-groups"): "createApiGroup",
    ("get", "/v1/api-groups"): "listApiGroups",
    ("get", "/v1/api-groups/{group_id}"): "getApiGroup",
    ("put", "/v1/api-groups/{group_id}"): "updateApiGroup",
    ("delete", "/v1/api-groups/{group_id}"): "deleteApiGroup",
    ("post", "/v1/apis"): "createApi",
    ("get", "/v1/apis"): "listApis",
    ("get", "/v1/apis/{api_id}"): "getApi",
    ("put", "/v1/apis/{api_id}"): "updateApi",
    ("delete", "/v1/apis/{api_id}"): "deleteApi",
    ("post", "/v1/apis/{api_id}/publish"): "publishApi",
    ("post", "/v1/apis/{api_id}/unpublish"): "unpublishApi",
    ("post", "/v1/app-auths"): "createAppAuths",
    ("get", "/v1/app-auths"): "listAppAuths",
    ("delete", "/v1/app-auths/{grant_id}"): "deleteAppAuth",
    ("post", "/v1/tasks"): "createTask",
    ("get", "/v1/tasks"): "listTasks",
    ("get", "/v1/tasks/{task_id}"): "getTask",
    ("put", "/v1/tasks/{task_id}"): "updateTask",
    ("delete", "/v1/tasks/{task_id}"): "deleteTask",
    ("post", "/v1/tasks/{task_id}/start"): "startTask",
    ("post", "/v1/tasks/{task_id}/stop"): "stopTask",
    ("post", "/v1/tasks/bulk/start"): "bulkStartTasks",
    ("post", "/v1/tasks/bulk/stop"): "bulkStopTasks",
    ("post", "/v1/tasks/{task_id}/clone"): "cloneTask",
    ("post", "/v1/tasks/{task_id}/run"): "runTask",
    ("get", "/v1/tasks/{task_id}/executions"): "listTaskExecutions",
    ("get", "/v1/executions/{execution_id}"): "getExecution",
    ("post", "/v1/cron/preview"): "previewCron",
    ("get", "/v1/nodes"): "listNodes",
    ("post", "/v1/channels"): "createChannel",
    ("get", "/v1/channels"): "listChannels",
    ("get", "/v1/channels/{channel_id}"): "getChannel",
    ("put", "/v1/channels/{channel_id}"): "updateChannel",
    ("delete", "/v1/channels/{channel_id}"): "deleteChannel",
    ("post", "/v1/channels/{channel_id}/test"): "testChannel",
    ("post", "/v1/calendars"): "createCalendar",
    ("get", "/v1/calendars"): "listCalendars",
    ("get", "/v1/calendars/{calendar_id}"): "getCalendar",
    ("put", "/v1/calendars/{calendar_id}"): "updateCalendar",
    ("delete", "/v1/calendars/{calendar_id}"): "deleteCalendar",
    ("get", "/v1/alerts"): "listAlerts",
    ("post", "/v1/users"): "createUser",
    ("get", "/v1/users"): "listUsers",
    ("get", "/v1/users/{user_id}"): "getUser",
    ("put", "/v1/users/{user_id}"): "updateUser",
    ("delete", "/v1/users/{user_id}"): "deleteUser",
    ("post", "/v1/users/{user_id}/tokens"): "createToken",
    ("get", "/v1/users/{user_id}/tokens"): "listTokens",
    ("delete", "/v1/tokens/{token_id}"): "revokeToken",
    ("get", "/v1/me"): "getMe",
    ("put", "/v1/me"): "updateMe",
    ("get", "/v1/audit"): "listAudit",
    ("post", "/v1/tasks/{task_id}/backfill"): "backfillTask",
    ("post", "/v1/executions/{execution_id}/replay"): "replayExecution",
}

# The model each request body is read into: its example must be one (rules included).
BODIES: dict[str, type[BaseModel]] = {
    "updateInstance": InstanceUpdate, "createApp": AppCreate, "updateApp": AppUpdate,
    "createApiGroup": GroupCreate, "updateApiGroup": GroupUpdate, "createApi": ApiCreate,
    "updateApi": ApiUpdate, "createAppAuths": GrantCreate, "createTask": TaskCreate,
    "updateTask": TaskUpdate, "previewCron": PreviewRequest, "createChannel": ChannelCreate,
    "updateChannel": ChannelUpdate, "createUser": UserCreate, "updateUser": UserUpdate,
    "createToken": TokenCreate, "updateMe": MeUpdate, "backfillTask": BackfillRequest,
    # Issue 18
    "stopTask": TaskStop, "cloneTask": TaskClone, "bulkStartTasks": BulkAction,
    "bulkStopTasks": BulkAction,
    "createCalendar": CalendarCreate, "updateCalendar": CalendarUpdate,
}


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApicronProcess]:
    process = ApicronProcess(tmp_path_factory.mktemp("openapi")).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def document(instance: ApicronProcess) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(f"{instance.url}/openapi.json").json()
    return answer


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def example(operation: dict[str, Any]) -> Any:
    return operation["requestBody"]["content"]["application/json"]["example"]


def test_every_operation_has_its_stable_readable_id(document: dict[str, Any]) -> None:
    found = {(method, path): op["operationId"] for method, path, op in operations(document)}
    assert found == OPERATIONS
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)+", name) for name in found.values())


def test_every_operation_has_a_summary_and_a_description(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        assert len(operation.get("summary", "")) >= 8, (method, path)
        assert len(operation.get("description", "")) >= 20, (method, path)


def test_every_schema_field_and_parameter_is_described(document: dict[str, Any]) -> None:
    missing = []
    for name, schema in document["components"]["schemas"].items():
        if not schema.get("description"):
            missing.append(name)
        missing += [f"{name}.{field}" for field, prop in schema.get("properties", {}).items()
                    if not prop.get("description")]
    for method, path, operation in operations(document):
        missing += [f"{method} {path} {parameter['name']}"
                    for parameter in operation.get("parameters", [])
                    if not parameter.get("description")]
    assert missing == [], "\n".join(missing)


def test_put_says_it_changes_only_the_fields_given(document: dict[str, Any]) -> None:
    assert "PUT changes only the fields given" in document["info"]["description"]
    puts = [op for method, _, op in operations(document) if method == "put"]
    assert len(puts) == 9
    for operation in puts:
        assert operation["summary"].endswith("(only the fields given)"), operation["summary"]


def test_every_request_body_has_an_example_its_model_accepts(
    document: dict[str, Any],
) -> None:
    with_body = {op["operationId"]: op for _, _, op in operations(document)
                 if "requestBody" in op}
    assert set(with_body) == set(BODIES)
    for name, operation in with_body.items():
        BODIES[name].model_validate(example(operation))


def test_the_examples_work_against_a_real_server(
    instance: ApicronProcess, document: dict[str, Any]
) -> None:
    """The create examples, chained with the ids the server gives, as a reader would."""
    by_id = {op["operationId"]: op for _, _, op in operations(document)}
    with instance.client() as client:
        def post(path: str, name: str, **ids: Any) -> dict[str, Any]:
            answer = client.post(path, json={**example(by_id[name]), **ids})
            assert answer.status_code in (200, 201), (name, answer.text)
            result: dict[str, Any] = answer.json()
            return result

        app = post("/v1/apps", "createApp")
        group = post("/v1/api-groups", "createApiGroup", app_id=app["id"])
        api = post("/v1/apis", "createApi", group_id=group["id"])
        assert api["published"]
        task = post("/v1/tasks", "createTask", app_id=app["id"], api_id=api["id"])
        put = client.put(f"/v1/tasks/{task['id']}", json=example(by_id["updateTask"]))
        assert put.status_code == 200, put.text
        assert post("/v1/cron/preview", "previewCron")["next_fire_times"]
        instance_put = client.put("/v1/instance", json=example(by_id["updateInstance"]))
        assert instance_put.status_code == 200, instance_put.text
        channel = post("/v1/channels", "createChannel")
        channel_put = client.put(f"/v1/channels/{channel['id']}",
                                 json=example(by_id["updateChannel"]))
        assert channel_put.status_code == 200, channel_put.text
        calendar = post("/v1/calendars", "createCalendar")
        calendar_put = client.put(f"/v1/calendars/{calendar['id']}",
                                  json=example(by_id["updateCalendar"]))
        assert calendar_put.status_code == 200, calendar_put.text


def _tool(name: str) -> str:
    path = TOOLS / "node_modules" / ".bin" / name
    if not path.exists():
        pytest.fail(f"{path} is missing: scripts/test.sh installs it (npm ci in {TOOLS})")
    return str(path)


def _generate(document_url: str, work: Path) -> None:
    generated = subprocess.run(
        [_tool("openapi-ts"), "-i", document_url, "-o", str(work / "gen"),
         "-c", "@hey-api/client-fetch", "--no-log-file", "--silent"],
        cwd=work, capture_output=True, text=True, timeout=300, check=False,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr


def _compile(work: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([_tool("tsc"), "-p", str(work / "tsconfig.json")], cwd=work,
                          capture_output=True, text=True, timeout=300, check=False)


def test_a_typescript_client_generated_from_the_document_compiles(
    instance: ApicronProcess, tmp_path: Path
) -> None:
    (tmp_path / "openapi.json").write_text(httpx.get(f"{instance.url}/openapi.json").text)
    _generate(str(tmp_path / "openapi.json"), tmp_path)
    sdk = (tmp_path / "gen" / "sdk.gen.ts").read_text()
    for name in OPERATIONS.values():
        assert f"export const {name} =" in sdk, name
    for name in ("usage.ts", "tsconfig.json"):
        shutil.copy(TOOLS / name, tmp_path / name)
    compiled = _compile(tmp_path)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr

    # The types are real: a body without its trigger and a misnamed path parameter fail.
    (tmp_path / "usage.ts").write_text(
        (TOOLS / "usage.ts").read_text()
        .replace("trigger_type: 'CRON',", "")
        .replace("startTask({ client, path: { task_id:", "startTask({ client, path: { taskId:")
    )
    refused = _compile(tmp_path)
    assert refused.returncode != 0
    assert "trigger_type" in refused.stdout and "taskId" in refused.stdout, refused.stdout
