"""Every bad cron expression is refused with InvalidInput naming the field and the rule."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apicron.domain.errors import InvalidInput
from apicron.triggers import parse_cron
from apicron.triggers.cron_trigger import CronTrigger
from apicron.triggers.zones import load_zone
from tests.trigger_cases import at


def refusal(expression: object) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse_cron(expression)  # type: ignore[arg-type]
    assert caught.value.field == "cron_expression"
    return str(caught.value)


def test_the_sixth_occurrence_of_a_weekday_is_refused_with_the_exact_rule() -> None:
    assert refusal("0 0 12 ? * 6#6") == (
        "cron_expression: day-of-week '6#6': the occurrence after '#' must be 1-5"
    )


@pytest.mark.parametrize(
    ("expression", "fragments"),
    [
        pytest.param(
            "0 0 12 1 * MON",
            [
                "day-of-month '1' and day-of-week 'MON'",
                "exactly one of them must be '?'",
                "'0 0 12 ? * MON' or '0 0 12 1 * ?'",
            ],
            id="both-day-fields-set",
        ),
        pytest.param(
            "0 0 12 * * *",
            ["exactly one of them must be '?'", "'0 0 12 ? * *' or '0 0 12 * * ?'"],
            id="both-day-fields-star",
        ),
        pytest.param(
            "0 0 12 ? * ?",
            ["day-of-month '?' and day-of-week '?'", "only one of them may be '?'"],
            id="both-question-marks",
        ),
        pytest.param("0 60 * * * ?", ["minutes '60'", "60 is out of range 0-59"], id="minute-60"),
        pytest.param("60 * * * * ?", ["seconds '60'", "out of range 0-59"], id="second-60"),
        pytest.param("0 0 24 * * ?", ["hours '24'", "out of range 0-23"], id="hour-24"),
        pytest.param("0 0 0 32 * ?", ["day-of-month '32'", "out of range 1-31"], id="day-32"),
        pytest.param("0 0 0 0 * ?", ["day-of-month '0'", "out of range 1-31"], id="day-0"),
        pytest.param("0 0 0 1 13 ?", ["month '13'", "out of range 1-12"], id="month-13"),
        pytest.param("0 0 0 ? * 8", ["day-of-week '8'", "out of range 1-7"], id="weekday-8"),
        pytest.param("0 0 0 ? * 0", ["day-of-week '0'", "out of range 1-7"], id="weekday-0"),
        pytest.param("0 0 0 1 1 ? 1969", ["year '1969'", "out of range 1970-2099"], id="year"),
        pytest.param("0 0 0 1 1 ? 2100", ["year '2100'", "out of range 1970-2099"], id="year2"),
        pytest.param(
            "0 0 0 L-40 * ?", ["day-of-month 'L-40'", "after 'L-' must be 1-30"], id="L-40"
        ),
        pytest.param("0 0 0 L-0 * ?", ["day-of-month 'L-0'", "must be 1-30"], id="L-0"),
        pytest.param("0 0 0 32W * ?", ["day-of-month '32W'", "before 'W' must be 1-31"], id="32W"),
        pytest.param("0 0 0 ? * 6#0", ["day-of-week '6#0'", "must be 1-5"], id="6#0"),
        pytest.param("0 0 0 ? * 9#2", ["day-of-week '9#2'", "out of range 1-7"], id="9#2"),
        pytest.param("0 0 0 ? * 9L", ["day-of-week '9L'", "out of range 1-7"], id="9L"),
        pytest.param(
            "0 0 5-2 * * ?", ["hours '5-2'", "runs backwards", "'5-23,0-2'"], id="reversed"
        ),
        pytest.param(
            "0 0 0 ? * FRI-MON", ["day-of-week 'FRI-MON'", "runs backwards"], id="reversed-names"
        ),
        pytest.param("*/0 * * * * ?", ["seconds '*/0'", "step after '/' must be 1-59"], id="0"),
        pytest.param("0 0/0 * * * ?", ["minutes '0/0'", "must be 1-59, got 0"], id="step-0"),
        pytest.param("0 */60 * * * ?", ["minutes '*/60'", "must be 1-59, got 60"], id="step-60"),
        pytest.param("0 0 */24 * * ?", ["hours '*/24'", "must be 1-23"], id="step-24"),
        pytest.param("0 0 0 ? * */7", ["day-of-week '*/7'", "must be 1-6"], id="dow-step"),
        pytest.param("0 0 0 ? */x *", ["month '*/x'", "must be a number"], id="step-text"),
        pytest.param(
            "0 0 0 ? * MOM",
            ["day-of-week 'MOM'", "not a number 1-7 or a name SUN-SAT"],
            id="misspelt-day",
        ),
        pytest.param("0 0 0 1 JANUARY ?", ["month 'JANUARY'", "name JAN-DEC"], id="misspelt-month"),
        pytest.param("0 0 0 1 * MON", ["exactly one"], id="dow-with-dom"),
        pytest.param(
            "0 0 L * * ?",
            ["hours 'L'", "'L' is only allowed in day-of-month or day-of-week"],
            id="L-in-hours",
        ),
        pytest.param("0 0 0 1 L ?", ["month 'L'", "'L' is only allowed"], id="L-in-month"),
        pytest.param(
            "0 0 0 ? * 5W",
            ["day-of-week '5W'", "'W' is only allowed in day-of-month"],
            id="W-in-dow",
        ),
        pytest.param(
            "0 0 0 6#3 * ?",
            ["day-of-month '6#3'", "'#' is only allowed in day-of-week"],
            id="hash-in-dom",
        ),
        pytest.param(
            "0 ? 0 1 * ?",
            ["minutes '?'", "only allowed alone in day-of-month"],
            id="question-in-minutes",
        ),
        pytest.param("0 0 0 1,? * ?", ["day-of-month '1,?'", "whole field"], id="question-list"),
        pytest.param("0 0 0 L,15 * ?", ["day-of-month 'L,15'", "cannot be combined"], id="L-list"),
        pytest.param(
            "0 0 0 15W,20 * ?", ["day-of-month '15W,20'", "cannot be combined"], id="W-list"
        ),
        pytest.param(
            "0 0 0 1-5W * ?", ["day-of-month '1-5W'", "only allowed as 'L', 'L-n'"], id="W-range"
        ),
        pytest.param(
            "0 0 0 ? * 6#3,2#1", ["day-of-week '6#3,2#1'", "cannot be combined"], id="hash-list"
        ),
        pytest.param("0 0 0 ? * 1,6L", ["day-of-week '1,6L'", "cannot be combined"], id="L-list2"),
        pytest.param("0 0 0 ? * 6#", ["day-of-week '6#'", "written 'n#k'"], id="hash-empty"),
        pytest.param("0 0 0 ? * 6L-2", ["day-of-week '6L-2'", "'L' must stand alone"], id="L-dash"),
        pytest.param("0 0,,5 * * * ?", ["minutes '0,,5'", "list item is empty"], id="empty-item"),
        pytest.param("0 0 0 ? * MON-", ["day-of-week 'MON-'", "both sides of '-'"], id="dash"),
        pytest.param("0 0 0 ? * /2", ["day-of-week '/2'", "needs a start"], id="slash"),
        pytest.param("0 0 12 ? * MON$", ["day-of-week 'MON$'", "'$'"], id="garbage"),
        pytest.param("0 0 12 ? * MON;ls", ["day-of-week 'MON;ls'", "';'"], id="semicolon"),
        pytest.param("0 0 ٣ ? * MON", ["hours '٣'", "not allowed"], id="arabic-digit"),
        pytest.param(
            "1 2 3 4", ["has 4 fields", "6 or 7 fields for Quartz", "5 for Unix"], id="four-fields"
        ),
        pytest.param("0 0 0 1 1 ? 2027 5", ["has 8 fields"], id="eight-fields"),
        pytest.param("", ["is empty"], id="empty"),
        pytest.param("   \t ", ["is empty"], id="blank"),
        pytest.param(
            "0 0 ? * *", ["day-of-month '?'", "Quartz syntax", "use '*'"], id="question-in-unix"
        ),
        pytest.param("0 0 L * *", ["day-of-month 'L'", "Quartz syntax"], id="L-in-unix"),
        pytest.param("0 0 * * 5L", ["day-of-week '5L'", "Quartz syntax"], id="5L-in-unix"),
        pytest.param("0 0 * * 5#2", ["day-of-week '5#2'", "Quartz syntax"], id="hash-in-unix"),
        pytest.param("0 0 15W * *", ["day-of-month '15W'", "Quartz syntax"], id="W-in-unix"),
        pytest.param("0 0 * * 8", ["day-of-week '8'", "out of range 0-7"], id="unix-dow-8"),
        pytest.param("60 0 * * *", ["minutes '60'", "out of range 0-59"], id="unix-minute"),
        pytest.param("@reboot", ["macro '@reboot'", "@daily"], id="reboot"),
        pytest.param("@daily 5", ["macro '@daily'", "whole expression"], id="macro-extra"),
        pytest.param("x" * 600, ["longer than 512"], id="too-long"),
    ],
)
def test_a_bad_expression_is_refused_naming_the_field_and_rule(
    expression: str, fragments: list[str]
) -> None:
    message = refusal(expression)
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize("value", [None, 5, b"0 0 * * *", ["0", "0"]])
def test_a_non_string_is_refused(value: object) -> None:
    assert "must be a string" in refusal(value)


_CRON_ALPHABET = st.sampled_from(
    [*"0123456789*?,/-#LWlw ", "MON", "FRI", "JAN", "SUN", "L-", "1W", "6#3", "  "]
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=40), st.lists(_CRON_ALPHABET, max_size=30).map("".join)))
def test_no_input_string_raises_anything_but_invalid_input(text: str) -> None:
    error: InvalidInput | None
    try:
        expression = parse_cron(text)
    except InvalidInput as refused:
        error = refused
    else:
        error = None
    if error is not None:
        assert error.field == "cron_expression"
        assert str(error).startswith("cron_expression: ")
        return
    trigger = CronTrigger(expression, load_zone("Europe/Berlin"))
    fire = trigger.next_after(at(2026, 3, 29, 0, 59, 30))
    assert fire is None or fire > at(2026, 3, 29, 0, 59, 30)
