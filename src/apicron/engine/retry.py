"""Retry policy as data: which outcomes are retried and how long to wait.

DESIGN.md: retries (up to max_retries) on connect errors, timeouts, 408, 429 and 5xx,
exponential backoff with full jitter (base 1 s, cap 60 s), honouring Retry-After up to the
cap; other 4xx fail at once. A failed body assertion (ASSERTION, issue 14) is retried only
when the task's success conditions say so (``retry_on_assertion``): the backend answered.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime

RETRYABLE_KINDS = frozenset({"DNS", "CONNECT", "TIMEOUT"})
RETRYABLE_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 1.0
    cap_seconds: float = 60.0
    retryable_kinds: frozenset[str] = RETRYABLE_KINDS
    retryable_statuses: frozenset[int] = RETRYABLE_STATUSES
    random: random.Random = field(default_factory=random.Random, compare=False)

    def is_retryable(
        self, error_kind: str | None, http_status: int | None, *, assertions: bool = False
    ) -> bool:
        """Whether an attempt that failed so is retried; ``assertions``: the task retries
        failed body assertions."""
        if error_kind in self.retryable_kinds:
            return True
        if error_kind == "ASSERTION":
            return assertions
        if error_kind == "HTTP" and http_status is not None:
            return http_status in self.retryable_statuses or 500 <= http_status <= 599
        return False

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.cap_seconds)
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1))
        return self.random.uniform(0, ceiling)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max((when - now).total_seconds(), 0.0)
