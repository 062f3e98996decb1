"""A task's success conditions and alert rules: the task fields ``success`` and ``alerts``
(issue 14; DESIGN.md, "Contract additions (second round)").

Rules that need only the value are checked here (a bad status list names
``success.status_codes``); the JMESPath expression and the regular expression are compiled
by the server (:mod:`apicron.alerts.success`: their libraries are server-side), which names
``success.jmespath`` and ``success.body_regex`` the same way. Kept apart from
:mod:`apicron.domain.models`, which builds the task's fields on them.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from apicron.domain import rules
from apicron.domain.errors import InvalidInput


class _Input(BaseModel):
    # As apicron.domain.models.Input: frozen, and a misspelt field is refused, not lost.
    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        rules.check_storable_text("", data)
        return data


# --- success conditions -------------------------------------------------------------------

ASSERTION_BODY_MAX = 1024 * 1024
"""Bytes of a response body the assertions read (1 MiB); a longer body is cut there: a
regular expression sees its first MiB, a JMESPath condition fails (the JSON is cut)."""
EXPRESSION_MAX = 1000
STATUS_CODES_MAX = 200
DEFAULT_STATUS_CODES = "200-299"


def parse_status_codes(field: str, text: str) -> tuple[tuple[int, int], ...]:
    """``"200-299,304"`` → ``((200, 299), (304, 304))``; raises InvalidInput naming
    ``field`` for anything else (codes 100-599, a range low-high with low ≤ high)."""
    ranges: list[tuple[int, int]] = []
    if not text.strip():
        raise InvalidInput("must list at least one status code, e.g. 200-299,304", field=field)
    said: list[str] = []  # every bad part, so that one answer is enough to fix them
    for part in text.split(","):
        low_text, dash, high_text = part.strip().partition("-")
        try:
            low = int(low_text.strip())
            high = int(high_text.strip()) if dash else low
        except ValueError:
            said.append(f"{part.strip()!r:.40} is not a status code or a range low-high "
                        "(write e.g. 200-299,304)")
            continue
        if not (100 <= low <= 599 and 100 <= high <= 599):
            said.append(f"status codes are 100-599 (got {part.strip()!r:.40})")
        elif low > high:
            said.append(f"the range {part.strip()!r:.40} ends before it starts")
        else:
            ranges.append((low, high))
    if said:
        raise InvalidInput("; ".join(said), field=field)
    return tuple(ranges)


@functools.lru_cache(maxsize=256)
def _ranges(text: str) -> tuple[tuple[int, int], ...]:
    return parse_status_codes("success.status_codes", text)


def _status_codes(value: str) -> str:
    # A ValueError, not InvalidInput: pydantic then names the field where it is nested
    # (success.status_codes in a task).
    try:
        parse_status_codes("status_codes", value)
    except InvalidInput as error:
        raise ValueError(error.rule) from None
    return ",".join(part.strip() for part in value.split(","))


class SuccessConditions(_Input):
    """When an answer counts as a success (the task field ``success``; null: any 2xx).

    A status outside ``status_codes`` fails the attempt like any HTTP error (error kind
    ``HTTP``, retried on 408, 429 and 5xx); a body assertion that does not hold fails it
    with error kind ``ASSERTION``, retried only with ``retry_on_assertion`` (the backend
    did answer). The assertions read at most the first 1 MiB of the body.
    """

    status_codes: Annotated[StrictStr, Field(max_length=STATUS_CODES_MAX)] = Field(
        default=DEFAULT_STATUS_CODES,
        description="accepted statuses: codes and ranges, e.g. 200-299,304",
    )
    jmespath: Annotated[StrictStr, Field(min_length=1, max_length=EXPRESSION_MAX)] | None = (
        Field(default=None, description="a JMESPath expression over the JSON body; it must be "
              "truthy, or equal `equals` when that is given")
    )
    equals: JsonValue = Field(
        default=None,
        description="the JSON value the JMESPath result must equal (null: it must be truthy; "
                    "to expect null, compare in the expression: `status == null`)",
    )
    body_regex: Annotated[StrictStr, Field(min_length=1, max_length=EXPRESSION_MAX)] | None = (
        Field(default=None, description="a regular expression (RE2 syntax: linear time) that "
              "must match somewhere in the body")
    )
    retry_on_assertion: StrictBool = Field(
        default=False, description="retry (within max_retries) when a body assertion fails"
    )

    @field_validator("status_codes")
    @classmethod
    def _check_status(cls, value: str) -> str:
        return _status_codes(value)

    @model_validator(mode="after")
    def _equals_needs_expression(self) -> SuccessConditions:
        if self.equals is not None and self.jmespath is None:
            raise ValueError("equals needs jmespath (the expression whose value it is)")
        return self

    def accepts(self, status: int) -> bool:
        return any(low <= status <= high for low, high in _ranges(self.status_codes))

    @property
    def reads_body(self) -> bool:
        return self.jmespath is not None or self.body_regex is not None


# --- alert rules --------------------------------------------------------------------------

# The event kinds and delivery states: apicron.domain.vocabulary.
MAX_CHANNELS_PER_RULE = 10
REPEAT_MIN_S = 60
DAY_S = 86_400


class AlertRules(_Input):
    """Who hears of a task's trouble, and when (the task field ``alerts``; the instance's
    ``default_alerts`` for tasks with none of their own). Every rule notifies every channel
    of ``channel_ids`` (empty: none; ``auto_stop_after`` still stops the task)."""

    channel_ids: Annotated[list[StrictStr], Field(max_length=MAX_CHANNELS_PER_RULE)] = Field(
        description="the channels notified (ids, at most 10; [] for none)"
    )
    on_failure_after: Annotated[StrictInt, Field(ge=1, le=100)] | None = Field(
        default=1, description="alert after this many consecutive failed executions (null: "
                               "never)"
    )
    on_recovery: StrictBool = Field(
        default=True, description="alert at the first success after a failure alert"
    )
    on_missed: StrictBool = Field(
        default=False, description="alert when occurrences are recorded MISSED or SKIPPED"
    )
    no_success_within_s: Annotated[StrictInt, Field(ge=1, le=366 * DAY_S)] | None = Field(
        default=None, description="dead-man: alert when a started task has had no successful "
                                  "execution for this many seconds"
    )
    auto_stop_after: Annotated[StrictInt, Field(ge=1, le=100)] | None = Field(
        default=None, description="stop the task after this many consecutive failed executions"
    )
    repeat_every_s: Annotated[StrictInt, Field(ge=REPEAT_MIN_S, le=30 * DAY_S)] | None = Field(
        default=3600, description="while still failing (or missing), alert again at most this "
                                  "often (null: once)"
    )

    @field_validator("channel_ids")
    @classmethod
    def _distinct(cls, ids: list[str]) -> list[str]:
        said = [f"item {index} is empty; give a channel id"
                for index, channel_id in enumerate(ids) if not channel_id.strip()]
        said += [f"channel {channel_id!r} is named twice (item {index})"
                 for index, channel_id in enumerate(ids)
                 if channel_id.strip() and channel_id in ids[:index]]
        if said:
            # One message naming every bad item, so that one answer is enough to fix them.
            raise ValueError("; ".join(said))
        return ids
