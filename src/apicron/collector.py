"""The garbage collector's pace in a server process (issue 20: fire on time).

CPython's cyclic collector starts a young-generation pass after 700 net allocations of
container objects, and every 10th and 100th pass goes a generation deeper. A scheduler
firing hundreds of calls a second allocates that many in well under a millisecond, so
passes ran dozens of times a second, each one stalling every call in flight; the deeper
ones walk the tens of thousands of objects the engine holds (claimed tasks, planned
executions, the gateway snapshot).

Measured (``bench`` lateness load, 10,000 tasks, ~167 due each second, 30 s, this 2-core
VM, three runs each): p99 lateness 163–192 ms with the defaults, 108–117 ms with the
thresholds below, 106 ms with the collector off; p50 66–71 against 62 ms; the same RSS
(~160 MB) and less CPU. Garbage cycles are still collected, 70 times less often; what
start-up built is frozen out of every pass (``gc.freeze``), so a full pass walks only what
the process made since.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 100)
"""``gc.set_threshold``: net container allocations before a young pass (CPython: 700),
young passes before a middle one (10), middle passes before a full one (10)."""


def settle_collector() -> None:
    """Freeze everything allocated so far out of the collector's passes and space the
    passes out (:data:`THRESHOLDS`). Call once start-up is done; calling again freezes what
    was made since (harmless)."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
