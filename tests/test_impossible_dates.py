"""A date or time with the right shape that cannot exist (2027-02-30, month 13, 25:00) is
refused saying which part is wrong, not with the generic format rule (new user's trial):
in request bodies and queries, CLI options, calendar entries, backfill from/to and run_at."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from apicron.domain.backfill import BackfillRequest
from apicron.domain.calendars import CalendarCreate
from apicron.domain.errors import InvalidInput
from apicron.domain.impossible_dates import impossible
from apicron.domain.models import TaskUpdate
from apicron.domain.validation import validate
from tests.conftest import World
from tests.servers import ApicronProcess
from tests.test_cli import cli

FEB_30 = "2027-02-30 is not a date: February 2027 has 28 days"


@pytest.mark.parametrize(("text", "said"), [
    ("2027-02-30", FEB_30),
    ("2027-02-30T09:00:00Z", FEB_30),
    ("2027-13-01T09:00:00+01:00", "2027-13-01 is not a date: there is no month 13"),
    ("2027-04-31", "April 2027 has 30 days"),
    ("2027-01-00", "there is no day 00"),
    ("2027-01-01T25:00:00Z", "25:00:00 is not a time: hours are 00-23"),
    ("2027-01-01T10:61", "10:61 is not a time: minutes are 00-59"),
    ("2027-01-01T10:00:75Z", "10:00:75 is not a time: seconds are 00-59"),
])
def test_it_says_which_part_cannot_exist(text: str, said: str) -> None:
    assert said in (impossible(text) or "")


@pytest.mark.parametrize("text", ["2028-02-29", "2027-12-31T23:59:59Z", "tomorrow", "2027"])
def test_possible_or_other_shapes_are_not_explained(text: str) -> None:
    assert impossible(text) is None


def _refused(model: type[Any], data: dict[str, Any]) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        validate(model, data)
    return caught.value


def test_every_model_that_reads_a_time_says_it() -> None:
    error = _refused(BackfillRequest, {"from": "2027-02-30T00:00:00Z",
                                       "to": "2027-01-01T25:00:00Z"})
    assert [(p.field, p.rule) for p in error.problems] == [
        ("from", FEB_30), ("to", "25:00:00 is not a time: hours are 00-23")]
    error = _refused(TaskUpdate, {"run_at": "2027-13-01T09:00:00", "end_time": "2027-02-30"})
    assert {p.field: p.rule for p in error.problems} == {
        "run_at": "2027-13-01 is not a date: there is no month 13 (months are 01-12)",
        "end_time": FEB_30}
    error = _refused(CalendarCreate, {"name": "cal", "exclude_dates": ["2027-02-30..2027-03-05"]})
    assert error.problems[0].rule == FEB_30


def test_rest_bodies_and_queries_and_the_cli_say_it(
    client: httpx.Client, world: World, server: ApicronProcess
) -> None:
    app, api = world.setup()
    task = world.task(app, api)
    answer = client.post(f"/v1/tasks/{task['id']}/backfill",
                         json={"from": "2027-02-30T00:00:00Z", "to": "2027-03-01T00:00:00Z"})
    assert answer.status_code == 400 and answer.json()["errors"] == [
        {"field": "from", "message": FEB_30}], answer.text
    answer = client.get(f"/v1/tasks/{task['id']}/executions",
                        params={"from": "2027-02-30T00:00:00Z"})
    assert answer.status_code == 400 and FEB_30 in answer.json()["error_msg"], answer.text
    result = cli(server, "task", "backfill", task["id"], "--from", "2027-02-30T00:00:00Z",
                 "--to", "2027-03-01T00:00:00Z")
    assert result.returncode != 0 and FEB_30 in result.stderr, result.stderr


def test_a_task_body_says_it_and_changes_nothing(client: httpx.Client, world: World) -> None:
    app, api = world.setup()
    before = world.snapshot()
    answer = client.post("/v1/tasks", json=world.task_body(
        app, api, effective_time="2027-13-01T00:00:00Z"))
    assert answer.status_code == 400 and answer.json()["errors"] == [{
        "field": "effective_time",
        "message": "2027-13-01 is not a date: there is no month 13 (months are 01-12)"}], (
        answer.text)
    assert world.snapshot() == before
