"""The CLI and apply/export for channels, alert rules and success conditions (issue 14),
against a real server: ``apicron channel …``, ``apicron task create --alert-…``,
``apicron alert list``, and ``kind: Channel`` documents whose URL and secret stay in the
environment."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.alert_helpers import WebhookReceiver
from tests.conftest import World, unique
from tests.servers import ApicronProcess
from tests.test_apply import apicron


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    made = WebhookReceiver().start()
    yield made
    made.stop()


def test_channels_and_task_alert_options_from_the_cli(
    server: ApicronProcess, receiver: WebhookReceiver
) -> None:
    name = unique("cli-hook")
    created = apicron(server, "channel", "create", name, "--kind", "webhook", "--url",
                      receiver.url)
    assert created.returncode == 0, created.stderr
    channel = json.loads(created.stdout)
    assert channel["url"] == f"http://127.0.0.1:{receiver.port}/****"
    assert "shown only now" in created.stderr
    receiver.state.secret = channel["secret"]
    listed = apicron(server, "channel", "list")
    assert name in listed.stdout and receiver.url not in listed.stdout
    assert channel["secret"] not in listed.stdout
    tested = apicron(server, "channel", "test", name)
    assert tested.returncode == 0, tested.stderr
    assert receiver.events() == ["TEST"] and receiver.state.deliveries[0].signed

    with server.client() as client:
        world = World(client)
        app, api = world.setup()
    task_name = unique("cli-task")
    made = apicron(server, "task", "create", task_name, "--app", app["name"], "--api",
                   api["name"], "--cron", "0 0 12 ? * 6#3", "--success-jmespath", "status",
                   "--success-equals", '"ok"', "--alert-channel", name, "--alert-after", "3",
                   "--auto-stop-after", "5", "--alert-on-missed")
    assert made.returncode == 0, made.stderr
    task = json.loads(made.stdout)
    assert task["success"]["jmespath"] == "status" and task["success"]["equals"] == "ok"
    assert task["alerts"] == {**task["alerts"], "channel_ids": [channel["id"]],
                              "on_failure_after": 3, "auto_stop_after": 5, "on_missed": True}
    changed = apicron(server, "task", "update", task_name, "--no-failure-alert",
                      "--alert-repeat-every", "600")
    assert changed.returncode == 0, changed.stderr
    rules = json.loads(changed.stdout)["alerts"]
    assert rules["on_failure_after"] is None and rules["repeat_every_s"] == 600
    assert rules["auto_stop_after"] == 5  # the other rules kept
    refused = apicron(server, "task", "update", task_name, "--success-jmespath", "a[")
    assert refused.returncode == 1 and "success.jmespath" in refused.stderr
    cleared = apicron(server, "task", "update", task_name, "--no-alerts", "--no-success")
    assert json.loads(cleared.stdout)["alerts"] is None
    deleted = apicron(server, "channel", "delete", name, "--yes")  # no rule names it now
    assert deleted.returncode == 0, deleted.stderr

    alerts = apicron(server, "alert", "list", "--status", "sent")
    assert alerts.returncode == 0, alerts.stderr


def test_a_channel_document_takes_its_url_from_the_environment_and_exports_none(
    fresh_server: ApicronProcess, tmp_path: Path, receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = unique("filehook")
    document = (f"kind: Channel\nname: {name}\ntype: webhook\nurl_env: ONCALL_URL\n"
                "secret_env: ONCALL_SECRET\ndescription: from a file\n")
    (tmp_path / "channels.yaml").write_text(document)
    missing = apicron(fresh_server, "apply", "-f", "channels.yaml", cwd=tmp_path)
    assert missing.returncode != 0 and "ONCALL_URL" in missing.stderr
    secret = "s3cret-from-the-environment-0123456789"
    monkeypatch.setenv("ONCALL_URL", receiver.url)
    monkeypatch.setenv("ONCALL_SECRET", secret)
    applied = apicron(fresh_server, "apply", "-f", "channels.yaml", cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert f"+ Channel {name}" in applied.stdout
    again = apicron(fresh_server, "apply", "-f", "channels.yaml", cwd=tmp_path)
    assert again.stdout == "no changes\n"
    receiver.state.secret = secret
    assert apicron(fresh_server, "channel", "test", name).returncode == 0
    assert receiver.state.deliveries[0].signed  # the secret came from the environment
    exported = apicron(fresh_server, "export")
    assert exported.returncode == 0, exported.stderr
    assert receiver.url not in exported.stdout and secret not in exported.stdout
    key = name.upper().replace("-", "_")
    assert f"url_env: APICRON_CHANNEL_{key}_URL" in exported.stdout
    assert "kind: Channel" in exported.stdout
    assert "ONCALL" not in os.environ.get("APICRON_URL", "")
