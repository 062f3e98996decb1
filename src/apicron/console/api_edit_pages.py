"""Edit an API's draft and republish it (issue 15), showing what the draft changes from
the published snapshot the gateway serves; the same service and messages as
``PUT /v1/apis/{id}``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from apicron.console.edit_pages import loaded, save_edit
from apicron.console.pages import _field_errors
from apicron.console.trial_form import field_errors, form_values, trial_request
from apicron.console.web import PREFIX, Answer, Ctx, FormDep, SessionDep, refused, render
from apicron.domain import rules
from apicron.domain.errors import ApicronError
from apicron.domain.models import Api, ApiUpdate, PublishedApi
from apicron.domain.validation import validate
from apicron.services import apis, groups, trial_calls
from apicron.services.context import Context

router = APIRouter(prefix=PREFIX, include_in_schema=False)
EDITABLE = ("name", "description", "method", "path", "auth_type", "backend_url",
            "backend_timeout_ms")
# What the gateway serves from the snapshot (the description is not part of it).
SERVED = ("name", "method", "path", "auth_type", "backend_url", "backend_timeout_ms")


def changes(
    draft: Api | dict[str, Any], published: PublishedApi | None
) -> list[tuple[str, str, str]]:
    """``(field, published value, draft value)`` for each served field that differs;
    empty when nothing is published (everything is new then)."""
    if published is None:
        return []
    values = draft if isinstance(draft, dict) else draft.model_dump()
    return [
        (f, str(getattr(published, f)), str(values.get(f)))
        for f in SERVED if str(getattr(published, f)) != str(values.get(f))
    ]


def _published(ctx: Context, api_id: str) -> PublishedApi | None:
    return next((p for p in apis.list_published(ctx) if p.id == api_id), None)


def _page(request: Request, session: SessionDep, ctx: Context, api: Api,
          values: dict[str, Any], errors: dict[str, str], status: int = 200,
          **trial: Any) -> Answer:
    published = _published(ctx, api.id)
    return render(
        request, session, "api_form.html", http_status=status, nav="apis", values=values,
        errors=errors, groups=groups.list_groups(ctx, None, None, 0, 500).items,
        editing=api, published=published, changes=changes(values, published),
        callers=trial_calls.caller_apps(ctx, api.id),
        path_params=trial_calls.path_params(published.path) if published else [],
        body_methods=rules.BODY_METHODS, **trial,
    )


@router.get("/apis/{api_id}/edit")
def edit_api_page(request: Request, session: SessionDep, ctx: Ctx, api_id: str) -> Answer:
    if away := refused(session, "APIS", f"{PREFIX}/apis"):
        return away
    api = loaded(session, lambda: apis.get_api(ctx, api_id), f"{PREFIX}/apis")
    if isinstance(api, RedirectResponse):
        return api
    values = api.model_dump()
    values["publish"] = api.published
    return _page(request, session, ctx, api, values, {})


@router.post("/apis/{api_id}/edit")
def edit_api(
    request: Request, session: SessionDep, form: FormDep, ctx: Ctx, api_id: str
) -> Answer:
    values: dict[str, Any] = {f: form.get(f).strip() for f in EDITABLE}
    values["description"] = form.get("description")
    timeout = str(values["backend_timeout_ms"])
    values["backend_timeout_ms"] = int(timeout) if timeout.isdigit() else timeout
    values["publish"] = form.get("publish") == "on"

    def save(_: Api) -> str:
        before = _published(ctx, api_id)
        saved = apis.update_api(ctx, api_id, validate(ApiUpdate, values))
        what = "; ".join(f"{f}: {old} → {new}" for f, old, new in changes(saved, before))
        if saved.published and before is not None:
            return f"API {saved.name} republished" + (
                f" ({what})." if what else ": nothing the gateway serves changed.")
        if saved.published:
            return f"API {saved.name} saved and published: the gateway serves it now."
        return f"API {saved.name} saved as a draft" + (
            f"; the gateway still serves the published version until you publish ({what})."
            if what else ".")

    def form_again(api: Api, error: ApicronError) -> Answer:
        return _page(request, session, ctx, api, {**values, "group_id": api.group_id},
                     _field_errors(error, set(EDITABLE)), error.status)

    return save_edit(session, f"{PREFIX}/apis", lambda: apis.get_api(ctx, api_id), save,
                     form_again)


@router.post("/apis/{api_id}/test-call")
def test_call(
    request: Request, session: SessionDep, form: FormDep, ctx: Ctx, api_id: str
) -> Answer:
    """One call through the gateway as the chosen app, its path parameters, query,
    headers and body as filled in; the API page shows the answer, or each problem at its
    field."""
    api = loaded(session, lambda: apis.get_api(ctx, api_id), f"{PREFIX}/apis")
    if isinstance(api, RedirectResponse):
        return api
    values = api.model_dump()
    values["publish"] = api.published
    published = _published(ctx, api_id)
    typed = form_values(form, published.path if published else api.path)
    try:
        trial = trial_calls.trial_call(ctx, api_id, typed["app_id"],
                                       trial_request(typed))
    except ApicronError as error:
        return _page(request, session, ctx, api, values, {}, error.status,
                     trial_errors=field_errors(error), trial_values=typed)
    return _page(request, session, ctx, api, values, {}, trial=trial, trial_values=typed)
