"""The engine's tuning, as one frozen dataclass (the server fills it from the settings)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class EngineSettings:
    node_id: str = ""
    batch_size: int = 500
    fire_chunk: int = 250
    lookahead: timedelta = timedelta(seconds=2)
    # Planning starts when the next task is due this soon: 10,000 tasks due in one second
    # are planned before it comes, and an every-second schedule is planned mid-second.
    plan_lead: timedelta = timedelta(seconds=1.5)
    # DESIGN.md, Misfire: found later than this after its time, an occurrence is a misfire.
    grace: timedelta = timedelta(seconds=60)
    lease: timedelta = timedelta(seconds=15)
    max_in_flight: int = 2000
    queue_scan_every: timedelta = timedelta(seconds=5)
    prune_every: timedelta = timedelta(minutes=10)
    history_keep: int = 1000
    history_days: int = 30
    # Single-node SQLite: on start every unfinished execution is an orphan of a dead run.
    take_over_on_start: bool = True
    # While the database is unreachable: how often to try again.
    retry_every: timedelta = timedelta(seconds=1)
    # After the database came back, other nodes' expired leases are left alone this long,
    # so that nodes which were cut off too have renewed theirs before anyone adopts them.
    recovery_grace: timedelta = timedelta(seconds=3)
    # Passes failing (not a database outage: a bug, a broken schema) for this long end the
    # engine with one clear line, so the process exits and a supervisor restarts it.
    give_up_after: timedelta = timedelta(seconds=60)
