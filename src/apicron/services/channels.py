"""Notification channels (issue 14): CRUD, the test message, and the checks rules make.

A channel's URL (a webhook's, or an Apprise URL with its tokens and passwords) and a
webhook's signing secret are credentials: encrypted at rest with APICRON_SECRET_KEY (listed
in ``store._ENCRYPTED``, so the start-up check and ``apicron secret-key rotate`` cover
them), answered masked (the secret only in the create answer), never logged, and
``[redacted]`` in the audit log (issue 16: its masked form still names a host).
"""

from __future__ import annotations

import asyncio
import secrets
import time

import apprise

from apicron.alerts.delivery import Deliverer, Destination, message_of
from apicron.domain.access import Permission
from apicron.domain.alert_rules import AlertRules
from apicron.domain.alerting import (
    Channel,
    ChannelCreate,
    ChannelTestResult,
    ChannelUpdate,
    ChannelWithSecret,
    check_channel,
    mask_url,
)
from apicron.domain.errors import Conflict, InvalidInput, NotFound
from apicron.domain.models import Page
from apicron.domain.problem_list import Problems
from apicron.gateway.proxy import backend_session
from apicron.services.audit import REDACTED, audit, changes_between
from apicron.services.context import Context, new_id
from apicron.store.rows import ChannelChanges
from apicron.store.store import Queries

# A channel's fields that are credentials (or, masked, still name where they point).
_SECRET = ("url", "secret")


def load_channel(q: Queries, channel_id: str) -> Channel:
    channel = q.get_channel(channel_id)
    if channel is None:
        raise NotFound(f"no channel with id {channel_id!r}")
    return channel


def check_channels_exist(q: Queries, rules: AlertRules | None, field: str) -> None:
    """Every channel the rules name exists (400 naming ``field.channel_ids[i]``)."""
    if rules is None:
        return
    kinds = q.channel_kinds(rules.channel_ids)
    problems = Problems()
    for index, channel_id in enumerate(rules.channel_ids):
        if channel_id not in kinds:
            problems.add(f"{field}.channel_ids[{index}]",
                         f"no channel with id {channel_id!r} (see GET /v1/channels)")
    problems.raise_any()


def _check_apprise(url: str) -> None:
    if apprise.Apprise.instantiate(url) is None:
        raise InvalidInput(
            "is not a URL Apprise understands (e.g. slack://TokenA/TokenB/TokenC, "
            "workflows://host/workflow/signature, mailtos://user:password@host, "
            "ntfy://host/topic, json://host/path; see Apprise's list of services)",
            field="url",
        )


def create_channel(ctx: Context, spec: ChannelCreate) -> ChannelWithSecret:
    ctx.require(Permission.CHANNELS)
    if spec.kind == "apprise":
        _check_apprise(spec.url)
    secret = None
    if spec.kind == "webhook":
        secret = spec.secret or secrets.token_urlsafe(32)
    now, channel_id = ctx.now(), new_id()
    with ctx.store.write() as q:
        q.insert_channel({
            "id": channel_id, "name": spec.name, "kind": spec.kind,
            "description": spec.description,
            "url_encrypted": ctx.secrets.encrypt(spec.url), "url_shown": mask_url(spec.url),
            "secret_encrypted": None if secret is None else ctx.secrets.encrypt(secret),
            "created_at": now, "updated_at": now,
        })
        channel = load_channel(q, channel_id)
        audit(q, ctx, "create", "channel", channel_id, name=channel.name,
              after={**channel.model_dump(), "secret": secret}, secret=_SECRET)
    return ChannelWithSecret(**channel.model_dump(), secret=secret)


def get_channel(ctx: Context, channel_id: str) -> Channel:
    ctx.require(Permission.READ)
    with ctx.store.read() as q:
        return load_channel(q, channel_id)


def list_channels(ctx: Context, *, kind: str | None, offset: int, limit: int) -> Page[Channel]:
    ctx.require(Permission.READ)
    with ctx.store.read() as q:
        total, items = q.list_channels(kind=kind, offset=offset, limit=limit)
    return Page[Channel](total=total, items=items)


def update_channel(ctx: Context, channel_id: str, patch: ChannelUpdate) -> Channel:
    ctx.require(Permission.CHANNELS)
    with ctx.store.write() as q:
        channel = load_channel(q, channel_id)
        check_channel(channel.kind, patch.url, patch.secret)
        values: ChannelChanges = {}
        if patch.name is not None:
            values["name"] = patch.name
        if patch.description is not None:
            values["description"] = patch.description
        if patch.url is not None:
            if channel.kind == "apprise":
                _check_apprise(patch.url)
            values["url_encrypted"] = ctx.secrets.encrypt(patch.url)
            values["url_shown"] = mask_url(patch.url)
        if patch.secret is not None:
            values["secret_encrypted"] = ctx.secrets.encrypt(patch.secret)
        if values:
            q.update_channel(channel_id, {**values, "updated_at": ctx.now()})
        after = load_channel(q, channel_id)
        # The masked URL may read the same after a new one: a credential given is a change.
        changes: dict[str, object] = {field: {"before": REDACTED, "after": REDACTED}
                   for field, given in (("url", patch.url), ("secret", patch.secret))
                   if given is not None}
        changes.update(changes_between(channel, after, _SECRET))
        audit(q, ctx, "update", "channel", channel_id, name=after.name, changes=changes)
        return after


def delete_channel(ctx: Context, channel_id: str) -> None:
    """Refused (409) while a task's alert rules or the instance's default rules name it;
    its undelivered events are recorded FAILED."""
    ctx.require(Permission.CHANNELS)
    with ctx.store.write() as q:
        channel = load_channel(q, channel_id)
        users = q.tasks_alerting_to(channel_id)
        defaults = q.default_alerts()
        if defaults is not None and channel_id in defaults.channel_ids:
            users.insert(0, "the instance's default_alerts")
        if users:
            named = ", ".join(users[:10]) + (f" and {len(users) - 10} more"
                                             if len(users) > 10 else "")
            raise Conflict(f"channel {channel.name!r} is named by the alert rules of {named}; "
                           "remove it there first", code="CHANNEL_IN_USE")
        q.fail_alert_events_of_channel(channel_id, "the channel was deleted before delivery")
        q.delete_channel(channel_id)
        audit(q, ctx, "delete", "channel", channel_id, name=channel.name, before=channel,
              secret=_SECRET)


def test_channel(ctx: Context, channel_id: str) -> ChannelTestResult:
    """Send a test message now (not through the outbox) and say how it went; bounded by
    the delivery timeout. Runs in the caller's thread (the API's worker threads)."""
    ctx.require(Permission.CHANNELS)
    with ctx.store.read() as q:
        channel = load_channel(q, channel_id)
        stored = q.channel_credentials(channel_id)
    assert stored is not None
    kind, url_encrypted, secret_encrypted = stored
    destination = Destination(kind, ctx.secrets.decrypt(url_encrypted),
                              None if secret_encrypted is None
                              else ctx.secrets.decrypt(secret_encrypted))
    event_id = new_id()
    payload: dict[str, object] = {
        "event": "TEST", "event_id": event_id, "task": None, "execution": None,
        "occurred_at": ctx.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "message": f"apicron test message for channel {channel.name}: it works",
    }
    message = message_of(event_id, "TEST", payload, ctx.public_url)

    async def send() -> tuple[bool, str | None]:
        async with backend_session(outbound=ctx.outbound) as session:
            deliverer = Deliverer(session, ctx.alert_timeout_s, apprise_workers=1)
            try:
                result = await deliverer.deliver(destination, message)
            finally:
                deliverer.close()
        return result.ok, result.error

    started = time.monotonic()
    ok, error = asyncio.run(send())
    result = ChannelTestResult(ok=ok, error=error,
                               duration_ms=round((time.monotonic() - started) * 1000))
    # Not a change, but a message sent on the actor's word: the log says who sent it.
    with ctx.store.write() as q:
        audit(q, ctx, "test", "channel", channel_id, name=channel.name,
              changes={"ok": {"before": None, "after": ok}})
    return result
