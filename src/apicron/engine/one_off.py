"""Ending one-off tasks whose run is over (issue 18), in the engine's transactions.

Called where a run's end is written (planning, the fence, the result writer) and by
maintenance; see :mod:`apicron.store.one_off_queries`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from apicron.logs import execution_ids
from apicron.store.store import Queries

log = logging.getLogger("apicron.engine")


def end_one_off_tasks(q: Queries, now: datetime) -> int:
    """COMPLETE (or delete, history kept) every one-off task whose run is over; returns how
    many ended."""
    ended = q.end_one_off_tasks(now)
    for task in ended:
        what = "deleted after its run (history kept)" if task.deleted else "COMPLETED"
        log.info("one-off task %s (%s) %s", task.name, task.id, what,
                 extra=execution_ids(task.id))
    return len(ended)
