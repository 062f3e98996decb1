"""Why an execution's asyncio task was cancelled: by the overlap policy CANCEL_PREVIOUS
(issue 18; :mod:`apicron.engine.overlap`), or by a shutdown. The dispatcher reads it to
record the attempt CANCELLED rather than hand the execution back."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OverlapCancel:
    """The reason an execution's asyncio task is cancelled by the overlap policy (passed as
    the ``CancelledError``'s message, so the dispatcher tells it from a shutdown)."""

    message: str


def cancel_message(replaced_by: datetime) -> str:
    return (f"cancelled: the occurrence scheduled at "
            f"{replaced_by.strftime('%Y-%m-%dT%H:%M:%SZ')} replaced it "
            "(overlap policy CANCEL_PREVIOUS)")


def overlap_cancel(error: asyncio.CancelledError) -> OverlapCancel | None:
    """The overlap policy's reason, when ``error`` is its cancel (None: a shutdown)."""
    reason = error.args[0] if error.args else None
    return reason if isinstance(reason, OverlapCancel) else None
