"""Instances, Integration Applications and API Connect > APIs (groups, APIs, grants)."""

from __future__ import annotations

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
    timezones,
)
from apicron.domain.errors import ApicronError
from apicron.domain.models import (
    ApiCreate,
    AppCreate,
    GrantCreate,
    GroupCreate,
    InstanceUpdate,
)
from apicron.domain.validation import validate
from apicron.services import apis, apps, grants, groups, instance, tasks

router = APIRouter(prefix=PREFIX, include_in_schema=False)
ALL = 500


def _field_errors(error: ApicronError, known: set[str]) -> dict[str, str]:
    """Every problem at its field when the form has that field, else at the top of the form
    (two at one place share it, joined by "; ")."""
    if not error.problems:
        return {"form": str(error)}
    shown: dict[str, str] = {}
    for problem in error.problems:
        field = problem.field.split(".")[0].split("[")[0]
        if field in known:
            key, text = field, problem.rule
        else:
            key, text = "form", f"{problem.field}: {problem.rule}"
        shown[key] = f"{shown[key]}; {text}" if key in shown else text
    return shown


# --- Instances ----------------------------------------------------------------------------


@router.get("/instances")
def instances_page(request: Request, session: SessionDep, ctx: Ctx) -> HTMLResponse:
    info = instance.get_instance(ctx)
    counts = {
        "apps": apps.list_apps(ctx, None, 0, 1).total,
        "tasks": tasks.list_tasks(
            ctx, name=None, status=None, app_id=None, api_id=None, offset=0, limit=1
        ).total,
        "started": tasks.list_tasks(
            ctx, name=None, status="STARTED", app_id=None, api_id=None, offset=0, limit=1
        ).total,
    }
    return render(request, session, "instances.html", nav="instances", info=info, counts=counts)


def _progress(ctx: Ctx) -> dict[str, int]:
    """How far the seed's prerequisites are, for the instance page's getting-started list."""
    return {
        "apps": apps.list_apps(ctx, None, 0, 1).total,
        "published": apis.list_apis(
            ctx, name=None, group_id=None, app_id=None, published=True, offset=0, limit=1
        ).total,
        "tasks": tasks.list_tasks(
            ctx, name=None, status=None, app_id=None, api_id=None, offset=0, limit=1
        ).total,
    }


@router.get("/instance")
def instance_page(request: Request, session: SessionDep, ctx: Ctx) -> HTMLResponse:
    return render(
        request, session, "instance.html", nav="instance", info=instance.get_instance(ctx),
        zones=timezones(), errors={}, progress=_progress(ctx),
    )


@router.post("/instance")
def update_instance(request: Request, session: SessionDep, form: FormDep, ctx: Ctx) -> Answer:
    data = {
        "params": {
            "app_route": form.get("app_route") == "on",
            "app_secret": form.get("app_secret") == "on",
        },
        "timezone": form.get("timezone"),
        "name": form.get("name").strip(),
    }
    try:
        instance.update_instance(ctx, validate(InstanceUpdate, data))
    except ApicronError as error:
        return render(
            request, session, "instance.html", http_status=error.status, nav="instance",
            info=instance.get_instance(ctx), zones=timezones(), progress=_progress(ctx),
            errors=_field_errors(error, {"timezone", "params", "name"}),
        )
    session.flash("ok", "Instance parameters saved.")
    return back(f"{PREFIX}/instance")


# --- Integration Applications -------------------------------------------------------------


@router.get("/apps")
def apps_page(request: Request, session: SessionDep, ctx: Ctx, q: str = "") -> HTMLResponse:
    page = apps.list_apps(ctx, q or None, 0, ALL)
    return render(
        request, session, "apps.html", nav="apps", apps=page.items, total=page.total, q=q,
        reveal=session.pop_reveal(),
    )


@router.get("/apps/new")
def new_app_page(request: Request, session: SessionDep) -> Answer:
    if away := refused(session, "APPS", f"{PREFIX}/apps"):
        return away
    return render(request, session, "app_form.html", nav="apps", values={}, errors={})


@router.post("/apps")
def create_app(request: Request, session: SessionDep, form: FormDep, ctx: Ctx) -> Answer:
    values = {"name": form.get("name").strip(), "description": form.get("description")}
    try:
        created = apps.create_app(ctx, validate(AppCreate, values))
    except ApicronError as error:
        return render(
            request, session, "app_form.html", http_status=error.status, nav="apps", values=values,
            errors=_field_errors(error, {"name", "description"}),
        )
    session.reveal = {"name": created.name, "key": created.key, "secret": created.secret,
                      "why": "created"}
    session.flash("ok", f"Integration application {created.name} created.")
    return back(f"{PREFIX}/apps")


@router.post("/apps/{app_id}/reset-secret")
def reset_secret(app_id: str, session: SessionDep, _form: FormDep, ctx: Ctx) -> RedirectResponse:
    try:
        app = apps.reset_secret(ctx, app_id)
    except ApicronError as error:
        session.flash("error", str(error))
    else:
        session.reveal = {"name": app.name, "key": app.key, "secret": app.secret,
                          "why": "reset"}
        session.flash("ok", f"The secret of {app.name} was reset; the old one no longer works.")
    return back(f"{PREFIX}/apps")


@router.post("/apps/{app_id}/delete")
def delete_app(app_id: str, session: SessionDep, _form: FormDep, ctx: Ctx) -> RedirectResponse:
    def delete() -> str:
        name = apps.get_app(ctx, app_id).name
        apps.delete_app(ctx, app_id)
        return f"Integration application {name} deleted."

    return act(session, f"{PREFIX}/apps", delete, "Not deleted: ")


# --- API Connect > APIs -------------------------------------------------------------------


def _app_names(ctx: Ctx) -> dict[str, str]:
    return {a.id: a.name for a in apps.list_apps(ctx, None, 0, ALL).items}


@router.get("/apis")
def apis_page(request: Request, session: SessionDep, ctx: Ctx) -> HTMLResponse:
    group_page = groups.list_groups(ctx, None, None, 0, ALL)
    api_page = apis.list_apis(
        ctx, name=None, group_id=None, app_id=None, published=None, offset=0, limit=ALL
    )
    grant_counts: dict[str, int] = {}
    for grant in grants.list_grants(ctx, None, None, 0, ALL).items:
        grant_counts[grant.api_id] = grant_counts.get(grant.api_id, 0) + 1
    return render(
        request, session, "apis.html", nav="apis", groups=group_page.items,
        apis=api_page.items, app_names=_app_names(ctx),
        group_names={g.id: g.name for g in group_page.items}, grant_counts=grant_counts,
    )


@router.get("/groups/new")
def new_group_page(request: Request, session: SessionDep, ctx: Ctx) -> Answer:
    if away := refused(session, "APIS", f"{PREFIX}/apis"):
        return away
    return render(
        request, session, "group_form.html", nav="apis", values={}, errors={},
        app_names=_app_names(ctx),
    )


@router.post("/groups")
def create_group(request: Request, session: SessionDep, form: FormDep, ctx: Ctx) -> Answer:
    values = {
        "name": form.get("name").strip(),
        "app_id": form.get("app_id"),
        "description": form.get("description"),
    }
    try:
        group = groups.create_group(ctx, validate(GroupCreate, values))
    except ApicronError as error:
        return render(
            request, session, "group_form.html", http_status=error.status, nav="apis",
            values=values, errors=_field_errors(error, {"name", "app_id", "description"}),
            app_names=_app_names(ctx),
        )
    session.flash("ok", f"API group {group.name} created.")
    return back(f"{PREFIX}/apis")


@router.post("/groups/{group_id}/delete")
def delete_group(group_id: str, session: SessionDep, _form: FormDep, ctx: Ctx) -> RedirectResponse:
    def delete() -> str:
        groups.delete_group(ctx, group_id)
        return "API group deleted."

    return act(session, f"{PREFIX}/apis", delete, "Not deleted: ")


API_FIELDS = ("group_id", "name", "description", "method", "path", "auth_type", "backend_url",
              "backend_timeout_ms")


@router.get("/apis/new")
def new_api_page(request: Request, session: SessionDep, ctx: Ctx) -> Answer:
    if away := refused(session, "APIS", f"{PREFIX}/apis"):
        return away
    return render(
        request, session, "api_form.html", nav="apis", errors={},
        values={"method": "POST", "auth_type": "APP", "backend_timeout_ms": "5000"},
        groups=groups.list_groups(ctx, None, None, 0, ALL).items,
    )


@router.post("/apis")
def create_api(request: Request, session: SessionDep, form: FormDep, ctx: Ctx) -> Answer:
    values: dict[str, object] = {f: form.get(f).strip() for f in API_FIELDS}
    values["description"] = form.get("description")
    values["publish"] = form.get("publish") == "on"
    timeout = str(values["backend_timeout_ms"])
    data = {**values, "backend_timeout_ms": int(timeout) if timeout.isdigit() else timeout}
    try:
        # One transaction: a refused publish leaves no API behind.
        api = apis.create_api(ctx, validate(ApiCreate, data))
    except ApicronError as error:
        return render(
            request, session, "api_form.html", http_status=error.status, nav="apis",
            values=values, errors=_field_errors(error, set(API_FIELDS)),
            groups=groups.list_groups(ctx, None, None, 0, ALL).items,
        )
    session.flash("ok", f"API {api.name} created" + (" and published." if
                  api.published else "; publish it to make it callable."))
    return back(f"{PREFIX}/apis")


@router.post("/apis/{api_id}/publish")
def publish(api_id: str, session: SessionDep, _form: FormDep, ctx: Ctx) -> RedirectResponse:
    return act(
        session, f"{PREFIX}/apis",
        lambda: f"API {apis.publish_api(ctx, api_id).name} published: the gateway serves it now.",
        "Not published: ",
    )


@router.post("/apis/{api_id}/unpublish")
def unpublish(api_id: str, session: SessionDep, _form: FormDep, ctx: Ctx) -> RedirectResponse:
    return act(
        session, f"{PREFIX}/apis",
        lambda: f"API {apis.unpublish_api(ctx, api_id).name} unpublished.", "Not unpublished: ",
    )


@router.post("/apis/{api_id}/delete")
def delete_api(api_id: str, session: SessionDep, _form: FormDep, ctx: Ctx) -> RedirectResponse:
    def delete() -> str:
        apis.delete_api(ctx, api_id)
        return "API deleted."

    return act(session, f"{PREFIX}/apis", delete, "Not deleted: ")


@router.get("/apis/{api_id}/authorize")
def authorize_page(request: Request, session: SessionDep, ctx: Ctx, api_id: str) -> Answer:
    try:
        api = apis.get_api(ctx, api_id)
    except ApicronError as error:
        session.flash("error", str(error))
        return back(f"{PREFIX}/apis")
    return render(
        request, session, "authorize.html", nav="apis", api=api,
        grants=grants.list_grants(ctx, None, api_id, 0, ALL).items, app_names=_app_names(ctx),
        errors={},
    )


@router.post("/apis/{api_id}/authorize")
def authorize(api_id: str, session: SessionDep, form: FormDep, ctx: Ctx) -> RedirectResponse:
    try:
        spec = validate(GrantCreate, {"app_id": form.get("app_id"), "api_ids": [api_id]})
        grants.create_grants(ctx, spec)
    except ApicronError as error:
        session.flash("error", f"Not authorized: {error.rule}")
    else:
        session.flash("ok", "App authorized: it may call this API now.")
    return back(f"{PREFIX}/apis/{api_id}/authorize")


@router.post("/apis/{api_id}/grants/{grant_id}/revoke")
def revoke(
    api_id: str, grant_id: str, session: SessionDep, _form: FormDep, ctx: Ctx
) -> RedirectResponse:
    try:
        grants.delete_grant(ctx, grant_id)
    except ApicronError as error:
        session.flash("error", str(error))
    else:
        session.flash("ok", "Authorization revoked.")
    return back(f"{PREFIX}/apis/{api_id}/authorize")
