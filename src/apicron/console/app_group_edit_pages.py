"""Edit an integration app (name, description) and an API group (name, description) in
the console (issue 15): the same services, rules and messages as ``PUT /v1/apps/{id}``
and ``PUT /v1/api-groups/{id}``; a refused edit shows the message at its field and
changes nothing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from apicron.console.edit_pages import loaded, save_edit
from apicron.console.pages import _app_names, _field_errors
from apicron.console.web import PREFIX, Answer, Ctx, FormDep, SessionDep, refused, render
from apicron.domain.errors import ApicronError
from apicron.domain.models import App, AppUpdate, Group, GroupUpdate
from apicron.domain.validation import validate
from apicron.services import apps, groups

router = APIRouter(prefix=PREFIX, include_in_schema=False)
FIELDS = {"name", "description"}


def _values(form: FormDep) -> dict[str, Any]:
    return {"name": form.get("name").strip(), "description": form.get("description")}


@router.get("/apps/{app_id}/edit")
def edit_app_page(request: Request, session: SessionDep, ctx: Ctx, app_id: str) -> Answer:
    if away := refused(session, "APPS", f"{PREFIX}/apps"):
        return away
    app = loaded(session, lambda: apps.get_app(ctx, app_id), f"{PREFIX}/apps")
    if isinstance(app, RedirectResponse):
        return app
    return render(request, session, "app_form.html", nav="apps", editing=app,
                  values=app.model_dump(), errors={})


@router.post("/apps/{app_id}/edit")
def edit_app(
    request: Request, session: SessionDep, form: FormDep, ctx: Ctx, app_id: str
) -> Answer:
    values = _values(form)

    def save(_: App) -> str:
        saved = apps.update_app(ctx, app_id, validate(AppUpdate, values))
        return f"Integration application {saved.name} saved."

    def form_again(app: App, error: ApicronError) -> Answer:
        return render(request, session, "app_form.html", http_status=error.status, nav="apps",
                      editing=app, values=values, errors=_field_errors(error, FIELDS))

    return save_edit(session, f"{PREFIX}/apps", lambda: apps.get_app(ctx, app_id), save,
                     form_again)


@router.get("/groups/{group_id}/edit")
def edit_group_page(request: Request, session: SessionDep, ctx: Ctx, group_id: str) -> Answer:
    if away := refused(session, "APIS", f"{PREFIX}/apis"):
        return away
    group = loaded(session, lambda: groups.get_group(ctx, group_id), f"{PREFIX}/apis")
    if isinstance(group, RedirectResponse):
        return group
    return render(request, session, "group_form.html", nav="apis", editing=group,
                  values=group.model_dump(), errors={}, app_names=_app_names(ctx))


@router.post("/groups/{group_id}/edit")
def edit_group(
    request: Request, session: SessionDep, form: FormDep, ctx: Ctx, group_id: str
) -> Answer:
    values = _values(form)

    def save(_: Group) -> str:
        saved = groups.update_group(ctx, group_id, validate(GroupUpdate, values))
        return f"API group {saved.name} saved."

    def form_again(group: Group, error: ApicronError) -> Answer:
        return render(request, session, "group_form.html", http_status=error.status,
                      nav="apis", editing=group, values={**values, "app_id": group.app_id},
                      errors=_field_errors(error, FIELDS), app_names=_app_names(ctx))

    return save_edit(session, f"{PREFIX}/apis", lambda: groups.get_group(ctx, group_id), save,
                     form_again)
