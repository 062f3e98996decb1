"""A request with several mistakes hears of all of them at once (new user's trial): unknown
placeholders, headers, query parameters, tags, calendar entries and holiday sources, the
ids a task or its alert rules name. Each list validator goes on past its first bad item."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from apicron.domain.alert_rules import AlertRules
from apicron.domain.calendars import CalendarCreate
from apicron.domain.errors import InvalidInput
from apicron.domain.models import Input, Tags, TaskRequest
from apicron.domain.tags import parse_tag_filters
from apicron.domain.validation import validate
from tests.conftest import World, unique


class _TagsOnly(Input):
    tags: Tags


def _fields(error: InvalidInput) -> list[str]:
    return [p.field for p in error.problems]


def _refused(model: type[Any], data: dict[str, Any]) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        validate(model, data)
    return caught.value


def test_every_unknown_placeholder_of_a_request_is_named_at_once() -> None:
    error = _refused(TaskRequest, {
        "headers": [{"name": "X-A", "value": "{{nope}}"}, {"name": "X-B", "value": "{{also}}"}],
        "query": [{"name": "from", "value": "{{start}} to {{end}}"}],
        "body": {"content_type": "application/json", "content": '{"a": "{{when}}"}'},
    })
    assert _fields(error) == ["request.body.content", "request.headers.X-A",
                              "request.headers.X-B", "request.query.from"], error.message
    for name in ("nope", "also", "start", "end", "when"):
        assert "{{" + name + "}}" in error.message


def test_every_bad_header_and_query_parameter_is_named_at_once() -> None:
    error = _refused(TaskRequest, {
        "headers": [{"name": "bad name", "value": "x"}, {"name": "Host", "value": "y"},
                    {"name": "X-Ok", "value": "a\nb"}],
        "query": [{"name": "", "value": "1"}, {"name": "b", "value": "x" * 5000}],
    })
    assert _fields(error) == [
        "request.headers[0].name", "request.headers[1].name", "request.headers[2].value",
        "request.query[0].name", "request.query[1].value"], error.message


def test_every_bad_tag_and_tag_filter_is_named_at_once() -> None:
    error = _refused(_TagsOnly, {
        "tags": {"-bad": "x", "ok": "v v", "fine": "yes"}})
    assert _fields(error) == ["tags.-bad", "tags.ok"], error.message
    with pytest.raises(InvalidInput) as caught:
        parse_tag_filters("tag", ["nokey", "-x=1", "env=prod"])
    assert len(caught.value.problems) == 2, caught.value.message


def test_every_bad_calendar_entry_and_the_holiday_source_are_named_at_once() -> None:
    import apicron.calendars.holiday_source  # noqa: F401  (the server's check of countries)

    error = _refused(CalendarCreate, {
        "name": "cal", "exclude_dates": ["2027-13-01", "2027-12-24", "tomorrow"],
        "include_dates": ["2027-01-05..2027-01-01"],
        "holidays": {"country": "XX"},
    })
    assert set(_fields(error)) == {"exclude_dates[0]", "exclude_dates[2]", "include_dates[0]",
                                   "holidays.country"}, error.message


def test_every_repeated_or_empty_id_is_named_at_once() -> None:
    error = _refused(AlertRules, {"channel_ids": ["a", "", "a", "b", "b"]})
    assert "item 1" in error.message and "'a'" in error.message and "'b'" in error.message


def test_rest_names_every_problem_of_a_task_and_a_calendar(
    client: httpx.Client, world: World
) -> None:
    app, api = world.setup()
    body = world.task_body(app, api, request={
        "headers": [{"name": "X-A", "value": "{{a}}"}],
        "query": [{"name": "q", "value": "{{b}}"}]},
        calendar_ids=["nope1", "nope2"])
    answer = client.post("/v1/tasks", json=body)
    assert answer.status_code == 400, answer.text
    fields = [e["field"] for e in answer.json()["errors"]]
    assert {"request.headers.X-A", "request.query.q"} <= set(fields), answer.text
    answer = client.post("/v1/tasks", json={**body, "request": {}})
    assert answer.status_code == 400, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [
        "calendar_ids[0]", "calendar_ids[1]"], answer.text
    answer = client.post("/v1/calendars", json={
        "name": unique("cal"), "exclude_dates": ["2027-02-30"],
        "holidays": {"country": "DE", "subdivision": "XX"}})
    assert answer.status_code == 400, answer.text
    assert {e["field"] for e in answer.json()["errors"]} == {
        "exclude_dates[0]", "holidays.subdivision"}, answer.text


def test_every_bad_status_code_part_is_named_at_once() -> None:
    from apicron.domain.alert_rules import parse_status_codes

    with pytest.raises(InvalidInput) as caught:
        parse_status_codes("success.status_codes", "200-299,abc,700,304-300")
    message = caught.value.message
    assert "'abc'" in message and "'700'" in message and "'304-300'" in message, message


def test_the_cli_names_every_bad_header_query_and_tag_option_at_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from apicron.cli.tag_inputs import parse_tags
    from apicron.cli.task_inputs import parse_headers, parse_query

    cases: list[tuple[Any, list[str], str, str]] = [
        (parse_headers, ["no-colon", "X-Ok: 1", ": empty"], "no-colon", ": empty"),
        (parse_query, ["noequals", "a=1", "=v"], "noequals", "=v"),
        (lambda v: parse_tags("--tag", v), ["env", "a=b", "=x"], "env", "=x"),
    ]
    for parse, values, first, second in cases:
        with pytest.raises(SystemExit):
            parse(values)
        said = capsys.readouterr().err
        assert repr(first) in said and repr(second) in said, said


def test_a_grant_names_every_bad_api_and_stores_none(
    client: httpx.Client, world: World
) -> None:
    _owner, api = world.setup()
    other = world.app()
    answer = client.post("/v1/app-auths", json={
        "app_id": other["id"], "api_ids": [api["id"], "nope1", "nope2"]})
    assert answer.status_code == 400, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["api_ids[1]", "api_ids[2]"]
    held = client.get("/v1/app-auths", params={"app_id": other["id"]}).json()
    assert held["total"] == 0, held


def test_every_missing_path_parameter_is_named_at_once() -> None:
    from apicron.domain.models import NameValue
    from apicron.domain.rules import split_path_params

    with pytest.raises(InvalidInput) as caught:
        split_path_params("request.query", "/orders/{region}/{day}/sync",
                          [NameValue(name="full", value="1")])
    assert "{region}, {day}" in caught.value.message, caught.value.message
    assert "parameters named 'region', 'day'" in caught.value.message


def test_every_unstorable_string_is_named_at_once_and_the_answer_is_bounded() -> None:
    error = _refused(TaskRequest, {"headers": [{"name": "X-A\0", "value": "b\udc80"}],
                                   "query": [{"name": "q", "value": "\0"}]})
    assert _fields(error) == ["headers[0].name", "headers[0].value", "query[0].value"], (
        error.message)
    many = _refused(TaskRequest, {"query": [{"name": "q", "value": "\0"}] * 5000})
    assert len(many.problems) == 100
