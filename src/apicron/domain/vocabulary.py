"""Every closed set of values apicron knows (states, roles, kinds, policies), in one place.

Each is a :data:`typing.Literal` type: pydantic turns it into the JSON Schema ``enum`` the
REST contract and the OpenAPI document show, and ``mypy --strict`` refuses a misspelled
value where one is assigned or compared (``status == "STARTD"`` is a non-overlapping
equality check). Lists of choices (CLI options, console selects, SQL filters) are derived
with :func:`choices`, never spelled again. The values and their meanings are DESIGN.md's
contract; the seed (ROMA Connect's scheduled tasks) gives the task states and policies.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

# --- APIs ---------------------------------------------------------------------------------
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
AuthType = Literal["NONE", "APP"]
ContentType = Literal["application/json", "application/xml", "application/text"]

# --- tasks --------------------------------------------------------------------------------
# The largest interval of a CALENDAR trigger (every 1-59 units, as the seed's platform).
MAX_INTERVAL = 59
TriggerType = Literal["CRON", "CALENDAR", "AT"]
IntervalUnit = Literal["MINUTE", "HOUR", "DAY", "WEEK", "MONTH"]
TaskStatus = Literal["INITIALIZED", "STARTED", "STOPPED", "COMPLETED"]
MisfirePolicy = Literal["RUN_ONCE", "SKIP"]
# Issue 18: BUFFER_ONE keeps one occurrence waiting for the running execution (Temporal's
# ScheduleOverlapPolicy BUFFER_ONE); CANCEL_PREVIOUS cancels the running one (Temporal's
# CANCEL_OTHER, Kubernetes' concurrencyPolicy Replace).
OverlapPolicy = Literal["SKIP", "ALLOW", "BUFFER_ONE", "CANCEL_PREVIOUS"]
# Issue 18: what becomes of a one-off (AT) task after its run (EventBridge Scheduler's
# ActionAfterCompletion): kept COMPLETED, or deleted with its history kept.
AfterCompletion = Literal["KEEP", "DELETE"]
JitterMode = Literal["RANDOM", "STABLE"]
# Issue 18: what an occurrence on a day a task's calendars exclude does (apicron.calendars).
CalendarPolicy = Literal["SKIP", "NEXT", "PREVIOUS"]
# What a calendar did to one occurrence of a trigger (the preview says which entry did it).
CalendarChange = Literal["SKIPPED", "MOVED"]
Weekday = Literal["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]

# --- executions ---------------------------------------------------------------------------
# Issue 18: BACKFILL (a past occurrence run on request), REPLAY (a past execution again).
ExecutionTrigger = Literal["SCHEDULE", "MANUAL", "BACKFILL", "REPLAY"]
ExecutionStatus = Literal["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "SKIPPED", "MISSED"]
# DNS, CONNECT, TLS and TIMEOUT are network failures before or during the call; HTTP a
# non-2xx answer; AUTH a refusal by the gateway's auth pipeline (revoked grant, unpublished
# API); CONFIG a task that cannot be turned into a request; INTERRUPTED a process that died;
# INTERNAL a fault of apicron's own while making the call (its log has the details).
# ASSERTION: the answer's status was accepted but a body assertion of the task's success
# conditions did not hold (issue 14).
ErrorKind = Literal[
    "DNS", "CONNECT", "TLS", "TIMEOUT", "HTTP", "AUTH", "CONFIG", "INTERRUPTED", "INTERNAL",
    "ASSERTION",
    # Issue 18: cancelled by the next occurrence under the overlap policy CANCEL_PREVIOUS.
    "CANCELLED",
]

# --- alerts -------------------------------------------------------------------------------
ChannelKind = Literal["webhook", "apprise"]
AlertEventKind = Literal["FAILURE", "RECOVERY", "MISSED", "NO_SUCCESS", "AUTO_STOPPED"]
AlertStatus = Literal["PENDING", "SENT", "FAILED"]

# --- people -------------------------------------------------------------------------------
# Highest first (apicron.domain.access ranks them from this order).
Role = Literal["admin", "operator", "viewer"]
ActorKind = Literal["root", "user", "token", "system", "anonymous"]
AuditActorKind = Literal["root", "user", "token", "system"]

# --- processes ----------------------------------------------------------------------------
# What one `apicron serve` process runs: everything, or one part of a split deployment.
NodeRole = Literal["all", "api", "gateway", "scheduler"]


def choices(values: Any) -> tuple[Any, ...]:
    """The values of one of the Literal types above, in their declared order, e.g.
    ``choices(TaskStatus) == ("INITIALIZED", "STARTED", "STOPPED")``. Typed ``Any`` so that
    the caller can keep the Literal: ``STATUSES: tuple[TaskStatus, ...] = choices(TaskStatus)``.

    Raises :class:`TypeError` for a type that is not a Literal of strings (a mistake in
    the caller, found at import).
    """
    found = get_args(values)
    if not found or not all(isinstance(v, str) for v in found):
        raise TypeError(f"not a Literal of strings: {values!r}")
    return found


# States that are final or not: an execution is unfinished while PENDING or RUNNING.
UNFINISHED: tuple[ExecutionStatus, ...] = ("PENDING", "RUNNING")
FINAL_STATUSES: frozenset[ExecutionStatus] = frozenset(
    s for s in get_args(ExecutionStatus) if s not in UNFINISHED
)
