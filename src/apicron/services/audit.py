"""The audit log: who changed what, when, from where, with the fields before and after.

A service that changes something calls :func:`audit` inside its own write transaction,
so an entry exists exactly when the change does (issue 16: written in the same
transaction). Secrets never enter it: fields named like one are ``"[redacted]"``, long
values are cut. Entries are only appended; the retention pruning deletes them by age.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from apicron.domain.access import Actor, Permission
from apicron.domain.accounts import AuditEntry
from apicron.domain.errors import InvalidInput
from apicron.domain.models import Page
from apicron.services.context import Context
from apicron.store.records import NewAuditEntry
from apicron.store.store import Queries

REDACTED = "[redacted]"
# Fields whose value is a credential wherever they appear (the caller adds others, e.g. a
# channel's url). A credential's change is recorded, its value never.
SECRET_FIELDS = frozenset({
    "secret", "password", "current_password", "token", "password_hash", "token_hash",
    "secret_encrypted", "reveal_encrypted",
})
# Bookkeeping every write touches: recording it would make every entry look alike.
_IGNORED = frozenset({
    "id", "created_at", "updated_at", "claimed_until", "schedule_description",
    "schedule_warnings", "last_execution", "has_password",
})
MAX_VALUE_CHARS = 1024

Values = BaseModel | Mapping[str, Any] | None


def _plain(values: Values) -> dict[str, Any]:
    if values is None:
        return {}
    if isinstance(values, BaseModel):
        return values.model_dump(mode="json")
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def _shown(value: Any) -> Any:
    """A value as the log keeps it: text and nested values cut to ``MAX_VALUE_CHARS``."""
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return f"{value[:MAX_VALUE_CHARS]}… ({len(value)} characters)"
    if isinstance(value, dict | list) and len(repr(value)) > MAX_VALUE_CHARS:
        text = repr(value)
        return f"{text[:MAX_VALUE_CHARS]}… ({len(text)} characters)"
    return value


def changes_between(
    before: Values, after: Values, secret: Collection[str] = ()
) -> dict[str, dict[str, Any]]:
    """Every field whose value differs, as ``{"before": …, "after": …}`` (a field missing
    on one side is null there); credentials as ``"[redacted]"``."""
    old, new = _plain(before), _plain(after)
    hidden = SECRET_FIELDS | set(secret)
    found: dict[str, dict[str, Any]] = {}
    for name in [*old, *(k for k in new if k not in old)]:
        if name in _IGNORED or old.get(name) == new.get(name):
            continue
        if name in hidden:
            found[name] = {"before": REDACTED if old.get(name) is not None else None,
                           "after": REDACTED if new.get(name) is not None else None}
        else:
            found[name] = {"before": _shown(old.get(name)), "after": _shown(new.get(name))}
    return found


def entry_for(
    actor: Actor, at: datetime, action: str, resource_type: str, *,
    resource_id: str | None = None, name: str | None = None,
    changes: dict[str, Any] | None = None,
) -> NewAuditEntry:
    kind = actor.kind if actor.kind in ("root", "user", "token") else "system"
    return NewAuditEntry(
        at=at, actor=actor.name[:64], actor_kind=kind, action=action,
        resource_type=resource_type, resource_id=resource_id,
        resource_name=None if name is None else name[:255], changes=changes,
        token_name=actor.token_name, user_id=actor.user_id, address=actor.address,
    )


def audit(
    q: Queries,
    ctx: Context,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    *,
    name: str | None = None,
    before: Values = None,
    after: Values = None,
    secret: Collection[str] = (),
    changes: Mapping[str, Any] | None = None,
) -> None:
    """Append one entry for a change made by ``ctx.actor``, in ``q``'s transaction.

    ``changes`` is built from ``before`` and ``after`` (records or mappings; None for a
    create's before or a delete's after) unless given. An ``update`` that changed nothing
    leaves no entry: the log records changes, not requests.
    """
    found = dict(changes) if changes is not None else changes_between(before, after, secret)
    if action == "update" and not found:
        return
    q.insert_audit(entry_for(ctx.actor, ctx.now(), action, resource_type,
                             resource_id=resource_id, name=name, changes=found or None))


def list_audit(
    ctx: Context,
    *,
    actor: str | None = None,
    resource_type: str | None = None,
    resource_id: str | None = None,
    action: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    offset: int = 0,
    limit: int = 20,
) -> Page[AuditEntry]:
    """Newest first, filtered by actor (username, ``root``), resource type and id, action,
    and time (``start`` inclusive, ``end`` exclusive). InvalidInput when ``end`` ≤ ``start``."""
    ctx.require(Permission.AUDIT)
    if start is not None and end is not None and end <= start:
        raise InvalidInput("must be after 'from'", field="to")
    with ctx.store.read() as q:
        total, items = q.list_audit(
            actor=actor, resource_type=resource_type, resource_id=resource_id, action=action,
            start=start, end=end, offset=offset, limit=limit,
        )
    return Page[AuditEntry](total=total, items=items)


def prune_audit(ctx: Context, older_than: datetime) -> int:
    """Delete the entries older than ``older_than`` (the retention setting's only use)."""
    with ctx.store.write() as q:
        return q.prune_audit(older_than)
