"""The domain's records and inputs, frozen and normalised at the edge (pydantic).

Records are what the store returns and the API answers; inputs are what a client may
send. Field names are DESIGN.md's contract. Rules that need only the value are checked by
the validators here (they raise InvalidInput naming the field, never a bare ValueError),
so the API, the CLI and the console all give the same message for the same mistake.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)

from apicron.domain import rules
from apicron.domain.errors import InvalidInput

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
AuthType = Literal["NONE", "APP"]
TriggerType = Literal["CRON", "CALENDAR"]
IntervalUnit = Literal["MINUTE", "HOUR", "DAY", "WEEK", "MONTH"]
TaskStatus = Literal["INITIALIZED", "STARTED", "STOPPED"]
MisfirePolicy = Literal["RUN_ONCE", "SKIP"]
OverlapPolicy = Literal["SKIP", "ALLOW"]
ContentType = Literal["application/json", "application/xml", "application/text"]


def _text_datetime(value: Any) -> Any:
    # pydantic would read a bare number as a Unix timestamp; a schedule's times are too
    # important to guess, so only RFC 3339 text (or a datetime from Python callers) passes.
    if isinstance(value, str | datetime):
        return value
    # A ValueError (not InvalidInput) so that pydantic records which field it was.
    raise ValueError("must be an RFC 3339 date-time string, e.g. 2026-01-01T09:00:00Z")


TextDatetime = Annotated[datetime, BeforeValidator(_text_datetime)]
Name = Annotated[
    StrictStr,
    AfterValidator(lambda v: rules.check_name("name", v)),
    Field(json_schema_extra={"pattern": f"^{rules.NAME_PATTERN.pattern}$"}),
]
Description = Annotated[
    StrictStr,
    AfterValidator(lambda v: rules.check_description("description", v)),
    Field(json_schema_extra={"maxLength": rules.DESCRIPTION_MAX}),
]
T = TypeVar("T")


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


class InstanceParamsUpdate(Input):
    app_route: StrictBool | None = None
    app_secret: StrictBool | None = None
    replay_guard: StrictBool | None = None
    unsigned_payload: StrictBool | None = None


class InstanceUpdate(Input):
    name: Name | None = None
    params: InstanceParamsUpdate | None = None
    timezone: StrictStr | None = None


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

    secret: str


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
    app_id: StrictStr


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
    group_id: StrictStr
    name: Name
    description: Description = ""
    method: Method
    path: StrictStr
    auth_type: AuthType = "APP"
    backend_url: StrictStr
    backend_timeout_ms: TIMEOUT_MS = 5000


    @model_validator(mode="after")
    def _path_and_backend(self) -> ApiCreate:
        params = rules.check_api_path("path", self.path)
        rules.check_backend_url("backend_url", self.backend_url, params)
        return self


class ApiUpdate(Input):
    name: Name | None = None
    description: Description | None = None
    method: Method | None = None
    path: StrictStr | None = None
    auth_type: AuthType | None = None
    backend_url: StrictStr | None = None
    backend_timeout_ms: TIMEOUT_MS | None = None


# --- grants (app-auths) -------------------------------------------------------------------


class Grant(Record):
    id: str
    app_id: str
    api_id: str
    created_at: datetime


class GrantCreate(Input):
    app_id: StrictStr
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
        rules.check_headers("request.headers", self.headers)
        rules.check_query("request.query", self.query)
        if self.body is not None:
            if any(h.name.lower() == "content-type" for h in self.headers):
                raise InvalidInput(
                    "Content-Type is set by request.body.content_type when a body is given",
                    field="request.headers",
                )
            rules.check_body_content(
                "request.body.content", self.body.content_type, self.body.content
            )
        return self


RETRIES = Annotated[StrictInt, Field(ge=0, le=3)]
INTERVAL = Annotated[StrictInt, Field(ge=1, le=59)]


class TaskFields(Input):
    """Every Table-1 field plus apicron's additions; shared by create and the merged update."""

    name: Name
    app_id: StrictStr
    description: Description = ""
    effective_time: TextDatetime | None = None
    end_time: TextDatetime | None = None
    timezone: StrictStr | None = None
    trigger_type: TriggerType
    cron_expression: StrictStr | None = None
    interval_unit: IntervalUnit | None = None
    interval_value: INTERVAL | None = None
    max_retries: RETRIES = 0
    api_id: StrictStr
    request: TaskRequest = TaskRequest()
    misfire_policy: MisfirePolicy = "RUN_ONCE"
    overlap_policy: OverlapPolicy = "SKIP"



class TaskCreate(TaskFields):
    pass


class TaskUpdate(Input):
    """Only the fields given change; an explicit null clears an optional field."""

    name: Name | None = None
    app_id: StrictStr | None = None
    description: Description | None = None
    effective_time: TextDatetime | None = None
    end_time: TextDatetime | None = None
    timezone: StrictStr | None = None
    trigger_type: TriggerType | None = None
    cron_expression: StrictStr | None = None
    interval_unit: IntervalUnit | None = None
    interval_value: INTERVAL | None = None
    max_retries: RETRIES | None = None
    api_id: StrictStr | None = None
    request: TaskRequest | None = None
    misfire_policy: MisfirePolicy | None = None
    overlap_policy: OverlapPolicy | None = None


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


# --- cron preview -------------------------------------------------------------------------


class PreviewRequest(Input):
    trigger_type: TriggerType = "CRON"
    cron_expression: StrictStr | None = None
    interval_unit: IntervalUnit | None = None
    interval_value: INTERVAL | None = None
    effective_time: TextDatetime | None = None
    end_time: TextDatetime | None = None
    timezone: StrictStr | None = None
    count: Annotated[StrictInt, Field(ge=1, le=100)] = 5


class PreviewFireTime(Record):
    at: datetime
    local: str
    dst_shifted: bool


class Preview(Record):
    description: str
    next_fire_times: list[datetime]
    fire_times: list[PreviewFireTime]


# --- executions ---------------------------------------------------------------------------

ExecutionTrigger = Literal["SCHEDULE", "MANUAL"]
ExecutionStatus = Literal["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "SKIPPED", "MISSED"]
# DNS, CONNECT, TLS and TIMEOUT are network failures before or during the call; HTTP a
# non-2xx answer; AUTH a refusal by the gateway's auth pipeline (revoked grant, unpublished
# API); CONFIG a task that cannot be turned into a request; INTERRUPTED a process that died.
ErrorKind = Literal["DNS", "CONNECT", "TLS", "TIMEOUT", "HTTP", "AUTH", "CONFIG", "INTERRUPTED"]
FINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "SKIPPED", "MISSED"})


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


class Execution(ExecutionSummary):
    attempts: list[Attempt]


class Task(StoredTask):
    """A task as the API answers it: the stored fields, its schedule in words and the
    execution it had last."""

    schedule_description: str
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
