"""My Account (password, API tokens, logout everywhere), Users (admin) and the Audit Log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from apicron.console.web import (
    PREFIX,
    Answer,
    Ctx,
    FormDep,
    SessionDep,
    act,
    back,
    refused,
    render,
)
from apicron.domain.access import ROLES
from apicron.domain.accounts import MeUpdate, TokenCreate, UserCreate, UserUpdate
from apicron.domain.errors import ApicronError, Conflict, InvalidInput
from apicron.domain.impossible_dates import impossible
from apicron.domain.validation import validate
from apicron.services import audit, tokens, users

router = APIRouter(prefix=PREFIX, include_in_schema=False)
ALL = 500
AUDIT_PAGE = 50
TOKEN_DAYS = (7, 30, 90, 180, 366)


def _problems(error: ApicronError) -> dict[str, str]:
    if not error.problems:
        return {"form": str(error)}
    shown: dict[str, str] = {}
    for problem in error.problems:
        key = problem.field.split(".")[0]
        shown[key] = f"{shown[key]}; {problem.rule}" if key in shown else problem.rule
    return shown


# --- My Account ---------------------------------------------------------------------------


def _account(request: Request, session: SessionDep, ctx: Ctx, status: int = 200,
             errors: dict[str, str] | None = None) -> HTMLResponse:
    me = users.get_me(ctx)
    own = [] if me.user_id is None else tokens.list_tokens(ctx, me.user_id, 0, ALL).items
    return render(
        request, session, "account.html", http_status=status, nav="account", account=me,
        tokens=own, reveal=session.pop_reveal(), errors=errors or {}, roles=ROLES,
        token_days=TOKEN_DAYS, now=datetime.now(UTC),
    )


@router.get("/account")
def account_page(request: Request, session: SessionDep, ctx: Ctx) -> HTMLResponse:
    return _account(request, session, ctx)


@router.post("/account/tokens")
def create_own_token(request: Request, session: SessionDep, form: FormDep, ctx: Ctx) -> Answer:
    me = users.get_me(ctx)
    days = form.get("days", "90")
    try:
        if me.user_id is None:
            raise Conflict("root has no account: API tokens belong to users; create a "
                           "user (Users) and log in as them")
        spec = validate(TokenCreate, {
            "name": form.get("name").strip(),
            "role": form.get("role") or None,
            "expires_at": (datetime.now(UTC) + timedelta(days=int(days))).isoformat()
            if days.isdigit() else days,
        })
        created = tokens.create_token(ctx, me.user_id, spec)
    except ApicronError as error:
        return _account(request, session, ctx, error.status, _problems(error))
    session.reveal = {"name": created.name, "token": created.token,
                      "expires_at": created.expires_at.isoformat()}
    session.flash("ok", f"API token {created.name} created.")
    return back(f"{PREFIX}/account")


@router.post("/account/tokens/{token_id}/revoke")
def revoke_own_token(token_id: str, session: SessionDep, _form: FormDep,
                     ctx: Ctx) -> RedirectResponse:
    def revoke() -> str:
        tokens.revoke_token(ctx, token_id)
        return "API token revoked: it no longer works, on any node."

    return act(session, f"{PREFIX}/account", revoke, "Not revoked: ")


@router.post("/account/password")
def change_password(request: Request, session: SessionDep, form: FormDep, ctx: Ctx) -> Answer:
    try:
        if form.get("password") != form.get("password_again"):
            raise InvalidInput("differs from the new password", field="password_again")
        users.update_me(ctx, validate(MeUpdate, {
            "password": form.get("password"),
            "current_password": form.get("current_password"),
        }))
    except ApicronError as error:
        return _account(request, session, ctx, error.status, _problems(error))
    session.flash("ok", "Password changed; your other sessions were logged out.")
    return back(f"{PREFIX}/account")


# --- Users (admin) ------------------------------------------------------------------------


@router.get("/users")
def users_page(request: Request, session: SessionDep, ctx: Ctx) -> Answer:
    try:
        page = users.list_users(ctx, 0, ALL)
    except ApicronError as error:
        session.flash("error", str(error))
        return back(f"{PREFIX}/account")
    return render(request, session, "users.html", nav="users", users=page.items,
                  total=page.total)


def _user_form(request: Request, session: SessionDep, values: dict[str, Any],
               errors: dict[str, str], user_id: str | None = None,
               status: int = 200) -> HTMLResponse:
    return render(request, session, "user_form.html", http_status=status, nav="users",
                  values=values, errors=errors, user_id=user_id, roles=ROLES)


@router.get("/users/new")
def new_user_page(request: Request, session: SessionDep) -> Answer:
    if away := refused(session, "USERS", f"{PREFIX}/account"):
        return away
    return _user_form(request, session, {"role": "viewer"}, {})


@router.post("/users")
def create_user(request: Request, session: SessionDep, form: FormDep, ctx: Ctx) -> Answer:
    values = {"username": form.get("username").strip(),
              "display_name": form.get("display_name"), "role": form.get("role")}
    try:
        spec = validate(UserCreate, {**values, "password": form.get("password") or None})
        user = users.create_user(ctx, spec)
    except ApicronError as error:
        return _user_form(request, session, values, _problems(error), status=error.status)
    session.flash("ok", f"User {user.username} created ({user.role}).")
    return back(f"{PREFIX}/users")


@router.get("/users/{user_id}")
def edit_user_page(request: Request, session: SessionDep, ctx: Ctx, user_id: str) -> Answer:
    try:
        user = users.get_user(ctx, user_id)
        owned = tokens.list_tokens(ctx, user_id, 0, ALL).items
    except ApicronError as error:
        session.flash("error", str(error))
        return back(f"{PREFIX}/users")
    return render(request, session, "user_form.html", nav="users", values=user.model_dump(),
                  errors={}, user_id=user_id, roles=ROLES, tokens=owned)


@router.post("/users/{user_id}")
def update_user(request: Request, session: SessionDep, form: FormDep, ctx: Ctx,
                user_id: str) -> Answer:
    values = {"display_name": form.get("display_name"), "role": form.get("role"),
              "disabled": form.get("disabled") == "on"}
    try:
        patch = validate(UserUpdate, {**values, "password": form.get("password") or None})
        user = users.update_user(ctx, user_id, patch)
    except ApicronError as error:
        return _user_form(request, session, {**values, "username": form.get("username")},
                          _problems(error), user_id, error.status)
    session.flash("ok", f"User {user.username} saved.")
    return back(f"{PREFIX}/users")


@router.post("/users/{user_id}/delete")
def delete_user(user_id: str, session: SessionDep, _form: FormDep, ctx: Ctx) -> RedirectResponse:
    def delete() -> str:
        name = users.get_user(ctx, user_id).username
        users.delete_user(ctx, user_id)
        return f"User {name} deleted; their sessions and API tokens ended."

    return act(session, f"{PREFIX}/users", delete, "Not deleted: ")


@router.post("/users/{user_id}/tokens/{token_id}/revoke")
def revoke_token(user_id: str, token_id: str, session: SessionDep, _form: FormDep,
                 ctx: Ctx) -> RedirectResponse:
    def revoke() -> str:
        tokens.revoke_token(ctx, token_id)
        return "API token revoked."

    return act(session, f"{PREFIX}/users/{user_id}", revoke, "Not revoked: ")


# --- Audit Log ----------------------------------------------------------------------------


AUDIT_TIME_RULE = "must be a UTC date-time as YYYY-MM-DD HH:MM (seconds optional)"


def _moment(text: str, field: str) -> datetime | None:
    """The filter's time as typed: ``2027-03-01 09:30`` (UTC, as the page says; seconds,
    a ``T`` or an offset are accepted too), or ``None`` when empty. Raises InvalidInput
    naming ``field``: a time that cannot be read is said, never dropped from the filter."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        reason = impossible(text) or f"{AUDIT_TIME_RULE}, got {text!r}"
        raise InvalidInput(reason, field=field) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@router.get("/audit")
def audit_page(
    request: Request, session: SessionDep, ctx: Ctx, actor: str = "", resource_type: str = "",
    action: str = "", start: str = "", end: str = "", page: int = 1,
) -> Answer:
    page = min(max(page, 1), 1_000_000)
    filters = {"actor": actor.strip()[:64], "resource_type": resource_type.strip()[:32],
               "action": action.strip()[:32], "start": start[:32], "end": end[:32]}
    try:
        bounds = _moment(start, "start"), _moment(end, "end")
    except InvalidInput as error:
        # The page again with what was typed and the rule, listing nothing: a filter
        # left out would list entries the user did not ask for.
        session.flash("error", f"{'From' if error.field == 'start' else 'To'}: {error.rule}")
        return render(request, session, "audit.html", nav="audit", entries=[], total=0,
                      page=1, pages=1, filters=filters)
    try:
        result = audit.list_audit(
            ctx, actor=filters["actor"] or None, resource_type=filters["resource_type"] or None,
            action=filters["action"] or None, start=bounds[0], end=bounds[1],
            offset=(page - 1) * AUDIT_PAGE, limit=AUDIT_PAGE,
        )
    except ApicronError as error:
        session.flash("error", str(error))
        return back(f"{PREFIX}/account")
    pages = max(1, -(-result.total // AUDIT_PAGE))
    return render(request, session, "audit.html", nav="audit", entries=result.items,
                  total=result.total, page=page, pages=pages, filters=filters)
