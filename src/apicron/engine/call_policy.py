"""A task's own call policy applied to its calls (issue 18; the rules in
:mod:`apicron.domain.call_policy`): its timeout in place of the API's, its retry backoff in
place of the engine's. The retry decision (which outcomes, how many: the seed's 0-3) is
unchanged.
"""

from __future__ import annotations

import dataclasses

from apicron.domain.models import StoredTask
from apicron.engine.retry import RetryPolicy
from apicron.gateway.auth import Authorized


def task_retry_policy(policy: RetryPolicy, task: StoredTask) -> RetryPolicy:
    """``policy`` with the task's backoff base and cap where it sets them (milliseconds)."""
    base, cap = task.retry_backoff_base_ms, task.retry_backoff_cap_ms
    if base is None and cap is None:
        return policy
    return dataclasses.replace(
        policy,
        base_seconds=policy.base_seconds if base is None else base / 1000,
        cap_seconds=policy.cap_seconds if cap is None else cap / 1000,
    )


def with_task_timeout(authorized: Authorized, timeout_ms: int | None) -> Authorized:
    """The call authorized, to be made within the task's timeout (None: the API's)."""
    if timeout_ms is None:
        return authorized
    api = authorized.api.model_copy(update={"backend_timeout_ms": timeout_ms})
    return dataclasses.replace(authorized, api=api)
