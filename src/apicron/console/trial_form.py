"""The API page's Test call form (issue 15): a value for each path parameter, query
parameters, headers and a body, read from the form, every problem shown at its field."""

from __future__ import annotations

from typing import Any

from apicron.console.web import Form
from apicron.domain.errors import ApicronError, Problem
from apicron.services.trial_calls import Pair, TrialRequest, path_params


def form_values(form: Form, api_path: str) -> dict[str, Any]:
    """The form as typed, to show it again."""
    return {
        "app_id": form.get("app_id"),
        "path": {name: form.get(f"path.{name}") for name in path_params(api_path)},
        "query": form.get("query"), "headers": form.get("headers"),
        "body": form.get("body"), "content_type": form.get("content_type"),
    }


def _lines(text: str, field: str, sep: str, shape: str,
           problems: list[Problem]) -> list[Pair]:
    pairs = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, found, value = line.partition(sep)
        if not found or not name.strip():
            problems.append(Problem(field, f"line {number} ({line.strip()!r:.60}) is not {shape}"))
            continue
        pairs.append(Pair(name.strip(), value.strip()))
    return pairs


def trial_request(values: dict[str, Any]) -> TrialRequest:
    """The request the form asks for; a line that is not ``name=value`` / ``Name: value``
    is left out and named in ``unreadable`` (fields ``query``, ``headers``)."""
    problems: list[Problem] = []
    query = _lines(values["query"], "query", "=", "name=value", problems)
    headers = _lines(values["headers"], "headers", ":", "Name: value", problems)
    body = values["body"]
    return TrialRequest(
        path_params={k: v for k, v in values["path"].items() if v},
        query=query, headers=headers, body=body if body.strip() else None,
        content_type=values["content_type"] or "application/json", unreadable=problems,
    )


def field_errors(error: ApicronError) -> dict[str, str]:
    """Each problem under the id of the form field it is about (``trial-path-<name>``,
    ``trial-query``, ``trial-headers``, ``trial-body``, ``trial-app``), the rest under
    ``trial-form``."""
    shown: dict[str, str] = {}
    for problem in error.problems or (Problem("", str(error)),):
        head = problem.field.split("[")[0]
        if head.startswith("path."):
            key = "trial-path-" + head.removeprefix("path.")
        elif head.split(".")[0] in ("query", "headers", "body"):
            key = "trial-" + head.split(".")[0]
        elif head == "app_id":
            key = "trial-app"
        else:
            key = "trial-form"
        text = problem.rule if key != "trial-form" or not problem.field else (
            f"{problem.field}: {problem.rule}")
        shown[key] = f"{shown[key]}; {text}" if key in shown else text
    return shown
