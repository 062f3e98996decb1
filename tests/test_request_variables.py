"""Request variables (issue 18): the fixed set of placeholders, refused at save time when
unknown or malformed (400 naming the field), filled per attempt on the firing path, with
JSON bodies still JSON. Engine tests: driven clock, real store, real backend on loopback."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from apicron.domain import request_variables as rv
from apicron.domain.errors import InvalidInput
from apicron.domain.models import TaskRequest
from apicron.domain.validation import validate
from apicron.services import executions, tasks
from tests.engine_harness import START, Harness


def _request(**fields: Any) -> TaskRequest:
    return validate(TaskRequest, fields)


def _json_body(content: str) -> dict[str, Any]:
    return {"body": {"content_type": "application/json", "content": content}}


# -- save-time rules ---------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "field", "words"), [
    (_json_body('{"a": "{{schedule_time}}"}'), "request.body.content", "unknown placeholder"),
    ({"headers": [{"name": "X-Foo", "value": "{{ nope }}"}]}, "request.headers.X-Foo",
     "unknown placeholder"),
    ({"query": [{"name": "from", "value": "{{window_start"}]}, "request.query.from",
     "is not closed"),
    ({"query": [{"name": "from", "value": "{{env.HOME}}"}]}, "request.query.from",
     "unknown placeholder"),
    (_json_body('{"a": {{task_name}} {{attempt}}}'), "request.body.content", "not valid JSON"),
])
def test_it_refuses_unknown_and_malformed_placeholders_naming_the_field(
    fields: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        _request(**fields)
    assert caught.value.field == field, caught.value.message
    assert words in caught.value.message
    if "unknown" in words:
        assert "{{scheduled_time}}" in caught.value.message  # says which ones exist


def test_it_accepts_every_placeholder_in_each_place_and_json_outside_strings() -> None:
    names = " ".join("{{" + n + "}}" for n in rv.PLACEHOLDERS)
    request = _request(
        headers=[{"name": "X-All", "value": names}],
        query=[{"name": "all", "value": names}],
        **_json_body('{"at": "{{ scheduled_time }}", "unix": {{scheduled_time_unix}}, '
                     '"attempt": {{attempt}}, "name": {{task_name}}}'),
    )
    assert request.body is not None


def test_a_json_body_stays_json_with_values_escaped_and_typed() -> None:
    template = rv.parse('{"s": "a{{task_name}}b", "n": {{attempt}}, "t": {{task_name}}, '
                        '"u": {{scheduled_time_unix}}}', "f", content_type="application/json")
    assert template is not None
    text = template.render({"task_name": 'x"y\\z', "attempt": "2",
                            "scheduled_time_unix": "1796047200"})
    assert json.loads(text) == {"s": 'ax"y\\zb', "n": 2, "t": 'x"y\\z', "u": 1796047200}


def test_text_without_placeholders_is_not_a_template_and_stored_literals_survive() -> None:
    assert rv.parse("plain {text}", "f") is None
    # A task stored before request variables existed keeps a literal "{{" as it is.
    template = rv.parse("{{legacy}} {{attempt}}", "f", strict=False)
    assert template is not None
    assert template.render({"attempt": "3"}) == "{{legacy}} 3"


def test_window_start_is_the_previous_occurrence_or_the_effective_time() -> None:
    def hourly_after(t: datetime) -> datetime:
        return t.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)

    def first_at_or_after(t: datetime) -> datetime:
        return t if t == t.replace(minute=0, second=0, microsecond=0) else hourly_after(t)

    effective = datetime(2027, 1, 1, 0, 30, tzinfo=UTC)
    at = datetime(2027, 1, 3, 5, 0, tzinfo=UTC)
    assert rv.previous_occurrence(first_at_or_after, hourly_after, effective, at) == (
        at - timedelta(hours=1))
    first = datetime(2027, 1, 1, 1, 0, tzinfo=UTC)
    assert rv.previous_occurrence(first_at_or_after, hourly_after, effective, first) == effective


# -- the firing path ---------------------------------------------------------------------


def test_the_backend_receives_the_values_of_each_attempt(
    tmp_path: Path, database_url: str | None
) -> None:
    async def main() -> None:
        async with Harness(tmp_path, database_url) as h:
            owned = h.api(method="POST")
            body = ('{"at": "{{scheduled_time}}", "unix": {{scheduled_time_unix}}, '
                    '"attempt": {{attempt}}, "task": "{{task_name}}", '
                    '"execution": "{{execution_id}}", "window": ["{{window_start}}", '
                    '{{window_end}}]}')
            h.backend.responses = [(500, {"Retry-After": "1"}, "busy")]
            task_id = h.task(
                owned, cron_expression="0 0 * * * ?", max_retries=1,
                effective_time=START - timedelta(hours=3),
                request={
                    "headers": [{"name": "X-Window", "value": "{{window_start}}/{{window_end}}"}],
                    "query": [{"name": "from", "value": "{{window_start}}"},
                              {"name": "n", "value": "{{attempt}}"}],
                    "body": {"content_type": "application/json", "content": body},
                },
            )
            name = tasks.get_task(h.ctx, task_id).name
            await h.advance(3)
            history = h.history(task_id)
            assert [e.status for e in history] == ["SUCCEEDED"], history
            execution = history[0]
            assert len(h.backend.received) == 2
            for number, received in enumerate(h.backend.received, start=1):
                sent = json.loads(received["body"])
                assert sent == {
                    "at": "2027-03-01T08:00:00Z", "unix": int(START.timestamp()),
                    "attempt": number, "task": name, "execution": execution.id,
                    "window": ["2027-03-01T07:00:00Z", "2027-03-01T08:00:00Z"],
                }
                assert received["query"] == [("from", "2027-03-01T07:00:00Z"), ("n", str(number))]
                assert received["headers"]["X-Window"] == (
                    "2027-03-01T07:00:00Z/2027-03-01T08:00:00Z")

    asyncio.run(main())


def test_a_first_occurrence_and_a_manual_run_have_their_documented_windows(
    tmp_path: Path, database_url: str | None
) -> None:
    async def main() -> None:
        async with Harness(tmp_path, database_url) as h:
            owned = h.api(method="GET")
            task_id = h.task(
                owned, cron_expression="0 0 * * * ?",
                effective_time=START - timedelta(minutes=20),
                request={"query": [{"name": "w", "value": "{{window_start}}..{{window_end}}"}]},
            )
            await h.advance(1)
            # The first occurrence since the task took effect: its window starts then.
            assert h.backend.received[0]["query"] == [
                ("w", "2027-03-01T07:40:00Z..2027-03-01T08:00:00Z")]
            h.clock.advance(timedelta(minutes=25))
            asked = h.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
            executions.run_task(h.ctx, task_id)
            await h.eventually(lambda: len(h.backend.received) == 2)
            # A manual run's window: from the latest occurrence to when it was asked for.
            assert h.backend.received[1]["query"] == [
                ("w", f"2027-03-01T08:00:00Z..{asked}")]

    asyncio.run(main())
