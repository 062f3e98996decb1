"""The domain's records and inputs, frozen and normalised at the edge (pydantic).

Records are what the store returns and the API answers; inputs are what a client may
send. Field names are DESIGN.md's contract. Rules that need only the value are checked by
the validators here (a rule's InvalidInput names the field; ``reported_to_pydantic`` hands
it to pydantic so that every problem of a request is reported at once), so the API, the
CLI and the console all give the same message for the same mistake.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from apicron.domain import request_variables, rules
from apicron.domain.alert_rules import AlertRules, SuccessConditions
from apicron.domain.call_policy import check_backoff
from apicron.domain.impossible_dates import impossible
from apicron.domain.problem_list import Problems
from apicron.domain.tags import check_tags
from apicron.domain.validation import DATETIME_RULE, reported_to_pydantic
from apicron.domain.vocabulary import (
    FINAL_STATUSES as FINAL_STATUSES,
)
from apicron.domain.vocabulary import (
    AfterCompletion,
    AuthType,
    CalendarChange,
    ContentType,
    ErrorKind,
    ExecutionStatus,
    ExecutionTrigger,
    IntervalUnit,
    JitterMode,
    Method,
    MisfirePolicy,
    OverlapPolicy,
    TaskStatus,
    TriggerType,
)
from apicron.domain.vocabulary import (
    CalendarPolicy as CalendarPolicy,
)
from apicron.triggers.cron_parse import parse_cron
from apicron.triggers.schedule import MAX_INTERVAL
from apicron.triggers.zones import load_zone

# The times apicron accepts. Python's datetime ends at the years 1 and 9999, and a time near
# either end overflows when a zone's offset is applied (9999-12-31T23:59:59-14:00 in UTC,
# year 1 in Asia/Tokyo) or when a trigger looks for the next fire: well inside both ends,
# no conversion and no search can leave the representable range (issue 13 §4).
FIRST_YEAR, LAST_YEAR = 1970, 8999
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")


def _text_datetime(value: Any) -> Any:
    # pydantic would read a number, or text of digits such as "2020", as a Unix timestamp; a
    # schedule's times are too important to guess, so only RFC 3339 text (or a datetime
    # from Python callers) passes. A ValueError (not InvalidInput) so that pydantic records
    # which field it was.
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE_TEXT.match(value.strip()):
        # Say which part cannot exist (2027-02-30, month 13, 25:00) rather than the format.
        if (reason := impossible(value)) is not None:
            raise ValueError(reason)
        return value
    raise ValueError(f"{DATETIME_RULE} (got {value!r:.40})")


def _within_years(value: datetime) -> datetime:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(
            f"must be between {FIRST_YEAR}-01-01T00:00:00Z and {LAST_YEAR}-12-31T23:59:59Z "
            f"(got {value.isoformat()})"
        )
    return value


# A time as a client writes it; without an offset it is a wall time in the task's zone.
TextDatetime = Annotated[
    datetime, BeforeValidator(_text_datetime), AfterValidator(_within_years)
]
# A time that must carry its offset (history filters have no zone to read it in).
AwareTextDatetime = Annotated[
    AwareDatetime, BeforeValidator(_text_datetime), AfterValidator(_within_years)
]


def _name(value: str) -> str:
    with reported_to_pydantic():
        return rules.check_name("name", value)


def _description(value: str) -> str:
    with reported_to_pydantic():
        return rules.check_description("description", value)


Name = Annotated[
    StrictStr,
    AfterValidator(_name),
    Field(json_schema_extra={"pattern": f"^{rules.NAME_PATTERN.pattern}$"}),
]
Description = Annotated[
    StrictStr,
    AfterValidator(_description),
    Field(json_schema_extra={"maxLength": rules.DESCRIPTION_MAX}),
]


def _reference(value: str) -> str:
    # An unselected <select> in the console posts "": that is a missing choice, not an id.
    if not value.strip():
        raise ValueError("is required")
    return value


def _cron(value: str) -> str:
    with reported_to_pydantic():
        parse_cron(value)
    return value


def _zone(value: str) -> str:
    with reported_to_pydantic():
        load_zone(value)
    return value


# The id of another record; its existence is the services' to check.
Reference = Annotated[StrictStr, AfterValidator(_reference)]
# Checked here for syntax, so that it is reported with the other fields' problems; whether
# it suits the trigger type is the trigger's rule (apicron.triggers.build_trigger).
CronText = Annotated[StrictStr, AfterValidator(_cron)]
ZoneName = Annotated[StrictStr, AfterValidator(_zone)]
T = TypeVar("T")
MAX_TASK_CALENDARS = 10


def _distinct(values: list[str]) -> list[str]:
    twice = [f"names calendar {value!r} twice (calendar_ids[{index}])"
             for index, value in enumerate(values) if value in values[:index]]
    if twice:
        raise ValueError("; ".join(twice))
    return values


CalendarIds = Annotated[
    list[Reference],
    AfterValidator(_distinct),
    Field(max_length=MAX_TASK_CALENDARS,
          description="ids of business calendars (GET /v1/calendars) the task follows; "
                      "a day any of them excludes is handled by calendar_policy",
          examples=[["0f1e2d3c4b5a69788796a5b4c3d2e1f0"]]),
]


def _tags(value: dict[str, str]) -> dict[str, str]:
    with reported_to_pydantic():
        return check_tags("tags", value)


# Issue 18: ``{"key": "value"}`` labels (apicron.domain.tags has the rules).
Tags = Annotated[
    dict[StrictStr, StrictStr],
    AfterValidator(_tags),
    Field(description="Labels to find and act on tasks by, e.g. {\"env\": \"prod\"}.",
          examples=[{"env": "prod", "team": "billing"}]),
]


class Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class Input(BaseModel):
    # Unknown fields are refused: a misspelt optional field would otherwise be silently lost.
    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        rules.check_storable_text("", data)
        return data


class Page(Record, Generic[T]):
    total: int
    items: list[T]


# --- instance -----------------------------------------------------------------------------


class InstanceParams(Record):
    app_route: bool
    app_secret: bool
    replay_guard: bool = False
    """The gateway refuses a signed request whose signature it has seen before (within the
    15 minutes it would accept it), on every node of the instance."""
    unsigned_payload: bool = True
    """The gateway accepts ``X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`` (the body unsigned)."""


class Instance(Record):
    name: str
    params: InstanceParams
    timezone: str
    gateway_url: str
    default_alerts: AlertRules | None = None
    """The alert rules of every task that has none of its own (``alerts`` null)."""


class InstanceParamsUpdate(Input):
    app_route: StrictBool | None = None
    app_secret: StrictBool | None = None
    replay_guard: StrictBool | None = None
    unsigned_payload: StrictBool | None = None


class InstanceUpdate(Input):
    name: Name | None = None
    params: InstanceParamsUpdate | None = None
    timezone: StrictStr | None = None
    # Null clears them (an explicit null, unlike the fields above).
    default_alerts: AlertRules | None = None


# --- integration apps ---------------------------------------------------------------------


class App(Record):
    id: str
    name: str
    description: str
    key: str
    created_at: datetime
    updated_at: datetime


class AppWithSecret(App):
    """Only the create and reset-secret answers carry the secret."""

    # Kept out of repr(): a client user who logs or prints the record must not leak it.
    secret: str = Field(repr=False)


class AppCreate(Input):
    name: Name
    description: Description = ""


class AppUpdate(Input):
    name: Name | None = None
    description: Description | None = None



# --- API groups ---------------------------------------------------------------------------


class Group(Record):
    id: str
    name: str
    description: str
    app_id: str
    domain: str
    created_at: datetime
    updated_at: datetime


class GroupCreate(AppCreate):
    app_id: Reference


class GroupUpdate(AppUpdate):
    pass


# --- APIs ---------------------------------------------------------------------------------


class Api(Record):
    id: str
    group_id: str
    app_id: str
    name: str
    description: str
    method: Method
    path: str
    auth_type: AuthType
    backend_url: str
    backend_timeout_ms: int
    published: bool
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime


class PublishedApi(Record):
    """The snapshot the gateway serves; edits after publishing need a new publish."""

    id: str
    group_id: str
    app_id: str
    name: str
    method: Method
    path: str
    auth_type: AuthType
    backend_url: str
    backend_timeout_ms: int
    published_at: datetime


TIMEOUT_MS = Annotated[StrictInt, Field(ge=1, le=60000)]


class ApiCreate(Input):
    group_id: Reference
    name: Name
    description: Description = ""
    method: Method
    path: StrictStr
    auth_type: AuthType = "APP"
    backend_url: StrictStr
    backend_timeout_ms: TIMEOUT_MS = 5000
    # Create and publish in one transaction: both happen or neither (issue 13 §4).
    publish: StrictBool = Field(
        default=False, description="publish it as well; refused as a whole if the route is taken"
    )

    @field_validator("path")
    @classmethod
    def _path(cls, path: str) -> str:
        with reported_to_pydantic():
            rules.check_api_path("path", path)
        return path

    @field_validator("backend_url")
    @classmethod
    def _backend_url(cls, url: str, info: ValidationInfo) -> str:
        path = info.data.get("path")
        if path is None:
            return url  # the path has a problem of its own; the URL's parameters wait for it
        with reported_to_pydantic():
            rules.check_backend_url("backend_url", url, rules.check_api_path("path", path))
        return url


class ApiUpdate(Input):
    name: Name | None = None
    description: Description | None = None
    method: Method | None = None
    path: StrictStr | None = None
    auth_type: AuthType | None = None
    backend_url: StrictStr | None = None
    backend_timeout_ms: TIMEOUT_MS | None = None
    publish: StrictBool = Field(
        default=False,
        description="publish the edited API as well; refused as a whole if the route is taken",
    )


# --- grants (app-auths) -------------------------------------------------------------------


class Grant(Record):
    id: str
    app_id: str
    api_id: str
    created_at: datetime


class GrantCreate(Input):
    app_id: Reference
    api_ids: Annotated[list[StrictStr], Field(min_length=1, max_length=100)]


class GrantItems(Record):
    items: list[Grant]


# --- scheduled tasks ----------------------------------------------------------------------


class NameValue(Input):
    name: StrictStr
    value: StrictStr = ""


class Body(Input):
    content_type: ContentType
    content: StrictStr


class TaskRequest(Input):
    """Seed: Request Parameters — Headers, Parameters (query) and Body."""

    headers: list[NameValue] = []
    query: list[NameValue] = []
    body: Body | None = None

    @model_validator(mode="after")
    def _rules(self) -> TaskRequest:
        # Every part is checked, so that a request hears of all its problems at once.
        problems = Problems()
        with reported_to_pydantic():
            with problems.check():
                rules.check_headers("request.headers", self.headers)
            with problems.check():
                rules.check_query("request.query", self.query)
            if self.body is not None:
                if any(h.name.lower() == "content-type" for h in self.headers):
                    problems.add(
                        "request.headers",
                        "Content-Type is set by request.body.content_type when a body is given",
                    )
                with problems.check():
                    rules.check_body_content(
                        "request.body.content", self.body.content_type,
                        # Issue 18: placeholders stand for values of their type while the
                        # syntax is checked, so a JSON body stays JSON once they are filled.
                        request_variables.sample(
                            self.body.content, "request.body.content", self.body.content_type
                        ),
                    )
            with problems.check():
                request_variables.check_values("request.headers", self.headers)
            with problems.check():
                request_variables.check_values("request.query", self.query)
            problems.raise_any()
        return self


RETRIES = Annotated[StrictInt, Field(ge=0, le=3)]
INTERVAL = Annotated[StrictInt, Field(ge=1, le=MAX_INTERVAL)]
# Issue 18: jitter up to 12 hours; a task's own call timeout within the API's bounds;
# retry backoff from 1 ms to 1 hour (apicron.domain.call_policy).
JITTER_S = Annotated[StrictInt, Field(ge=0, le=43200)]
BACKOFF_MS = Annotated[StrictInt, Field(ge=1, le=3_600_000)]


class TaskFields(Input):
    """Every Table-1 field plus apicron's additions; shared by create and the merged update."""

    name: Name
    app_id: Reference
    description: Description = ""
    effective_time: TextDatetime | None = None
    end_time: TextDatetime | None = None
    timezone: ZoneName | None = None
    trigger_type: TriggerType
    cron_expression: CronText | None = None
    interval_unit: IntervalUnit | None = None
    interval_value: INTERVAL | None = None
    max_retries: RETRIES = 0
    api_id: Reference
    request: TaskRequest = TaskRequest()
    misfire_policy: MisfirePolicy = "RUN_ONCE"
    overlap_policy: OverlapPolicy = "SKIP"
    # Issue 14: when an answer is a success (null: any 2xx), and who hears of failures
    # (null: the instance's default_alerts, if any).
    success: SuccessConditions | None = None
    alerts: AlertRules | None = None
    # Issue 18: one-off runs, jitter, the task's own call policy.
    run_at: TextDatetime | None = Field(
        default=None,
        description="trigger AT: the instant it fires, once (without an offset: a wall time "
        "in the task's timezone)", examples=["2027-03-01T09:30:00Z"])
    after_completion: AfterCompletion = Field(
        default="KEEP",
        description="trigger AT: after its run the task is kept COMPLETED, or deleted (its "
        "execution history is kept for the retention period)")
    jitter_s: JITTER_S = Field(
        default=0, description="each fire is moved up to this many seconds later (0: none)",
        examples=[300])
    jitter_mode: JitterMode = Field(
        default="RANDOM",
        description="RANDOM: a new offset per occurrence; STABLE: one offset per task, derived "
        "from its id (the same on every node and after restarts)")
    timeout_ms: TIMEOUT_MS | None = Field(
        default=None, description="the call's timeout (null: the API's backend_timeout_ms)",
        examples=[10000])
    retry_backoff_base_ms: BACKOFF_MS | None = Field(
        default=None, description="the first retry waits up to this long, doubling each "
        "retry (null: 1000)", examples=[500])
    retry_backoff_cap_ms: BACKOFF_MS | None = Field(
        default=None, description="no retry waits longer (Retry-After included; null: 60000)",
        examples=[30000])

    @model_validator(mode="after")
    def _call_policy(self) -> TaskFields:
        with reported_to_pydantic():
            check_backoff(self.retry_backoff_base_ms, self.retry_backoff_cap_ms)
        return self

    # Issue 18: business calendars (ids, at most MAX_TASK_CALENDARS, no repeats) and what
    # an occurrence on a day they exclude does.
    calendar_ids: CalendarIds = []
    calendar_policy: CalendarPolicy = "SKIP"
    tags: Tags = {}


class TaskCreate(TaskFields):
    pass


class TaskUpdate(Input):
    """Only the fields given change; an explicit null clears an optional field."""

    name: Name | None = None
    app_id: StrictStr | None = None
    description: Description | None = None
    effective_time: TextDatetime | None = None
    end_time: TextDatetime | None = None
    timezone: ZoneName | None = None
    trigger_type: TriggerType | None = None
    cron_expression: CronText | None = None
    interval_unit: IntervalUnit | None = None
    interval_value: INTERVAL | None = None
    max_retries: RETRIES | None = None
    api_id: StrictStr | None = None
    request: TaskRequest | None = None
    misfire_policy: MisfirePolicy | None = None
    overlap_policy: OverlapPolicy | None = None
    success: SuccessConditions | None = None
    alerts: AlertRules | None = None
    run_at: TextDatetime | None = None
    after_completion: AfterCompletion | None = None
    jitter_s: JITTER_S | None = None
    jitter_mode: JitterMode | None = None
    timeout_ms: TIMEOUT_MS | None = None
    retry_backoff_base_ms: BACKOFF_MS | None = None
    retry_backoff_cap_ms: BACKOFF_MS | None = None
    calendar_ids: CalendarIds | None = None
    calendar_policy: CalendarPolicy | None = None
    tags: Tags | None = None


class StoredNameValue(Record):
    name: str
    value: str


class StoredBody(Record):
    content_type: ContentType
    content: str


class StoredRequest(Record):
    """A task's request as stored: validated on the way in, so read back as it is."""

    headers: list[StoredNameValue] = []
    query: list[StoredNameValue] = []
    body: StoredBody | None = None


class StoredTask(Record):
    id: str
    name: str
    app_id: str
    description: str
    effective_time: datetime
    end_time: datetime | None
    timezone: str
    trigger_type: TriggerType
    cron_expression: str | None
    interval_unit: IntervalUnit | None
    interval_value: int | None
    max_retries: int
    api_id: str
    request: StoredRequest
    misfire_policy: MisfirePolicy
    overlap_policy: OverlapPolicy
    status: TaskStatus
    next_fire_time: datetime | None
    created_at: datetime
    updated_at: datetime
    # Why apicron stopped the task by itself (null when a user stopped it, or not stopped).
    stop_reason: str | None = None
    # A CALENDAR task's effective time as typed without an offset (a wall time in its zone,
    # kept even when a DST gap skipped it); null when typed with an offset.
    effective_wall: datetime | None = None
    success: SuccessConditions | None = None
    alerts: AlertRules | None = None
    run_at: datetime | None = None
    after_completion: AfterCompletion = "KEEP"
    jitter_s: int = 0
    jitter_mode: JitterMode = "RANDOM"
    timeout_ms: int | None = None
    retry_backoff_base_ms: int | None = None
    retry_backoff_cap_ms: int | None = None
    calendar_ids: list[str] = []
    calendar_policy: CalendarPolicy = "SKIP"
    tags: dict[str, str] = {}


# --- cron preview -------------------------------------------------------------------------


class PreviewRequest(Input):
    trigger_type: TriggerType = "CRON"
    cron_expression: CronText | None = None
    interval_unit: IntervalUnit | None = None
    interval_value: INTERVAL | None = None
    effective_time: TextDatetime | None = None
    end_time: TextDatetime | None = None
    timezone: ZoneName | None = None
    count: Annotated[StrictInt, Field(ge=1, le=100)] = 5
    run_at: TextDatetime | None = None
    calendar_ids: CalendarIds = []
    calendar_policy: CalendarPolicy = "SKIP"


class PreviewFireTime(Record):
    at: datetime
    local: str
    dst_shifted: bool
    # What a DST change did to or around this fire (a skipped wall time fired at the jump,
    # a pass of a repeated hour, a gap with nothing to catch up); null when nothing.
    dst_note: str | None = None
    calendar_note: str | None = None


class PreviewCalendarChange(Record):
    """An occurrence of the trigger a calendar removed or moved (issue 18)."""

    occurrence: datetime
    action: CalendarChange
    moved_to: datetime | None
    calendar: str
    entry: str
    text: str


class Preview(Record):
    description: str
    next_fire_times: list[datetime]
    fire_times: list[PreviewFireTime]
    # What the user may have misread in the trigger (e.g. Quartz day-of-week numbers).
    warnings: list[str] = []
    calendar_changes: list[PreviewCalendarChange] = []


# --- executions ---------------------------------------------------------------------------

# The execution states, trigger kinds and error kinds: apicron.domain.vocabulary.


class Attempt(Record):
    number: int
    started_at: datetime
    finished_at: datetime
    duration_ms: int
    http_status: int | None
    error_kind: ErrorKind | None
    error_msg: str | None
    response_excerpt: str | None
    # The apicron node that recorded the attempt (see ``apicron nodes``).
    node_id: str | None = None


class ExecutionSummary(Record):
    id: str
    task_id: str
    scheduled_at: datetime
    trigger: ExecutionTrigger
    status: ExecutionStatus
    started_at: datetime | None
    finished_at: datetime | None
    error_kind: ErrorKind | None = None
    error_msg: str | None = None
    # How the occurrence came to run as it did (e.g. run late after downtime), or null.
    note: str | None = None
    # When apicron planned to fire it: scheduled_at plus the task's jitter (issue 18); null
    # for manual runs and occurrences recorded MISSED without being planned.
    planned_at: datetime | None = None
    # Issue 18: the execution this one re-runs (trigger REPLAY), or null.
    replay_of: str | None = None
    # Issue 18: the executions of one SEQUENTIAL backfill share it (run one at a time).
    sequence_id: str | None = None


class Execution(ExecutionSummary):
    attempts: list[Attempt]


class Task(StoredTask):
    """A task as the API answers it: the stored fields, its schedule in words and the
    execution it had last."""

    schedule_description: str
    # What the user may have misread in the trigger (e.g. Quartz day-of-week numbers).
    schedule_warnings: list[str] = []
    last_execution: ExecutionSummary | None = None


class Node(Record):
    """One running apicron process, as registered in the store."""

    id: str
    role: str
    host: str
    pid: int
    version: str
    started_at: datetime
    heartbeat_at: datetime
    alive: bool = True
