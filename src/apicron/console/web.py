"""What every console page shares: templates, the session, CSRF-checked forms, rendering."""

from __future__ import annotations

import asyncio
import hmac
import secrets
import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from apicron.console.formatting import FILTERS
from apicron.console.sessions import COOKIE, Session
from apicron.domain.access import Actor, Permission
from apicron.domain.errors import ApicronError, Unauthorized
from apicron.services import console_sessions
from apicron.services.authentication import SignInRefused, TooManyAttempts, sign_in
from apicron.services.context import Context
from apicron.triggers import load_zone

HERE = Path(__file__).parent
PREFIX = "/console"
LOGIN_CSRF_COOKIE = "apicron_login_csrf"

templates = Jinja2Templates(directory=HERE / "templates")


def _when(value: datetime | None, zone: str | None = None) -> str:
    """A time as a person reads it: in the given zone (the task's), with its abbreviation."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(load_zone(zone) if zone else UTC)
    return local.strftime("%Y-%m-%d %H:%M:%S ") + (local.tzname() or "")


templates.env.filters["when"] = _when
templates.env.filters.update(FILTERS)


class LoginRequired(Exception):
    def __init__(self, path: str):
        self.path = path


class CsrfRejected(Exception):
    pass


class Form:
    """An urlencoded form, repeated names kept in order (header and parameter rows)."""

    def __init__(self, fields: dict[str, list[str]]):
        self.fields = fields

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        return self.fields.get(name, [])


def context_of(request: Request) -> Context:
    """The services' context as nobody (a page acts through its session's context)."""
    ctx: Context = request.app.state.ctx
    return ctx


def client_address(request: Request) -> str | None:
    return request.client.host[:64] if request.client else None


def current_session(request: Request) -> Session:
    opened = console_sessions.load_session(
        context_of(request), request.cookies.get(COOKIE), client_address(request)
    )
    if opened is None:
        # After logging in, come back to the page (a form's target cannot be re-posted).
        if request.method == "GET":
            query = f"?{request.url.query}" if request.url.query else ""
            raise LoginRequired(request.url.path + query)
        raise LoginRequired(f"{PREFIX}/instances")
    return Session(context_of(request), opened)


async def read_form(request: Request) -> Form:
    # The management app's BodyLimit already caps the size (4 MiB: a 1 MiB task body grows
    # when form-encoded).
    body = await request.body()
    return Form(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))


async def checked_form(request: Request) -> Form:
    """The posted form of a logged-in session whose CSRF token matches (every POST)."""
    session = current_session(request)
    form = await read_form(request)
    if not hmac.compare_digest(form.get("csrf_token").encode(), session.csrf.encode()):
        raise CsrfRejected("the form's CSRF token does not match the session")
    return form


def checked_header(request: Request) -> Session:
    """For the console's JSON endpoints: session cookie plus the CSRF token as a header."""
    session = current_session(request)
    token = request.headers.get("x-csrf-token", "")
    if not hmac.compare_digest(token.encode(), session.csrf.encode()):
        raise CsrfRejected("the X-CSRF-Token header does not match the session")
    return session


async def checked_json(request: Request) -> Any:
    """The JSON body of a console JSON endpoint, after its session and CSRF header checks."""
    checked_header(request)
    try:
        return await request.json()
    except (ValueError, RecursionError):  # not JSON, or nested past what the reader takes
        return None


SessionDep = Annotated[Session, Depends(current_session)]
FormDep = Annotated[Form, Depends(checked_form)]


def acting_context(session: SessionDep) -> Context:
    """The services' context acting as the session's actor (user or root)."""
    return session.ctx


Ctx = Annotated[Context, Depends(acting_context)]
JsonDep = Annotated[Any, Depends(checked_json)]
# A page, or the redirect that answers a form (FastAPI needs one Response class here).
Answer = Response


@cache
def timezones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


# Only the console's own files run: no inline script, no third-party origin, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Pages can show a secret once: never keep them in a cache.
    "Cache-Control": "no-store",
}


def harden(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def denial(actor: Actor, permission_name: str) -> str | None:
    """Why ``actor`` may not use a page or button needing ``Permission[permission_name]``,
    for its tooltip; None when it may."""
    permission = Permission[permission_name]
    if actor.holds(permission):
        return None
    return f"Needs the {permission.role} role (you are {actor.role or 'nobody'})"


def refused(session: Session, permission_name: str, to: str) -> RedirectResponse | None:
    """For a form page the session's role may not use: back to ``to`` saying why."""
    reason = denial(session.actor, permission_name)
    if reason is None:
        return None
    session.flash("error", f"{reason}.")
    return back(to)


def render(
    request: Request, session: Session, template: str, http_status: int = 200, **values: Any
) -> HTMLResponse:
    ctx = context_of(request)
    values.setdefault("flashes", session.pop_flashes())
    actor = session.actor
    response = templates.TemplateResponse(
        request,
        template,
        {"csrf": session.csrf, "gateway_url": ctx.gateway_url, "me": actor,
         "denied": lambda name: denial(actor, name), **values},
        status_code=http_status,
    )
    harden(response)
    return response


def back(path: str) -> RedirectResponse:
    """Post-redirect-get: a form's answer is a 303 to the page that shows the result."""
    return RedirectResponse(path, status_code=303)


def act(
    session: Session, to: str, action: Callable[[], str], refused: str = ""
) -> RedirectResponse:
    """Run a state change posted by a button: flash the message it returns, or the
    service's refusal (after ``refused``), then go back to ``to``."""
    try:
        message = action()
    except ApicronError as error:
        session.flash("error", f"{refused}{error}")
    else:
        session.flash("ok", message)
    return back(to)


router = APIRouter(include_in_schema=False)


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/instances", status_code=302)


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    """The console's icon (an SVG: browsers take it from /favicon.ico too)."""
    return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=86400"})


@router.get(PREFIX)
@router.get(f"{PREFIX}/")
def console_root() -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/instances", status_code=302)


def _safe_next(target: str) -> str:
    # Only a path of the console itself: never an open redirect to another site.
    if target.startswith(f"{PREFIX}/") and not target.startswith("//") and "\\" not in target:
        return target
    return f"{PREFIX}/instances"


def _login_page(
    request: Request, next_path: str, error: str | None, status: int, username: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    token = secrets.token_urlsafe(24)
    response = templates.TemplateResponse(
        request,
        "login.html",
        {"csrf": token, "next": next_path, "error": error, "flashes": [], "username": username},
        status_code=status,
        headers=headers,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path=f"{PREFIX}/login",
        secure=request.url.scheme == "https",
    )
    return harden(response)


@router.get(f"{PREFIX}/login")
def login_page(request: Request, next: str = "") -> Response:
    return _login_page(request, _safe_next(next), None, 200)


@router.post(f"{PREFIX}/login")
async def login(request: Request) -> Response:
    form = await read_form(request)
    expected_csrf = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    next_path = _safe_next(form.get("next"))
    if not expected_csrf or not hmac.compare_digest(
        form.get("csrf_token").encode(), expected_csrf.encode()
    ):
        return _login_page(request, next_path, "The form expired; please try again.", 403)
    username = form.get("username").strip()
    ctx, address = context_of(request), client_address(request)
    admin_token: str = request.app.state.admin_token
    try:
        actor = await asyncio.to_thread(
            sign_in, ctx, username, form.get("password"), admin_token, address
        )
    except SignInRefused as refused:
        if refused.delay_s:
            await asyncio.sleep(refused.delay_s)
        wrong = ("That is not the admin token." if username in ("", "root")
                 else "Wrong username or password.")
        return _login_page(request, next_path, wrong, 401, username)
    except TooManyAttempts as locked:
        return _login_page(request, next_path, f"Too many failed sign-ins: try again in "
                           f"{locked.retry_after_s} s.", 429, username,
                           headers={"Retry-After": str(locked.retry_after_s)})
    except Unauthorized as refused:
        return _login_page(request, next_path, f"{refused.message}.", 401, username)
    cookie, _ = await asyncio.to_thread(console_sessions.open_session, ctx, actor)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        COOKIE, cookie, max_age=int(ctx.access.session_max.total_seconds()), httponly=True,
        samesite="strict", path="/", secure=request.url.scheme == "https",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=f"{PREFIX}/login")
    return response


def _logged_out() -> Response:
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.post(f"{PREFIX}/logout")
def logout(session: SessionDep, _form: FormDep) -> Response:
    console_sessions.end_session(session.ctx, session.key)
    return _logged_out()


@router.post(f"{PREFIX}/logout-everywhere")
def logout_everywhere(session: SessionDep, _form: FormDep) -> Response:
    """Every console session of this user (root: every root session) ends, on every node."""
    console_sessions.end_every_session(session.ctx)
    return _logged_out()

