"""Backfill and replay: the request and answer shapes (issue 18).

A backfill runs every occurrence a task's schedule had in ``[from, to)`` — its trigger
within its effective and end times — each as a new execution (trigger ``BACKFILL``) with
the occurrence's own scheduled time, so ``{{scheduled_time}}`` and ``{{window_*}}`` are
those of the occurrence. At most :data:`MAX_BACKFILL` occurrences per request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field, StrictBool

from apicron.domain.models import AwareTextDatetime, Input, Record

MAX_BACKFILL = 1000
BackfillMode = Literal["SEQUENTIAL", "PARALLEL"]
# What a backfill does with one occurrence (the words of skipped_succeeded and
# skipped_in_progress): run it, or leave it alone.
BackfillAction = Literal["RUN", "SKIP_SUCCEEDED", "SKIP_IN_PROGRESS"]


class BackfillRequest(Input):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    start: AwareTextDatetime = Field(
        alias="from", description="first occurrence time included (RFC 3339 with an offset)")
    end: AwareTextDatetime = Field(
        alias="to", description="occurrences before this time (RFC 3339 with an offset); "
                                "not in the future")
    mode: BackfillMode = Field(
        default="SEQUENTIAL",
        description="SEQUENTIAL: one after the other in time order; PARALLEL: all released "
                    "at once, as the engine's call slots allow")
    rerun_succeeded: StrictBool = Field(
        default=False, description="also run occurrences that already have a SUCCEEDED "
                                   "execution")
    dry_run: StrictBool = Field(
        default=False, description="only answer what would be queued; nothing is stored")


class BackfillOccurrence(Record):
    """One occurrence of a backfill's range and what the backfill does with it."""

    scheduled_at: datetime = Field(description="the occurrence's scheduled time")
    action: BackfillAction = Field(
        description="RUN: queued (on a dry run: would be); SKIP_SUCCEEDED: left alone, it "
                    "already has a SUCCEEDED execution; SKIP_IN_PROGRESS: left alone, an "
                    "execution of it is still to run")
    execution_id: str | None = Field(
        description="RUN on a real backfill: the execution queued; otherwise null (a dry "
                    "run stores nothing, so there is no id to look up)")


class BackfillResult(Record):
    task_id: str = Field(description="The task backfilled.")
    mode: BackfillMode = Field(description="SEQUENTIAL or PARALLEL, as asked.")
    dry_run: bool = Field(description="True: nothing was queued, this is what would be.")
    queued: int = Field(description="executions queued (or, on a dry run, that would be)")
    first: datetime | None = Field(description="the earliest occurrence queued")
    last: datetime | None = Field(description="the latest occurrence queued")
    skipped_succeeded: int = Field(
        description="occurrences left alone: they already have a SUCCEEDED execution")
    skipped_in_progress: int = Field(
        description="occurrences left alone: an execution of theirs is still to run "
                    "(PENDING or RUNNING)")
    sequence_id: str | None = Field(
        description="SEQUENTIAL: the id the queued executions share, else null (also on "
                    "a dry run)")
    execution_ids: list[str] = Field(
        description="the executions queued, in time order ([] on a dry run: nothing is "
                    "stored)")
    occurrences: list[BackfillOccurrence] = Field(
        default_factory=list,
        description="every occurrence in [from, to), in time order, with what the backfill "
                    "does (or, on a dry run, would do) with it")
