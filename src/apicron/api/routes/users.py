"""Users (admin), their API tokens, ``/v1/me`` and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from apicron.api.openapi_docs import body_example
from apicron.api.routes.common import ERRORS, Ctx, Limit, Offset, needs
from apicron.domain.access import Permission
from apicron.domain.accounts import (
    AuditEntry,
    Me,
    MeUpdate,
    Token,
    TokenCreate,
    TokenWithSecret,
    User,
    UserCreate,
    UserUpdate,
)
from apicron.domain.models import AwareTextDatetime, Page
from apicron.services import audit, tokens, users

router = APIRouter(prefix="/v1/users", tags=["users"], responses=ERRORS)
tokens_router = APIRouter(prefix="/v1/tokens", tags=["users"], responses=ERRORS)
me_router = APIRouter(prefix="/v1/me", tags=["users"], responses=ERRORS)
audit_router = APIRouter(prefix="/v1/audit", tags=["audit"], responses=ERRORS)


@router.post(
    "", status_code=201, operation_id="createUser", summary="Create a user",
    **needs(Permission.USERS, extra=body_example(
        {"username": "dana", "display_name": "Dana (on call)", "role": "operator",
         "password": "correct-horse-battery"})),
)
def create_user(ctx: Ctx, spec: UserCreate) -> User:
    """Without ``password`` the user signs in with API tokens only."""
    return users.create_user(ctx, spec)


@router.get("", operation_id="listUsers", summary="List users",
            **needs(Permission.USERS))
def list_users(ctx: Ctx, offset: Offset = 0, limit: Limit = 20) -> Page[User]:
    """Every user, ordered by username; never a password or a token."""
    return users.list_users(ctx, offset, limit)


@router.get("/{user_id}", operation_id="getUser", summary="Read a user",
            **needs(Permission.USERS))
def get_user(ctx: Ctx, user_id: str) -> User:
    """The user: username, display name, role, whether disabled and has a password."""
    return users.get_user(ctx, user_id)


@router.put(
    "/{user_id}", operation_id="updateUser", summary="Change a user (only the fields given)",
    **needs(Permission.USERS, extra=body_example({"role": "viewer", "disabled": False})),
)
def update_user(ctx: Ctx, user_id: str, patch: UserUpdate) -> User:
    """Changes the fields given; a new password, disabling or a lower role ends the user's
    console sessions."""
    return users.update_user(ctx, user_id, patch)


@router.delete("/{user_id}", status_code=204, operation_id="deleteUser",
               summary="Delete a user", **needs(Permission.USERS))
def delete_user(ctx: Ctx, user_id: str) -> Response:
    """The user's tokens and sessions end with them; the audit log keeps their name."""
    users.delete_user(ctx, user_id)
    return Response(status_code=204)


@router.post(
    "/{user_id}/tokens", status_code=201, operation_id="createToken",
    summary="Create an API token for a user",
    **needs(Permission.OWN_TOKENS, extra=body_example({"name": "ci_deploys", "role": "viewer"})),
)
def create_token(ctx: Ctx, user_id: str, spec: TokenCreate) -> TokenWithSecret:
    """One's own (any role) or any user's (admin). ``token`` is in this answer only."""
    return tokens.create_token(ctx, user_id, spec)


@router.get("/{user_id}/tokens", operation_id="listTokens", summary="List a user's API tokens",
            **needs(Permission.OWN_TOKENS))
def list_tokens(ctx: Ctx, user_id: str, offset: Offset = 0, limit: Limit = 20) -> Page[Token]:
    """One's own (any role) or any user's (admin); newest first, never the tokens."""
    return tokens.list_tokens(ctx, user_id, offset, limit)


@tokens_router.delete("/{token_id}", status_code=204, operation_id="revokeToken",
                      summary="Revoke an API token", **needs(Permission.OWN_TOKENS))
def revoke_token(ctx: Ctx, token_id: str) -> Response:
    """Stops working at the next request, on every node."""
    tokens.revoke_token(ctx, token_id)
    return Response(status_code=204)


@me_router.get("", operation_id="getMe", summary="Who this request acts as",
               **needs(Permission.READ))
def get_me(ctx: Ctx) -> Me:
    """Who this request acts as: ``root``, or a user (with the token's name and expiry)."""
    return users.get_me(ctx)


@me_router.put(
    "", operation_id="updateMe", summary="Change one's own account (only the fields given)",
    **needs(Permission.READ, extra=body_example({"display_name": "Dana Q."})),
)
def update_me(ctx: Ctx, patch: MeUpdate) -> Me:
    """A user's own display name, or password (with ``current_password``; not through an
    API token)."""
    return users.update_me(ctx, patch)


@audit_router.get("", operation_id="listAudit", summary="List audit log entries",
                  **needs(Permission.AUDIT))
def list_audit(
    ctx: Ctx,
    actor: Annotated[str | None, Query(max_length=64, description="username, or root")] = None,
    resource_type: Annotated[
        str | None, Query(max_length=32, description="app, group, api, grant, task, "
                          "instance, user, token, session, sign-in")] = None,
    resource_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[
        str | None, Query(max_length=32, description="create, update, delete, start, stop, "
                          "run, publish, unpublish, grant, revoke, reset-secret, login, "
                          "login-failed, logout, logout-all, lockout")] = None,
    start: Annotated[
        AwareTextDatetime | None,
        Query(alias="from", description="at or after (RFC 3339, with an offset)"),
    ] = None,
    end: Annotated[
        AwareTextDatetime | None,
        Query(alias="to", description="before (RFC 3339, with an offset)"),
    ] = None,
    offset: Offset = 0,
    limit: Limit = 20,
) -> Page[AuditEntry]:
    """Newest first. Append-only: no operation deletes an entry (they are pruned after
    APICRON_AUDIT_RETENTION days)."""
    return audit.list_audit(
        ctx, actor=actor, resource_type=resource_type, resource_id=resource_id,
        action=action, start=start, end=end, offset=offset, limit=limit,
    )
