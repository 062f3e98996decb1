"""Why an occurrence did not run on time, in words a user can act on.

DESIGN.md, Misfire: an occurrence found less than the grace period after its time runs
late; later than that it is a misfire. RUN_ONCE runs the *latest* missed occurrence once,
however late, and records the others MISSED; SKIP records them all MISSED. Whether apicron
was down, its database unreachable or its engine behind schedule, every due occurrence
leaves a row that says which (issue 13: a true reason, never a guess).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


def describe_delay(seconds: float) -> str:
    """A delay as a person says it: ``"42 s"``, ``"3 min 5 s"``, ``"2 h 1 min"``,
    ``"3 d 4 h"`` (whole seconds, two units at most)."""
    total = max(int(seconds), 0)
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")]
    shown = [f"{n} {unit}" for n, unit in parts if n]
    return " ".join(shown[:2]) if shown else "0 s"


@dataclass(frozen=True)
class Circumstances:
    """What the engine knows about the time it was not firing: when it started, and the
    last window during which its database was unreachable (end None: still now)."""

    engine_started: datetime
    outage_from: datetime | None = None
    outage_until: datetime | None = None
    adopted: bool = False
    """Said of an occurrence this engine took from the queue: the engine that had planned
    it stopped (killed: its lease expired; or stopping: it handed it back) before firing
    it. That, not this engine's pace, is why it is late (CI's kill -9 test: 60 occurrences
    said "the engine was behind schedule by 14 s")."""

    def cause(self, at: datetime, now: datetime) -> str:
        """Why the occurrence due ``at`` was not fired at its time, seen at ``now``."""
        if at < self.engine_started:
            return "apicron was not running at its time"
        if self._in_outage(at, now):
            return "the database was unreachable at its time"
        if self.adopted:
            return ("the engine that held it stopped before firing it (another engine took "
                    "it over)")
        return f"the engine was behind schedule by {describe_delay((now - at).total_seconds())}"

    def was_down(self, at: datetime, now: datetime) -> bool:
        """Whether apicron was not running, or its database unreachable, at ``at`` (or, for
        an occurrence taken over, the engine that held it had stopped)."""
        return self.adopted or at < self.engine_started or self._in_outage(at, now)

    def _in_outage(self, at: datetime, now: datetime) -> bool:
        return self.outage_from is not None and self.outage_from <= at <= (
            self.outage_until or now)

    def missed(self, at: datetime, now: datetime, policy: str) -> str:
        """The error message of an occurrence recorded MISSED under ``policy``."""
        if policy == "SKIP":
            return f"not run: {self.cause(at, now)} (misfire policy SKIP)"
        return (f"not run: {self.cause(at, now)}; misfire policy RUN_ONCE runs only the "
                "latest missed occurrence")

    def late(self, at: datetime, now: datetime) -> str:
        """The note of the missed occurrence RUN_ONCE runs late."""
        return (f"run {describe_delay((now - at).total_seconds())} late: {self.cause(at, now)} "
                "(misfire policy RUN_ONCE runs the latest missed occurrence once)")


    def coalesced(self, at: datetime, now: datetime, ran_at: datetime) -> str:
        """The error message of an occurrence recorded MISSED because a later occurrence
        of its task, ``ran_at``, was due too when it was found: of occurrences due together
        only the latest runs (APScheduler 3's default ``coalesce=True``; Kubernetes CronJob
        starts one Job however many schedules it missed)."""
        return (f"not run: {self.cause(at, now)}; when it was found "
                f"{describe_delay((now - at).total_seconds())} late, the occurrence at "
                f"{rfc3339(ran_at)} was due too and ran instead (of the occurrences due "
                "together only the latest runs)")

    def found_late(self, at: datetime, now: datetime, *, coalesced: bool) -> str:
        """The note of an occurrence run late within the grace (``coalesced``: earlier
        occurrences due with it were recorded MISSED)."""
        notes = []
        if (now - at).total_seconds() >= 1:
            notes.append(f"run {describe_delay((now - at).total_seconds())} late: "
                         f"{self.cause(at, now)}")
        if coalesced:
            notes.append("the earlier occurrences due with it were recorded MISSED (of the "
                         "occurrences due together only the latest runs)")
        return "; ".join(notes)


def rfc3339(at: datetime) -> str:
    """``2027-03-01T08:00:45Z`` (UTC, whole seconds unless it has a fraction)."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def stopped_before_fired(at: datetime, now: datetime) -> str:
    """The error message of a due occurrence a stop caught before any engine fired it."""
    return (f"not run: the task was stopped {describe_delay((now - at).total_seconds())} after "
            "its time, before apicron fired it (no engine had reached it yet)")
