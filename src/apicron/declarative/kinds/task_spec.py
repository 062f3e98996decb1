"""A ``kind: Task`` document as apply reads it: ``POST /v1/tasks``'s fields with the app,
the API and the calendars by name, and the task's wanted state (``started``, ``expired``).

Its own module because both the kind (:mod:`apicron.declarative.kinds.tasks`) and its
checks (:mod:`apicron.declarative.kinds.task_checks`) read it.
"""

from __future__ import annotations

from pydantic import Field

from apicron.client import TaskCreate


class TaskSpec(TaskCreate):
    """One task document: ``app`` and ``api`` by name (``api`` as ``group/name`` or an
    unambiguous bare name), ``started`` (None: leave the state alone), ``expired`` (True:
    nothing left to fire; not created where it does not exist), ``calendars`` by name."""

    app: str
    api: str
    started: bool | None = None
    expired: bool | None = None
    calendars: list[str] = Field(default_factory=list)
    #: ``alerts.channels``: the alert channels by name (None: the file gave ids, or none).
    alert_channels: list[str] | None = None
