"""Users (admin only) and one's own account (``/v1/me``).

A disabled or deleted user's console sessions end and their tokens stop working at the
next request, on every node: nothing about a user is cached.
"""

from __future__ import annotations

from apicron.domain.access import Permission
from apicron.domain.accounts import Me, MeUpdate, User, UserCreate, UserUpdate, check_password
from apicron.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from apicron.domain.models import Page
from apicron.services.audit import REDACTED, audit, changes_between
from apicron.services.context import Context, new_id
from apicron.services.credentials import hash_password, verify_password
from apicron.store.rows import UserChanges
from apicron.store.store import Queries


def load_user(q: Queries, user_id: str) -> User:
    user = q.get_user(user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id!r}")
    return user


def create_user(ctx: Context, spec: UserCreate) -> User:
    """Conflict when the username is taken. Without a password the user signs in with
    API tokens only (an admin creates them)."""
    ctx.require(Permission.USERS)
    now, user_id = ctx.now(), new_id()
    with ctx.store.write() as q:
        q.insert_user({
            "id": user_id, "username": spec.username, "display_name": spec.display_name,
            "role": spec.role, "disabled": spec.disabled,
            "password_hash": None if spec.password is None else hash_password(spec.password),
            "created_at": now, "updated_at": now,
        })
        user = load_user(q, user_id)
        audit(q, ctx, "create", "user", user_id, name=user.username,
              after={**user.model_dump(mode="json"),
                     "password": "set" if spec.password is not None else None})
        return user


def list_users(ctx: Context, offset: int, limit: int) -> Page[User]:
    ctx.require(Permission.USERS)
    with ctx.store.read() as q:
        total, items = q.list_users(offset, limit)
    return Page[User](total=total, items=items)


def get_user(ctx: Context, user_id: str) -> User:
    ctx.require(Permission.USERS)
    with ctx.store.read() as q:
        return load_user(q, user_id)


def update_user(ctx: Context, user_id: str, patch: UserUpdate) -> User:
    """Change the fields given. A new password, disabling and a lower role end the user's
    console sessions (they sign in again, under the new terms)."""
    ctx.require(Permission.USERS)
    values: UserChanges = {}
    if patch.display_name is not None:
        values["display_name"] = patch.display_name
    if patch.role is not None:
        values["role"] = patch.role
    if patch.disabled is not None:
        values["disabled"] = patch.disabled
    with ctx.store.write() as q:
        before = load_user(q, user_id)
        if patch.password is not None:
            check_password("password", patch.password, before.username)
            values["password_hash"] = hash_password(patch.password)
        if values:
            q.update_user(user_id, {**values, "updated_at": ctx.now()})
        after = load_user(q, user_id)
        ends_sessions = (patch.password is not None or (after.disabled and not before.disabled)
                         or after.role != before.role)
        if ends_sessions:
            q.delete_sessions_of(user_id=user_id)
        audit(q, ctx, "update", "user", user_id, name=after.username,
              changes=_changes(before, after, patch.password is not None))
        return after


def _changes(before: User, after: User, password: bool) -> dict[str, dict[str, object]]:
    changes = changes_between(before, after)
    if password:  # the hash is not a field of the record: say it changed, never how
        changes["password"] = {"before": REDACTED, "after": REDACTED}
    return changes


def delete_user(ctx: Context, user_id: str) -> None:
    """The user's tokens and sessions go with them; the audit log keeps their name."""
    ctx.require(Permission.USERS)
    with ctx.store.write() as q:
        user = load_user(q, user_id)
        if ctx.actor.user_id == user_id:
            raise InvalidInput("you cannot delete yourself; another admin (or root) can",
                               field="id")
        q.delete_user(user_id)
        audit(q, ctx, "delete", "user", user_id, name=user.username, before=user)


def get_me(ctx: Context) -> Me:
    """Who the request acts as: root, a user (console) or a user's token."""
    ctx.require(Permission.READ)
    actor = ctx.actor
    if actor.user_id is None:
        return Me(actor_kind=actor.kind, username=actor.name, display_name=actor.name,
                  role=actor.role, user_id=None)
    with ctx.store.read() as q:
        user = load_user(q, actor.user_id)
    return Me(
        actor_kind=actor.kind, username=user.username, display_name=user.display_name,
        role=actor.role, user_id=user.id, token_name=actor.token_name,
        token_expires_at=actor.token_expires_at,
    )


def update_me(ctx: Context, patch: MeUpdate) -> Me:
    """A user changes their display name or password (the current one required, and not
    through a token: a stolen token must not be able to take the account over). The new
    password ends the user's other console sessions."""
    ctx.require(Permission.READ)
    actor = ctx.actor
    if actor.user_id is None:
        raise Conflict(f"{actor.shown} is not a user: there is no account to change",
                       code="NO_ACCOUNT")
    if patch.password is not None and actor.kind == "token":
        raise Forbidden("a password is changed in the console (or by an admin), not with an "
                        "API token", code="TOKEN_NOT_ALLOWED")
    with ctx.store.write() as q:
        before = load_user(q, actor.user_id)
        values: UserChanges = {}
        if patch.display_name is not None:
            values["display_name"] = patch.display_name
        if patch.password is not None:
            stored = q.user_credentials(user_id=actor.user_id)
            hashed = None if stored is None else stored.password_hash
            if patch.current_password is None or not verify_password(
                    hashed, patch.current_password):
                raise InvalidInput("is not your current password", field="current_password")
            check_password("password", patch.password, before.username)
            values["password_hash"] = hash_password(patch.password)
        if values:
            q.update_user(actor.user_id, {**values, "updated_at": ctx.now()})
        after = load_user(q, actor.user_id)
        if patch.password is not None:
            q.delete_sessions_of(user_id=actor.user_id, except_id=actor.session_id)
        audit(q, ctx, "update", "user", actor.user_id, name=after.username,
              changes=_changes(before, after, patch.password is not None))
    return get_me(ctx)
