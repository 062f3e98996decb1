"""Jinja filters for figures and times the console shows (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(value: datetime | None) -> str:
    """An aware time as RFC 3339 in UTC (``2026-11-30T15:00:00Z``), for ``<time datetime>``
    and the browser's own rendering; "" for None."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def percent(value: float | None) -> str:
    """A rate in percent with one decimal (``97.5 %``); "—" when there is none."""
    return "—" if value is None else f"{value:.1f} %"


def duration(ms: float | None) -> str:
    """Milliseconds as a person reads them: ``840 ms``, ``12.3 s``, ``4 min 5 s``."""
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes} min {seconds} s"


FILTERS = {"iso": iso, "percent": percent, "duration": duration}
