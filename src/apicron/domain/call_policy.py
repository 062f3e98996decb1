"""A task's own call policy (issue 18): its timeout and its retry backoff.

``timeout_ms`` null is the API's ``backend_timeout_ms``; the backoff fields null are the
engine's defaults (DESIGN.md: base 1 s, cap 60 s, :mod:`apicron.engine.retry`). The number
of retries stays the seed's ``max_retries`` 0-3.
"""

from __future__ import annotations

from apicron.domain.errors import InvalidInput

DEFAULT_BACKOFF_BASE_MS = 1000
DEFAULT_BACKOFF_CAP_MS = 60_000


def check_backoff(base_ms: int | None, cap_ms: int | None) -> None:
    """The cap is at least the base (each null counts as its default).

    Raises InvalidInput naming ``retry_backoff_cap_ms``.
    """
    if base_ms is None and cap_ms is None:
        return
    base = DEFAULT_BACKOFF_BASE_MS if base_ms is None else base_ms
    cap = DEFAULT_BACKOFF_CAP_MS if cap_ms is None else cap_ms
    if cap < base:
        which = "retry_backoff_base_ms" if base_ms is not None else "the default base"
        raise InvalidInput(
            f"must be at least {which} ({base} ms), got {cap} ms",
            field="retry_backoff_cap_ms",
        )
