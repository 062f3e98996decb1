"""Every refusal the server would give part-way through an apply is given by the plan,
in the dry run and the real run alike, with the same message, and nothing changes (issue
19 trial). One file holds one problem per document, so two CLI runs cover them all."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.conftest import unique
from tests.servers import ApicronProcess
from tests.test_access_cli import run
from tests.test_apply import apicron


def _refused_alike(server: ApicronProcess, tmp_path: Path, text: str,
                   token: str | None = None) -> list[str]:
    """The problem lines of a dry run and a real run, which must be the same, with
    nothing changed by either."""
    (tmp_path / "f.yaml").write_text(text)
    with server.client() as client:
        before = client.get("/v1/audit", params={"limit": 1}).json()["total"]
    outputs = []
    for options in (("--dry-run",), ()):
        if token is None:
            result = apicron(server, "apply", "-f", "f.yaml", *options, cwd=tmp_path)
        else:
            result = run(server, "apply", "-f", str(tmp_path / "f.yaml"), *options,
                         token=token)
        assert result.returncode == 1, result.stdout
        assert result.stdout == ""
        assert result.stderr.splitlines()[-1] == "nothing was changed"
        outputs.append(result.stderr.splitlines()[:-1])
    assert outputs[0] == outputs[1]
    with server.client() as client:
        assert client.get("/v1/audit", params={"limit": 1}).json()["total"] == before
    return outputs[0]


def test_the_server_rules_on_tasks_and_apis_are_checked_before_anything_changes(
    server: ApicronProcess, tmp_path: Path
) -> None:
    a, b, g = unique("owner"), unique("other"), unique("grp")
    none_api, app_api, draft, twin = (unique("open"), unique("signed"), unique("draft"),
                                      unique("twin"))
    route = f"/{unique('route')}"
    t = {k: unique(k) for k in ("notcallable", "notgranted", "unpublished", "ended",
                                 "bodyonget", "nochannel", "stale", "both")}
    text = f"""\
kind: App
name: {a}
---
kind: App
name: {b}
---
kind: Group
name: {g}
app: {a}
---
kind: Api
name: {none_api}
group: {g}
method: GET
path: {route}
auth_type: NONE
backend_url: http://127.0.0.1:9/x
---
kind: Api
name: {app_api}
group: {g}
method: POST
path: {route}/signed
backend_url: http://127.0.0.1:9/x
---
kind: Api
name: {draft}
group: {g}
method: GET
path: {route}/draft
backend_url: http://127.0.0.1:9/x
published: false
---
kind: Api
name: {twin}
group: {g}
method: GET
path: {route}
backend_url: http://127.0.0.1:9/y
---
kind: Task
name: {t['notcallable']}
app: {b}
api: {g}/{none_api}
trigger_type: CRON
cron_expression: 0 0 2 * * ?
---
kind: Task
name: {t['notgranted']}
app: {b}
api: {g}/{app_api}
trigger_type: CRON
cron_expression: 0 0 2 * * ?
---
kind: Task
name: {t['unpublished']}
app: {a}
api: {g}/{draft}
trigger_type: CRON
cron_expression: 0 0 2 * * ?
---
kind: Task
name: {t['ended']}
app: {a}
api: {g}/{none_api}
effective_time: '2020-01-01T00:00:00Z'
end_time: '2020-06-01T00:00:00Z'
trigger_type: CRON
cron_expression: 0 0 2 * * ?
---
kind: Task
name: {t['bodyonget']}
app: {a}
api: {g}/{none_api}
trigger_type: CRON
cron_expression: 0 0 2 * * ?
request:
  body:
    content_type: application/text
    content: hello
---
kind: Task
name: {t['nochannel']}
app: {a}
api: {g}/{none_api}
trigger_type: CRON
cron_expression: 0 0 2 * * ?
alerts:
  channel_ids: [no-such-channel]
---
kind: Task
name: {t['stale']}
app: {a}
api: {g}/{none_api}
trigger_type: AT
run_at: '2099-01-01T00:00:00Z'
expired: true
---
kind: Task
name: {t['both']}
app: {a}
api: {g}/{none_api}
trigger_type: AT
run_at: '2099-01-01T00:00:00Z'
expired: true
started: false
"""
    lines = _refused_alike(server, tmp_path, text)

    def at(index: int, kind: str, name: str) -> str:
        line = text.splitlines().index(f"name: {name}")
        return f"apicron: error: f.yaml: document {index} (line {line}), {kind} {name!r}: "

    expected = [
        at(15, "Task", t["both"]) + "started: an expired task has nothing left to fire: leave "
        "started out (its state is left as it is)",
        at(7, "Api", twin) + f"path: API {none_api!r} ({at(4, 'Api', none_api)[16:-2]}) "
        f"already serves GET {route}; unpublish it or choose another method or path",
        at(8, "Task", t["notcallable"]) + f"api: API {none_api!r} belongs to another "
        "integration app and uses NONE authentication; a task can only call another app's "
        "API when it uses APP authentication",
        at(9, "Task", t["notgranted"]) + f"api: integration app {b!r} holds no grant for API "
        f"{app_api!r}, which belongs to another app; grant it first (POST /v1/app-auths)",
        at(10, "Task", t["unpublished"]) + f"api: API {draft!r} is not published; publish it "
        "first",
        at(11, "Task", t["ended"]) + "end_time: is in the past (2020-06-01T00:00:00Z); a task "
        "never fires after its end_time: set a later one, or none",
        at(12, "Task", t["bodyonget"]) + "request.body: a body can only be sent with POST, PUT "
        "or PATCH; the API's method is GET",
        at(13, "Task", t["nochannel"]) + "alerts.channel_ids[0]: no channel with id "
        "'no-such-channel' (see GET /v1/channels)",
        at(14, "Task", t["stale"]) + "expired: is true, but the task fires again; leave "
        "expired out to create it",
    ]
    assert lines == expected


def test_the_role_of_whoever_applies_is_checked_before_anything_changes(
    server: ApicronProcess, tmp_path: Path
) -> None:
    with server.client() as root:
        user = root.post("/v1/users", json={"username": unique("op"), "role": "operator"})
        assert user.status_code == 201, user.text
        token = root.post(f"/v1/users/{user.json()['id']}/tokens",
                          json={"name": "apply"}).json()["token"]
    app, group = unique("app"), unique("grp")
    text = f"kind: Calendar\nname: {unique('cal')}\n---\nkind: App\nname: {app}\n---\n" \
           f"kind: Group\nname: {group}\napp: {app}\n"
    lines = _refused_alike(server, tmp_path, text, token=token)
    assert len(lines) == 1, lines
    assert lines[0].startswith("apicron: error: ")
    assert f"f.yaml: document 2 (line 4), App {app!r}: create App {app}: this action needs "\
           "the admin role" in lines[0]
    assert lines[0].endswith("has the operator role")
    # What the operator may do, they may: the same file, naming an app that exists.
    (tmp_path / "f.yaml").write_text(text.replace(f"kind: App\nname: {app}\n---\n", "")
                                     .replace(f"app: {app}", "app: " + _an_app(server)))
    done = run(server, "apply", "-f", str(tmp_path / "f.yaml"), token=token)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "applied: 2 created, 0 changed, 0 deleted"


def _an_app(server: ApicronProcess) -> str:
    name = unique("app")
    with server.client() as root:
        assert root.post("/v1/apps", json={"name": name}).status_code == 201
    return name


def test_alert_channels_are_named_in_files_and_exports(
    server: ApicronProcess, tmp_path: Path
) -> None:
    channel, app, group, api, task = (unique("chan"), unique("app"), unique("grp"),
                                      unique("api"), unique("alerted"))
    with server.client() as root:
        made = root.post("/v1/channels", json={"name": channel, "kind": "webhook",
                                               "url": "http://127.0.0.1:9/hook"})
        assert made.status_code == 201, made.text
    text = f"""\
kind: App
name: {app}
---
kind: Group
name: {group}
app: {app}
---
kind: Api
name: {api}
group: {group}
method: GET
path: /{unique('alerted')}
backend_url: http://127.0.0.1:9/x
---
kind: Task
name: {task}
app: {app}
api: {group}/{api}
trigger_type: CRON
cron_expression: 0 0 2 * * ?
alerts:
  channels: [{channel}]
  on_failure_after: 2
"""
    (tmp_path / "f.yaml").write_text(text)
    first = apicron(server, "apply", "-f", "f.yaml", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    with server.client() as root:
        (stored,) = [t for t in root.get("/v1/tasks", params={"name": task}).json()["items"]
                     if t["name"] == task]
    assert stored["alerts"]["channel_ids"] == [made.json()["id"]]
    assert stored["alerts"]["on_failure_after"] == 2
    again = apicron(server, "apply", "-f", "f.yaml", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == "no changes\n", again.stdout

    exported = apicron(server, "export")
    assert exported.returncode == 0, exported.stderr
    (document,) = [d for d in yaml.safe_load_all(exported.stdout)
                   if d.get("kind") == "Task" and d.get("name") == task]
    assert document["alerts"]["channels"] == [channel]
    assert "channel_ids" not in document["alerts"]

    # A channel named that neither the files nor the instance have is refused at its field.
    missing = unique("nochan")
    (tmp_path / "f.yaml").write_text(text.replace(f"channels: [{channel}]",
                                                  f"channels: [{missing}]"))
    line = text.splitlines().index(f"name: {task}")
    assert _refused_alike(server, tmp_path, (tmp_path / "f.yaml").read_text()) == [
        f"apicron: error: f.yaml: document 4 (line {line}), Task {task!r}: alerts.channels[0]: "
        f"no Channel named {missing!r} in the files or the instance"]


def test_the_missing_kind_message_names_every_kind_apply_knows() -> None:
    from apicron.declarative.documents import KIND_NAMES, _parse
    from apicron.declarative.kinds import KINDS

    assert tuple(kind.name for kind in KINDS) == KIND_NAMES
    [(document, problem)] = _parse("f.yaml", "name: x\n")
    assert document is None and problem is not None
    assert "Channel, Calendar" in problem.message
