"""Personal API tokens: named, expiring, shown once, stored as a hash, revocable at once.

A user manages their own tokens; an admin (or root) those of any user. A token acts as its
user with the lower of its own role and the user's current one. A request made with a
token cannot mint a token that outlives it or holds a higher role than it: a leaked token
cannot be turned into a stronger or longer-lived one.
"""

from __future__ import annotations

from datetime import timedelta

from apicron.domain.access import Permission, lower_role, rank
from apicron.domain.accounts import (
    TOKEN_DAYS_DEFAULT,
    TOKEN_DAYS_MAX,
    Token,
    TokenCreate,
    TokenWithSecret,
)
from apicron.domain.errors import InvalidInput, NotFound
from apicron.domain.models import Page
from apicron.services.audit import audit
from apicron.services.context import Context, new_id
from apicron.services.credentials import new_api_token, token_hash
from apicron.services.users import load_user


def _require_for(ctx: Context, user_id: str) -> None:
    """One's own tokens: any role; another user's: the users permission (admin)."""
    if ctx.actor.user_id is not None and ctx.actor.user_id == user_id:
        ctx.require(Permission.OWN_TOKENS)
    else:
        ctx.require(Permission.USERS)


def create_token(ctx: Context, user_id: str, spec: TokenCreate) -> TokenWithSecret:
    """The answer carries the token, shown only here. InvalidInput for an expiry in the
    past or more than a year ahead, or a role above the user's (or the asking token's)."""
    _require_for(ctx, user_id)
    now, actor = ctx.now(), ctx.actor
    expires_at = spec.expires_at or now + timedelta(days=TOKEN_DAYS_DEFAULT)
    if spec.expires_at is None and actor.token_expires_at is not None:
        # made with a token: by default it ends when that token ends
        expires_at = min(expires_at, actor.token_expires_at)
    if expires_at <= now:
        raise InvalidInput("must be in the future", field="expires_at")
    if expires_at > now + timedelta(days=TOKEN_DAYS_MAX):
        raise InvalidInput(f"must be at most {TOKEN_DAYS_MAX} days from now",
                           field="expires_at")
    if actor.kind == "token" and actor.token_expires_at is not None \
            and expires_at > actor.token_expires_at:
        raise InvalidInput(
            f"must not be after the expiry of the token this request uses "
            f"({actor.token_expires_at.isoformat()})", field="expires_at")
    token, token_id = new_api_token(), new_id()
    with ctx.store.write() as q:
        user = load_user(q, user_id)
        role = spec.role or user.role
        if rank(role) > rank(user.role):
            raise InvalidInput(f"must not be above the user's role ({user.role})", field="role")
        if actor.kind == "token" and actor.role is not None:
            if rank(role) > rank(actor.role):
                raise InvalidInput(
                    f"must not be above the role of the token this request uses "
                    f"({actor.role})", field="role")
            role = lower_role(role, actor.role)
        q.insert_token({
            "id": token_id, "user_id": user_id, "name": spec.name, "token_hash": token_hash(token),
            "role": role, "expires_at": expires_at.replace(microsecond=0), "created_at": now,
            "last_used_at": None,
        })
        stored = q.get_token(token_id)
        assert stored is not None
        audit(q, ctx, "create", "token", token_id, name=f"{user.username}/{spec.name}",
              after=stored)
    return TokenWithSecret(**stored.model_dump(), token=token)


def list_tokens(ctx: Context, user_id: str, offset: int, limit: int) -> Page[Token]:
    """Newest first, expired ones included (pruned 30 days after they expire)."""
    _require_for(ctx, user_id)
    with ctx.store.read() as q:
        load_user(q, user_id)
        total, items = q.list_tokens(user_id, offset, limit)
    return Page[Token](total=total, items=items)


def revoke_token(ctx: Context, token_id: str) -> None:
    """The token stops working at the next request, on every node (nothing caches it)."""
    ctx.require(Permission.OWN_TOKENS)
    with ctx.store.write() as q:
        token = q.get_token(token_id)
        if token is None:
            raise NotFound(f"no API token with id {token_id!r}")
        _require_for(ctx, token.user_id)
        user = load_user(q, token.user_id)
        q.delete_token(token_id)
        audit(q, ctx, "revoke", "token", token_id, name=f"{user.username}/{token.name}",
              before=token)
