"""Jinja filters for figures and times the console shows (pure functions)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from markupsafe import Markup


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


_URL_BREAKS = re.compile(r"(?<=[/?&])(?!/)")


def breakable(url: str) -> Markup:
    """``url`` escaped, each part in a ``<span>`` the stylesheet keeps on one line, with a
    line-break opportunity (``<wbr>``) after each ``/``, ``?`` and ``&`` (not inside
    ``//``): a long URL wraps between its parts, never inside one (not at a hyphen)."""
    return Markup("<wbr>").join(
        Markup("<span>%s</span>") % part for part in _URL_BREAKS.split(url)
    )


FILTERS = {"iso": iso, "percent": percent, "duration": duration, "breakable": breakable}
