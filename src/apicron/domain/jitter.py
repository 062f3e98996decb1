"""Jitter (issue 18): how much later than its scheduled time an occurrence is fired.

The scheduled (nominal) time stays the occurrence's identity: it is what history shows and
what ``X-Apicron-Scheduled-Time`` says. The planned time, scheduled time plus offset, is
when the engine fires it and what lateness is measured against. STABLE gives every
occurrence of a task the same offset, derived from the task id alone (Dkron's ``~``), so it
is identical on every node and after restarts; RANDOM draws a new one per occurrence
(EventBridge Scheduler's flexible time window). Offsets have millisecond resolution and lie
in [0, jitter_s).
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta

_RANDOM = random.SystemRandom()


def stable_offset_ms(task_id: str, jitter_s: int) -> int:
    """The task's offset in milliseconds, in [0, ``jitter_s`` * 1000); 0 when no jitter.

    SHA-256 of the id, not ``hash()``: Python salts ``hash`` per process.
    """
    if jitter_s <= 0:
        return 0
    digest = hashlib.sha256(task_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % (jitter_s * 1000)


def offset_ms(task_id: str, jitter_s: int, mode: str) -> int:
    """The offset of one occurrence: the task's stable one, or a new random one."""
    if jitter_s <= 0:
        return 0
    if mode == "STABLE":
        return stable_offset_ms(task_id, jitter_s)
    return _RANDOM.randrange(jitter_s * 1000)


def planned_time(scheduled_at: datetime, task_id: str, jitter_s: int, mode: str) -> datetime:
    """When the occurrence scheduled at ``scheduled_at`` is fired."""
    return scheduled_at + timedelta(milliseconds=offset_ms(task_id, jitter_s, mode))
