"""Which task actions a page offers (issue 15): only those the service would accept.

Start is refused by :func:`apicron.services.tasks.start_task` for more than the status
(a COMPLETED one-off whose run_at passed, an expired end_time, an API unpublished or a
grant revoked since), so the pages ask the service instead of guessing from the status.
"""

from __future__ import annotations

from collections.abc import Sequence

from apicron.domain.errors import Forbidden
from apicron.domain.models import Task
from apicron.services import tasks
from apicron.services.context import Context


def start_refusals(ctx: Context, shown: Sequence[Task]) -> dict[str, str]:
    """Task id → why Start is not offered, for each task shown the service would refuse
    to start; empty for a role that may not start tasks (the pages say so already)."""
    try:
        refused = tasks.start_refusals(ctx, [t.id for t in shown])
    except Forbidden:
        return {}
    return {task_id: f"Cannot start: {error.rule}" for task_id, error in refused.items()}
