"""Console sessions, kept in the database: they survive a restart and serve every node.

The cookie holds 256 random bits; the database keeps only their SHA-256, so a copy of the
table opens no session. A session ends ``session_idle`` after its last request, or
``session_max`` after its login, or when its user is disabled, deleted, given a lower role
or a new password, or on logout (one session, or every session of the user).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from apicron.crypto import SecretUnreadable
from apicron.domain.access import Actor, root
from apicron.domain.vocabulary import Role
from apicron.services.audit import audit
from apicron.services.context import Context
from apicron.store.records import StoredSession

# last_seen_at is written at most this often: the idle timeout is this precise.
SEEN_PRECISION = timedelta(seconds=30)


def session_key(cookie: str) -> str:
    return hashlib.sha256(cookie.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class OpenSession:
    """A live session: its stored key, CSRF token, actor and the flashes waiting."""

    key: str
    csrf: str
    actor: Actor
    flashes: list[tuple[str, str]]
    has_reveal: bool


def open_session(ctx: Context, actor: Actor) -> tuple[str, OpenSession]:
    """A new session for ``actor`` (just signed in); answers the cookie's value. Audited
    as a login."""
    cookie, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), ctx.now()
    key = session_key(cookie)
    with ctx.store.write() as q:
        q.insert_session({
            "id": key, "user_id": actor.user_id, "actor_kind": actor.kind, "csrf": csrf,
            "address": actor.address, "created_at": now, "last_seen_at": now,
            "expires_at": now + ctx.access.session_max, "flashes": None,
            "reveal_encrypted": None,
        })
        audit(q, replace(ctx, actor=actor), "login", "session", None, name=actor.name)
    return cookie, OpenSession(key, csrf, replace(actor, session_id=key), [], False)


def _actor(row: StoredSession, address: str | None) -> Actor | None:
    if row.actor_kind == "root":
        return replace(root(address), session_id=row.id)
    if row.user_id is None or row.disabled or row.username is None:
        return None
    role: Role = "admin" if row.role == "admin" else (
        "operator" if row.role == "operator" else "viewer")
    return Actor(kind="user", name=row.username, role=role, user_id=row.user_id,
                 address=address, session_id=row.id)


def load_session(ctx: Context, cookie: str | None, address: str | None) -> OpenSession | None:
    """The live session of ``cookie``, or None (unknown, ended, timed out: then removed)."""
    if not cookie:
        return None
    key, now = session_key(cookie), ctx.now()
    with ctx.store.read() as q:
        row = q.get_session(key)
    if row is None:
        return None
    actor = _actor(row, address)
    timed_out = row.expires_at <= now or row.last_seen_at + ctx.access.session_idle <= now
    if actor is None or timed_out:
        with ctx.store.write() as q:
            q.delete_session(key)
        return None
    if row.last_seen_at + min(SEEN_PRECISION, ctx.access.session_idle / 4) <= now:
        with ctx.store.write() as q:
            q.update_session(key, {"last_seen_at": now})
    return OpenSession(key, row.csrf, actor, row.flashes, row.reveal_encrypted is not None)


def add_flash(ctx: Context, key: str, kind: str, message: str) -> None:
    """A one-shot message for the session's next page."""
    with ctx.store.write() as q:
        row = q.get_session(key)
        if row is not None:
            q.update_session(key, {"flashes": [*row.flashes, (kind, message)]})


def clear_flashes(ctx: Context, key: str) -> None:
    with ctx.store.write() as q:
        q.update_session(key, {"flashes": None})


def set_reveal(ctx: Context, key: str, reveal: dict[str, Any]) -> None:
    """A secret to show once on the session's next page, encrypted while it waits."""
    with ctx.store.write() as q:
        q.update_session(key, {"reveal_encrypted": ctx.secrets.encrypt(json.dumps(reveal))})


def pop_reveal(ctx: Context, key: str) -> dict[str, Any] | None:
    """The waiting secret, removed as it is read (None if there is none or it cannot be
    read any more, e.g. after a change of APICRON_SECRET_KEY)."""
    with ctx.store.write() as q:
        row = q.get_session(key)
        if row is None or row.reveal_encrypted is None:
            return None
        q.update_session(key, {"reveal_encrypted": None})
    try:
        value = json.loads(ctx.secrets.decrypt(row.reveal_encrypted))
    except SecretUnreadable:
        return None
    return value if isinstance(value, dict) else None


def end_session(ctx: Context, key: str) -> None:
    """Log out this session (audited)."""
    with ctx.store.write() as q:
        q.delete_session(key)
        audit(q, ctx, "logout", "session", None, name=ctx.actor.name)


def end_every_session(ctx: Context) -> int:
    """Log out every console session of the actor's user (root: every root session),
    this one included; answers how many ended (audited)."""
    with ctx.store.write() as q:
        count = q.delete_sessions_of(user_id=ctx.actor.user_id)
        audit(q, ctx, "logout-all", "session", None, name=ctx.actor.name,
              changes={"sessions": {"before": count, "after": 0}})
    return count


def prune_sessions(ctx: Context) -> int:
    now = ctx.now()
    with ctx.store.write() as q:
        return q.prune_sessions(now, now - ctx.access.session_idle)
