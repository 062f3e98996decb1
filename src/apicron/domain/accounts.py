"""Users, their API tokens, who is asking (``/v1/me``) and the audit log's entries.

DESIGN.md "Users, tokens, audit" fixes the JSON fields; the rules a value alone decides
(username shape, password length and likeness to the username) are checked here, so the
REST API, the CLI and the console give the same message (issue 16).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictBool, StrictStr, model_validator

from apicron.domain import rules
from apicron.domain.errors import InvalidInput
from apicron.domain.models import AwareTextDatetime, Input, Name, Record
from apicron.domain.validation import reported_to_pydantic
from apicron.domain.vocabulary import ActorKind, AuditActorKind, Role

USERNAME_PATTERN = re.compile(r"[a-z][a-z0-9._-]{1,63}")
# Names the console's login and the audit log give a meaning of their own.
RESERVED_USERNAMES = frozenset({"root", "system", "anonymous"})
PASSWORD_MIN = 12
# Argon2 hashes any length, but a megabyte password is a way to spend the server's CPU.
PASSWORD_MAX = 1024
DISPLAY_NAME_MAX = 128


def check_username(field: str, value: str) -> str:
    if not USERNAME_PATTERN.fullmatch(value):
        raise InvalidInput(
            "must be 2-64 characters: a lower-case letter, then lower-case letters, digits, "
            "'.', '_' or '-'",
            field=field,
        )
    if value in RESERVED_USERNAMES:
        raise InvalidInput(
            f"{value!r} is reserved (the console's root login and the audit log use it)",
            field=field,
        )
    return value


def check_password(field: str, password: str, username: str | None) -> None:
    """OWASP ASVS 2.1: a minimum length (12), no maximum below 64 (ours is 1024), any
    character allowed; and not the username, nor containing it (issue 16)."""
    if len(password) < PASSWORD_MIN:
        raise InvalidInput(f"must be at least {PASSWORD_MIN} characters long", field=field)
    if len(password) > PASSWORD_MAX:
        raise InvalidInput(f"must be at most {PASSWORD_MAX} characters long", field=field)
    if username and username.lower() in password.lower():
        raise InvalidInput("must not contain the username", field=field)


def _username(value: str) -> str:
    with reported_to_pydantic():
        return check_username("username", value)


def _display_name(value: str) -> str:
    value = value.strip()
    with reported_to_pydantic():
        rules.check_storable_text("display_name", value)
        if len(value) > DISPLAY_NAME_MAX:
            raise InvalidInput(
                f"must be at most {DISPLAY_NAME_MAX} characters long", field="display_name"
            )
    return value


Username = Annotated[
    StrictStr,
    AfterValidator(_username),
    Field(json_schema_extra={"pattern": f"^{USERNAME_PATTERN.pattern}$"}),
]
DisplayName = Annotated[
    StrictStr, AfterValidator(_display_name), Field(json_schema_extra={"maxLength": 128})
]
# Kept out of repr() by each field (a repr=False on the alias would not reach a union).
Password = StrictStr


class User(Record):
    id: str
    username: str
    display_name: str
    role: Role
    disabled: bool
    has_password: bool = Field(
        description="false: the user signs in with API tokens only (no console login)"
    )
    created_at: datetime
    updated_at: datetime


class UserCreate(Input):
    username: Username
    display_name: DisplayName = ""
    role: Role
    password: Password | None = Field(default=None, repr=False,
                                      description="none: API tokens only; never shown")
    disabled: StrictBool = False

    @model_validator(mode="after")
    def _password(self) -> UserCreate:
        if self.password is not None:
            with reported_to_pydantic():
                check_password("password", self.password, self.username)
        return self


class UserUpdate(Input):
    """Only the fields given change; a new ``password`` ends the user's console sessions."""

    display_name: DisplayName | None = None
    role: Role | None = None
    disabled: StrictBool | None = None
    password: Password | None = Field(default=None, repr=False)


class MeUpdate(Input):
    """What a user changes of their own account; a new password needs the current one."""

    display_name: DisplayName | None = None
    password: Password | None = Field(default=None, repr=False)
    current_password: Password | None = Field(default=None, repr=False)


class Token(Record):
    id: str
    user_id: str
    name: str
    role: Role
    expires_at: datetime
    created_at: datetime
    last_used_at: datetime | None


class TokenWithSecret(Token):
    """Only the create answer carries the token."""

    token: str = Field(repr=False)


TOKEN_DAYS_DEFAULT = 90
TOKEN_DAYS_MAX = 366


class TokenCreate(Input):
    name: Name
    role: Role | None = Field(
        default=None,
        description="a lower role than the user's limits the token (default: the user's)",
    )
    expires_at: AwareTextDatetime | None = Field(
        default=None,
        description=f"RFC 3339 with an offset; default {TOKEN_DAYS_DEFAULT} days from now, "
        f"at most {TOKEN_DAYS_MAX}",
    )


class Me(Record):
    """Who the request acts as (``GET /v1/me``)."""

    actor_kind: ActorKind
    username: str
    display_name: str
    role: Role | None
    user_id: str | None
    token_name: str | None = None
    token_expires_at: datetime | None = None




class AuditEntry(Record):
    """One change, as ``GET /v1/audit`` answers it. ``changes`` maps each changed field to
    ``{"before": …, "after": …}`` (secrets as ``"[redacted]"``); null when nothing but
    the event itself is worth keeping (a login)."""

    id: int
    at: datetime
    actor: str
    actor_kind: AuditActorKind
    token_name: str | None
    address: str | None
    action: str
    resource_type: str
    resource_id: str | None
    resource_name: str | None
    changes: dict[str, Any] | None
