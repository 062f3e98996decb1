"""Issue 18 through the CLI as real processes: tags on create/update/list, a stop note,
clone, and bulk start/stop with a dry run and a confirmation."""

from __future__ import annotations

import json

from tests.conftest import World, unique
from tests.servers import ApicronProcess
from tests.test_cli import cli, ok, refused


def test_tags_on_create_update_and_list(server: ApicronProcess, world: World) -> None:
    app, api = world.setup()
    name, mark = unique("cli"), unique("m")
    made = ok(server, "task", "create", name, "--app", app["name"], "--api", api["name"],
              "--cron", "0 0 12 ? * 6#3", "--tag", "env=prod", "--tag", f"run={mark}")
    assert made["tags"] == {"env": "prod", "run": mark}
    changed = ok(server, "task", "update", name, "--tag", "env=dev", "--untag", "run",
                 "--tag", "tier=2")
    assert changed["tags"] == {"env": "dev", "tier": "2"}
    world.task(app, api, tags={"env": "dev"})
    listed = ok(server, "task", "list", "--tag", "env=dev", "--tag", "tier=2", "--json")
    assert [t["name"] for t in listed["items"]] == [name]
    table = cli(server, "task", "list", "--tag", "tier=2", "--name", name)
    assert table.returncode == 0 and "env=dev,tier=2" in table.stdout, table.stdout
    assert ok(server, "task", "update", name, "--no-tags")["tags"] == {}
    line = refused(server, 1, "task", "update", name, "--tag", "bad key=x")
    assert "tags.bad key" in line
    assert refused(server, 2, "task", "list", "--tag", "novalue").startswith(
        "apicron: error: --tag")


def test_stop_with_a_note_shows_it_in_the_list(server: ApicronProcess, world: World) -> None:
    task = world.task(*world.setup())
    world.ok(world.client.post(f"/v1/tasks/{task['id']}/start"))
    stopped = ok(server, "task", "stop", task["name"], "--note", "paused: migration")
    assert stopped["stop_reason"] == "paused: migration"
    table = cli(server, "task", "list", "--name", task["name"])
    assert "paused: migration" in table.stdout, table.stdout


def test_clone(server: ApicronProcess, world: World) -> None:
    task = world.task(*world.setup(), tags={"env": "prod"}, max_retries=3)
    name = unique("copy")
    copy = ok(server, "task", "clone", task["name"], name)
    assert (copy["name"], copy["status"], copy["tags"], copy["max_retries"]) == (
        name, "INITIALIZED", {"env": "prod"}, 3)


def test_bulk_start_asks_first_dry_run_changes_nothing_yes_does_it(
    server: ApicronProcess, world: World
) -> None:
    owned = world.setup()
    mark = unique("b")
    made = [world.task(*owned, tags={"batch": mark}) for _ in range(2)]

    def statuses() -> set[str]:
        return {world.ok(world.client.get(f"/v1/tasks/{t['id']}"))["status"] for t in made}

    dry = cli(server, "task", "bulk-start", "--tag", f"batch={mark}", "--dry-run")
    assert dry.returncode == 0 and dry.stdout.count("WOULD_CHANGE") == 2, dry.stdout
    assert statuses() == {"INITIALIZED"}
    asked = cli(server, "task", "bulk-start", "--tag", f"batch={mark}")  # empty stdin: "no"
    assert asked.returncode == 1 and "Start 2 task(s)?" in asked.stderr, asked.stderr
    assert statuses() == {"INITIALIZED"}
    done = cli(server, "task", "bulk-start", "--tag", f"batch={mark}", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["changed"] == 2 and statuses() == {"STARTED"}
    stopped = ok(server, "task", "bulk-stop", "--tag", f"batch={mark}", "--note", "freeze",
                 "--yes", "--json")
    assert stopped["changed"] == 2 and statuses() == {"STOPPED"}
    assert {i["name"] for i in stopped["items"]} == {t["name"] for t in made}


def test_bulk_failures_exit_1_naming_them(server: ApicronProcess, world: World) -> None:
    app, api = world.setup()
    other = world.api(world.group(app))
    mark = unique("b")
    world.task(app, api, tags={"batch": mark})
    bad = world.task(app, other, tags={"batch": mark})
    world.ok(world.client.post(f"/v1/apis/{other['id']}/unpublish"))
    result = cli(server, "task", "bulk-start", "--tag", f"batch={mark}", "--yes")
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert bad["name"] in result.stdout and "FAILED" in result.stdout
    assert "1 of 2 task(s) could not be started" in result.stderr
    world.ok(world.client.post("/v1/tasks/bulk/stop",
                               json={"filter": {"tags": {"batch": mark}}}))


def test_bulk_without_a_filter_is_refused(server: ApicronProcess) -> None:
    line = refused(server, 1, "task", "bulk-stop", "--yes")
    assert "filter" in line and "at least one" in line
