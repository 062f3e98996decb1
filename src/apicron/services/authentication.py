"""Who a request is: the admin token (root), a user's API token, or a username and password.

Failed attempts are counted per username and per client address in the database, so every
node sees them (issue 16): past half of ``login_max_failures`` within ``login_window`` each
failure is answered ``login_slowdown_s`` late (the edge sleeps, see
:class:`SignInRefused`); at the limit the username or address is locked out for
``login_lockout`` and every attempt is refused without being checked
(:class:`TooManyAttempts`, 429), the right password included.
"""

from __future__ import annotations

import hmac
from dataclasses import replace
from datetime import datetime, timedelta

from apicron.domain.access import Actor, lower_role, root
from apicron.domain.accounts import USERNAME_PATTERN
from apicron.domain.errors import ApicronError, Unauthorized
from apicron.domain.vocabulary import Role
from apicron.services.audit import entry_for
from apicron.services.context import Context
from apicron.services.credentials import (
    TOKEN_PREFIX,
    hash_password,
    needs_rehash,
    token_hash,
    verify_password,
)
from apicron.store.store import Queries

# last_used_at is written at most this often per token, not at every request.
TOKEN_USE_PRECISION = timedelta(minutes=1)


class SignInRefused(Unauthorized):
    """Wrong credentials; ``delay_s``: how long the edge waits before answering."""

    def __init__(self, message: str, delay_s: float = 0.0):
        super().__init__(message)
        self.delay_s = delay_s


class TooManyAttempts(ApicronError):
    """A username or address locked out after too many failures (429, ``Retry-After``)."""

    status = 429
    code = "TOO_MANY_ATTEMPTS"

    def __init__(self, until: datetime, now: datetime):
        self.retry_after_s = max(1, int((until - now).total_seconds() + 0.999))
        super().__init__(
            f"too many failed sign-ins; try again in {self.retry_after_s} s "
            f"(at {until.strftime('%Y-%m-%dT%H:%M:%SZ')})"
        )


def _keys(username: str | None, address: str | None) -> list[str]:
    keys = [] if username is None else [f"user:{username[:64]}"]
    return keys + ([] if address is None else [f"address:{address[:64]}"])


def _check_lock(q: Queries, ctx: Context, keys: list[str]) -> None:
    now = ctx.now()
    until = q.locked_until(keys, now)
    if until is not None:
        raise TooManyAttempts(until, now)


def _failed(ctx: Context, keys: list[str], message: str, *, audited_as: str | None = None,
            kind: str = "user") -> SignInRefused:
    """Count a failure for every key in its own transaction (it must stay counted though
    the request fails), lock the keys that reached the limit, and audit a failed login
    (``audited_as``: the name tried) or a lock-out."""
    policy = ctx.access
    now = ctx.now()
    worst = 0
    with ctx.store.write() as q:
        for key in keys:
            count = q.count_failure(key, now, now - policy.login_window)
            worst = max(worst, count)
            if count >= policy.login_max_failures:
                q.lock(key, now + policy.login_lockout)
                if count == policy.login_max_failures:
                    q.insert_audit(entry_for(
                        Actor(kind="system", name="system", role=None, address=ctx.actor.address),
                        now, "lockout", "sign-in", resource_id=key,
                        changes={"failures": {"before": None, "after": count},
                                 "locked_until": {"before": None, "after":
                                                  (now + policy.login_lockout).isoformat()}}))
        if audited_as is not None:
            actor = Actor(kind="root" if kind == "root" else "user", name=audited_as, role=None,
                          address=ctx.actor.address)
            q.insert_audit(entry_for(actor, now, "login-failed", "session"))
    slow = worst > policy.login_max_failures // 2
    return SignInRefused(message, policy.login_slowdown_s if slow else 0.0)


def _token_actor(ctx: Context, presented: str, address: str | None) -> Actor:
    now = ctx.now()
    with ctx.store.read() as q:
        _check_lock(q, ctx, _keys(None, address))
        found = q.find_token(token_hash(presented))
    if found is None:
        raise _failed(ctx, _keys(None, address), "the bearer token is not a valid API token")
    if found.expires_at <= now:
        raise _failed(ctx, _keys(None, address),
                      f"the API token {found.token_name!r} of {found.username} expired at "
                      f"{found.expires_at.strftime('%Y-%m-%dT%H:%M:%SZ')}; create a new one")
    if found.user_disabled:
        raise _failed(ctx, _keys(None, address),
                      f"user {found.username} is disabled; their API tokens do not work")
    if found.last_used_at is None or found.last_used_at < now - TOKEN_USE_PRECISION:
        with ctx.store.write() as q:
            q.touch_token(found.token_id, now, now - TOKEN_USE_PRECISION)
    role: Role = lower_role(_role(found.token_role), _role(found.user_role))
    return Actor(
        kind="token", name=found.username, role=role, user_id=found.user_id,
        token_id=found.token_id, token_name=found.token_name,
        token_expires_at=found.expires_at, address=address,
    )


def _role(value: str) -> Role:
    if value == "admin":
        return "admin"
    if value == "operator":
        return "operator"
    return "viewer"


def _root_allowed(ctx: Context) -> None:
    """With ``admin_token_disabled`` the admin token is refused while an enabled admin user
    exists; with none it works again, so that the instance can never be locked out."""
    if not ctx.access.admin_token_disabled:
        return
    with ctx.store.read() as q:
        if q.enabled_admin_exists():
            raise Unauthorized(
                "the admin token is disabled (APICRON_ADMIN_TOKEN_DISABLED) while an admin "
                "user exists: use a user's API token"
            )


def authenticate_bearer(
    ctx: Context, presented: str, admin_token: str, address: str | None
) -> Actor:
    """The actor of ``Authorization: Bearer <presented>``.

    Raises SignInRefused (401, with the delay to wait first), TooManyAttempts (429) while
    the address is locked out, Unauthorized when the admin token is disabled.
    """
    ctx = replace(ctx, actor=replace(ctx.actor, address=address))
    if hmac.compare_digest(presented.encode("utf-8", "surrogatepass"),
                           admin_token.encode("utf-8", "surrogatepass")):
        with ctx.store.read() as q:
            _check_lock(q, ctx, _keys(None, address))
        _root_allowed(ctx)
        return root(address)
    if presented.startswith(TOKEN_PREFIX):
        return _token_actor(ctx, presented, address)
    with ctx.store.read() as q:
        _check_lock(q, ctx, _keys(None, address))
    raise _failed(ctx, _keys(None, address),
                  "the bearer token is not the admin token, nor an API token (apc_…)")


ROOT_NAMES = ("", "root")


def sign_in(
    ctx: Context, username: str, password: str, admin_token: str, address: str | None
) -> Actor:
    """The console's login: a user's password, or (username empty or ``root``) the admin
    token as the password. Raises SignInRefused, TooManyAttempts, Unauthorized."""
    ctx = replace(ctx, actor=replace(ctx.actor, address=address))
    username = username.strip()
    as_root = username in ROOT_NAMES
    name = "root" if as_root else username
    shown = name if as_root or USERNAME_PATTERN.fullmatch(name) else "(not a username)"
    keys = _keys(shown, address)
    with ctx.store.read() as q:
        _check_lock(q, ctx, keys)
        stored = None if as_root else q.user_credentials(username=name)
    wrong = "wrong username or password" if not as_root else "that is not the admin token"
    if as_root:
        if not hmac.compare_digest(password.encode("utf-8", "surrogatepass"),
                                   admin_token.encode("utf-8", "surrogatepass")):
            raise _failed(ctx, keys, wrong, audited_as=shown, kind="root")
        _root_allowed(ctx)
        actor = root(address)
    else:
        hashed = None if stored is None else stored.password_hash
        if stored is None or not verify_password(hashed, password):
            raise _failed(ctx, keys, wrong, audited_as=shown)
        if stored.disabled:
            raise _failed(ctx, keys, f"user {stored.username} is disabled", audited_as=shown)
        actor = Actor(kind="user", name=stored.username, role=_role(stored.role),
                      user_id=stored.id, address=address)
        if hashed is not None and needs_rehash(hashed):
            with ctx.store.write() as q:
                q.update_user(stored.id, {"password_hash": hash_password(password)})
    with ctx.store.write() as q:
        # A right password clears that username's failures (not the address's: one good
        # account must not reset the count of guesses at others from the same place).
        q.clear_failures(f"user:{name}")
    return actor
