"""Users, personal API tokens, console sessions and the sign-in failure counters.

Mixed into :class:`apicron.store.store.Queries`; every method runs in the caller's
transaction. Nothing here caches: a revoked token or an ended session is gone for every
node at the next request (issue 16).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, case, delete, exists, func, insert, literal, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from apicron.domain.accounts import Token, User
from apicron.domain.errors import Conflict
from apicron.store.records import StoredSession, TokenOwner, UserCredentials
from apicron.store.rows import SessionChanges, SessionRow, TokenRow, UserChanges, UserRow
from apicron.store.tables import api_tokens, auth_failures, console_sessions, users
from apicron.store.types import UTCDateTime

_USER_COLUMNS = (
    users.c.id, users.c.username, users.c.display_name, users.c.role, users.c.disabled,
    users.c.created_at, users.c.updated_at,
    users.c.password_hash.is_not(None).label("has_password"),
)
_TOKEN_COLUMNS = tuple(c for c in api_tokens.c if c.name != "token_hash")


class AccountQueries:
    connection: Connection

    # -- users -----------------------------------------------------------------------------

    def insert_user(self, values: UserRow) -> None:
        try:
            with self.connection.begin_nested():
                self.connection.execute(insert(users).values(**values))
        except IntegrityError:
            raise Conflict(
                f"a user named {values['username']!r} already exists", field="username"
            ) from None

    def get_user(self, user_id: str) -> User | None:
        row = self.connection.execute(
            select(*_USER_COLUMNS).where(users.c.id == user_id)
        ).mappings().first()
        return None if row is None else User.model_validate(dict(row))

    def list_users(self, offset: int, limit: int) -> tuple[int, list[User]]:
        total = self.connection.execute(select(func.count()).select_from(users)).scalar_one()
        rows = self.connection.execute(
            select(*_USER_COLUMNS).order_by(users.c.username).offset(offset).limit(limit)
        ).mappings()
        return total, [User.model_validate(dict(r)) for r in rows]

    def user_credentials(self, *, user_id: str | None = None,
                         username: str | None = None) -> UserCredentials | None:
        """A user by id or by username, with the password hash (sign-in only)."""
        where = users.c.id == user_id if user_id is not None else users.c.username == username
        row = self.connection.execute(
            select(users.c.id, users.c.username, users.c.display_name, users.c.role,
                   users.c.disabled, users.c.password_hash).where(where)
        ).first()
        if row is None:
            return None
        return UserCredentials(id=row[0], username=row[1], display_name=row[2], role=row[3],
                               disabled=row[4], password_hash=row[5])

    def update_user(self, user_id: str, values: UserChanges) -> None:
        self.connection.execute(update(users).where(users.c.id == user_id).values(**values))

    def delete_user(self, user_id: str) -> None:
        # Their tokens and sessions go with them (ON DELETE CASCADE, spelled out for SQLite
        # connections opened without foreign keys on).
        self.connection.execute(delete(api_tokens).where(api_tokens.c.user_id == user_id))
        self.connection.execute(
            delete(console_sessions).where(console_sessions.c.user_id == user_id)
        )
        self.connection.execute(delete(users).where(users.c.id == user_id))

    def enabled_admin_exists(self) -> bool:
        return bool(self.connection.execute(
            select(exists().where(users.c.role == "admin", users.c.disabled.is_(False)))
        ).scalar_one())

    # -- API tokens ------------------------------------------------------------------------

    def insert_token(self, values: TokenRow) -> None:
        try:
            with self.connection.begin_nested():
                self.connection.execute(insert(api_tokens).values(**values))
        except IntegrityError:
            raise Conflict(
                f"the user already has a token named {values['name']!r}", field="name"
            ) from None

    def get_token(self, token_id: str) -> Token | None:
        row = self.connection.execute(
            select(*_TOKEN_COLUMNS).where(api_tokens.c.id == token_id)
        ).mappings().first()
        return None if row is None else Token.model_validate(dict(row))

    def list_tokens(self, user_id: str, offset: int, limit: int) -> tuple[int, list[Token]]:
        where = api_tokens.c.user_id == user_id
        total = self.connection.execute(
            select(func.count()).select_from(api_tokens).where(where)
        ).scalar_one()
        rows = self.connection.execute(
            select(*_TOKEN_COLUMNS).where(where)
            .order_by(api_tokens.c.created_at.desc(), api_tokens.c.id).offset(offset).limit(limit)
        ).mappings()
        return total, [Token.model_validate(dict(r)) for r in rows]

    def find_token(self, token_hash: str) -> TokenOwner | None:
        row = self.connection.execute(
            select(
                api_tokens.c.id, api_tokens.c.name, api_tokens.c.role, api_tokens.c.expires_at,
                api_tokens.c.last_used_at, users.c.id, users.c.username, users.c.display_name,
                users.c.role, users.c.disabled,
            ).join_from(api_tokens, users).where(api_tokens.c.token_hash == token_hash)
        ).first()
        if row is None:
            return None
        return TokenOwner(
            token_id=row[0], token_name=row[1], token_role=row[2], expires_at=row[3],
            last_used_at=row[4], user_id=row[5], username=row[6], display_name=row[7],
            user_role=row[8], user_disabled=row[9],
        )

    def touch_token(self, token_id: str, now: datetime, stale_before: datetime) -> None:
        """Record a use; written at most once per staleness period, not at every request."""
        self.connection.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id,
                   or_(api_tokens.c.last_used_at.is_(None),
                       api_tokens.c.last_used_at < stale_before))
            .values(last_used_at=now)
        )

    def delete_token(self, token_id: str) -> None:
        self.connection.execute(delete(api_tokens).where(api_tokens.c.id == token_id))

    def prune_tokens(self, expired_before: datetime) -> int:
        return self.connection.execute(
            delete(api_tokens).where(api_tokens.c.expires_at < expired_before)
        ).rowcount

    # -- console sessions ------------------------------------------------------------------

    def insert_session(self, values: SessionRow) -> None:
        self.connection.execute(insert(console_sessions).values(**values))

    def get_session(self, session_id: str) -> StoredSession | None:
        s = console_sessions.c
        row = self.connection.execute(
            select(s.id, s.actor_kind, s.csrf, s.created_at, s.last_seen_at, s.expires_at,
                   s.flashes, s.reveal_encrypted, users.c.id, users.c.username,
                   users.c.display_name, users.c.role, users.c.disabled)
            .join_from(console_sessions, users, s.user_id == users.c.id, isouter=True)
            .where(s.id == session_id)
        ).first()
        if row is None:
            return None
        return StoredSession(
            id=row[0], actor_kind=row[1], csrf=row[2], created_at=row[3], last_seen_at=row[4],
            expires_at=row[5],
            flashes=[(str(kind), str(text)) for kind, text in (row[6] or [])],
            reveal_encrypted=row[7], user_id=row[8], username=row[9], display_name=row[10],
            role=row[11], disabled=row[12],
        )

    def update_session(self, session_id: str, values: SessionChanges) -> None:
        self.connection.execute(
            update(console_sessions).where(console_sessions.c.id == session_id).values(**values)
        )

    def delete_session(self, session_id: str) -> None:
        self.connection.execute(delete(console_sessions).where(console_sessions.c.id == session_id))

    def delete_sessions_of(self, *, user_id: str | None, except_id: str | None = None) -> int:
        """Every session of the user (``None``: every root session), but ``except_id``."""
        s = console_sessions.c
        where = s.user_id == user_id if user_id is not None else and_(
            s.user_id.is_(None), s.actor_kind == "root")
        if except_id is not None:
            where = and_(where, s.id != except_id)
        return self.connection.execute(delete(console_sessions).where(where)).rowcount

    def prune_sessions(self, now: datetime, idle_before: datetime) -> int:
        s = console_sessions.c
        return self.connection.execute(
            delete(console_sessions).where(or_(s.expires_at <= now, s.last_seen_at < idle_before))
        ).rowcount

    # -- sign-in failures ------------------------------------------------------------------

    def locked_until(self, keys: Iterable[str], now: datetime) -> datetime | None:
        """The latest lock on any of ``keys`` still in force at ``now``, or None."""
        return self.connection.execute(
            select(func.max(auth_failures.c.locked_until))
            .where(auth_failures.c.key.in_(list(keys)), auth_failures.c.locked_until > now)
        ).scalar_one_or_none()

    def count_failure(self, key: str, now: datetime, window_start: datetime) -> int:
        """One more failure for ``key`` (a failure older than the window starts it anew);
        answers the failures in the window. One atomic statement: nodes counting the
        same key together lose no failure."""
        f = auth_failures.c
        stale = f.first_at < window_start
        count = self.connection.execute(
            update(auth_failures).where(f.key == key).values(
                # SET reads the row as it was: both see the same ``stale``.
                failures=case((stale, 1), else_=f.failures + 1),
                first_at=case((stale, literal(now, UTCDateTime())), else_=f.first_at),
            ).returning(f.failures)
        ).scalar_one_or_none()
        if count is not None:
            return int(count)
        try:
            with self.connection.begin_nested():
                self.connection.execute(
                    insert(auth_failures).values(key=key, failures=1, first_at=now)
                )
        except IntegrityError:  # another node inserted it first: count on it
            return self.count_failure(key, now, window_start)
        return 1

    def lock(self, key: str, until: datetime) -> None:
        self.connection.execute(
            update(auth_failures).where(auth_failures.c.key == key).values(locked_until=until)
        )

    def clear_failures(self, key: str) -> None:
        self.connection.execute(delete(auth_failures).where(auth_failures.c.key == key))

    def prune_failures(self, now: datetime, window_start: datetime) -> int:
        f = auth_failures.c
        return self.connection.execute(
            delete(auth_failures).where(
                f.first_at < window_start, or_(f.locked_until.is_(None), f.locked_until <= now)
            )
        ).rowcount
