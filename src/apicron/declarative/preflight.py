"""Checks of a whole plan that no single document can make: what the server would refuse
part-way through an apply, refused while planning instead, so that a dry run says it and a
real apply changes nothing (issue 19 trial: a dry run passed, the apply failed after 16 of
19 changes).

- :func:`check_routes`: two published APIs may not serve the same method and path (the
  service's ``_publish``), simulated in the order the steps run.
- :func:`check_roles`: the role of whoever applies must hold each kind's permission (the
  services' ``ctx.require``, :mod:`apicron.domain.access`).

Task rules are in :mod:`apicron.declarative.kinds.task_checks`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apicron.declarative.kinds.base import Declared, Planning, Step
from apicron.domain.access import Actor, Permission, require
from apicron.domain.errors import ApicronError
from apicron.domain.rules import route_key

# The permission each kind's writes need (the services' first line).
PERMISSIONS = {
    "App": Permission.APPS, "Group": Permission.APIS, "Api": Permission.APIS,
    "Grant": Permission.GRANTS, "Channel": Permission.CHANNELS,
    "Calendar": Permission.CALENDARS, "Task": Permission.TASKS, "User": Permission.USERS,
}


def check_routes(apis: Sequence[Declared[Any]], planning: Planning) -> None:
    """Refuse each API document whose published route another published API holds at the
    moment its step runs (instance APIs keep theirs unless a document before changes it)."""
    current: dict[str, Any] = planning.world.objects.get("Api", {})
    holders: dict[str, tuple[str, str]] = {}  # route -> (key, how the message names it)
    routes: dict[str, str] = {}  # key -> its route
    for key, api in current.items():
        if api.published:
            route = route_key(api.method, api.path)
            holders[route] = (key, f"API {api.name!r} ({api.id})")
            routes[key] = route
    for item in apis:
        spec, key = item.spec, item.key
        old = routes.pop(key, None)
        if old is not None and holders.get(old, ("",))[0] == key:
            del holders[old]
        if not spec.published:
            continue
        route = route_key(spec.method, spec.path)
        holder = holders.get(route)
        if holder is not None and holder[0] != key:
            planning.refuse(item.document, f"path: {holder[1]} already serves {spec.method} "
                            f"{spec.path}; unpublish it or choose another method or path")
            continue
        holders[route] = (key, f"API {spec.name!r} ({item.document.where()})")
        routes[key] = route


def check_roles(steps: Sequence[Step], planning: Planning) -> None:
    """Refuse, once per kind, the steps whose permission the applier's role lacks, with
    the service's message (403 on a real write)."""
    me = planning.world.me
    if me is None:
        return
    actor = Actor(kind=me.actor_kind, name=me.username, role=me.role,
                  token_name=me.token_name)
    refused: set[str] = set()
    for step in steps:
        permission = PERMISSIONS.get(step.kind)
        if permission is None or step.kind in refused:
            continue
        try:
            require(actor, permission)
        except ApicronError as exc:
            refused.add(step.kind)
            planning.refuse(step.where, f"{step.action} {step.kind} {step.key}: {exc.message}")


def check_prune(steps: Sequence[Step], planning: Planning) -> None:
    """Refuse each deletion (``--prune``) the server would refuse because an object of
    the instance that stays still uses it (the services' delete rules, same messages).
    Objects the files name are refused earlier (``--prune would delete it``)."""
    world = planning.world
    gone = {(step.kind, step.key) for step in steps if step.action == "delete"}

    def staying(kind: str) -> list[Any]:
        return [record for key, record in world.objects.get(kind, {}).items()
                if (kind, key) not in gone]

    groups, apis, tasks = staying("Group"), staying("Api"), staying("Task")
    for step in steps:
        if step.action != "delete":
            continue
        object_id = world.ids.get(step.kind, {}).get(step.key)
        message = None
        if step.kind == "App":
            owned = sum(1 for g in groups if g.app_id == object_id)
            running = sum(1 for t in tasks if t.app_id == object_id)
            if owned or running:
                message = (f"integration app {step.key!r} owns {owned} API group(s) and "
                           f"{running} scheduled task(s); delete or move them first")
        elif step.kind == "Group":
            held = sum(1 for a in apis if a.group_id == object_id)
            if held:
                message = f"API group {step.key!r} still holds {held} API(s); delete them first"
        elif step.kind == "Api":
            calling = sum(1 for t in tasks if t.api_id == object_id)
            if calling:
                name = step.key.partition("/")[2]
                message = (f"API {name!r} is called by {calling} scheduled task(s); delete "
                           "them first")
        elif step.kind in ("Channel", "Calendar"):
            users = [t.name for t in tasks if object_id in (
                t.calendar_ids if step.kind == "Calendar"
                else (t.alerts.channel_ids if t.alerts is not None else []))]
            defaults = world.instance.default_alerts
            if step.kind == "Channel" and defaults is not None and (
                    object_id in defaults.channel_ids):
                users.insert(0, "the instance's default_alerts")
            if users:
                named = ", ".join(users[:10]) + (f" and {len(users) - 10} more"
                                                 if len(users) > 10 else "")
                message = (f"channel {step.key!r} is named by the alert rules of {named}; "
                           "remove it there first" if step.kind == "Channel" else
                           f"calendar {step.key!r} is followed by the tasks {named}; remove "
                           "it from their calendar_ids first")
        if message is not None:
            planning.refuse(step.where, f"cannot be deleted: {message}")
