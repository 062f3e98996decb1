"""Console sessions: an opaque random id in the cookie, the session itself in memory.

The admin token never travels in the cookie; a restart logs everyone out, which suits a
single admin. Each session carries its CSRF token and the one-shot messages of the
post-redirect-get pattern.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

COOKIE = "apicron_session"
LIFETIME_S = 12 * 3600


@dataclass
class Session:
    id: str
    csrf: str
    expires_at: float
    flashes: list[tuple[str, str]] = field(default_factory=list)
    # Shown once on the next page: a new or reset app secret (seed: shown only then).
    reveal: dict[str, Any] | None = None

    def flash(self, kind: str, message: str) -> None:
        self.flashes.append((kind, message))

    def pop_flashes(self) -> list[tuple[str, str]]:
        flashes, self.flashes = self.flashes, []
        return flashes

    def pop_reveal(self) -> dict[str, Any] | None:
        reveal, self.reveal = self.reveal, None
        return reveal


class Sessions:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def create(self) -> Session:
        session = Session(
            id=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(32),
            expires_at=time.monotonic() + LIFETIME_S,
        )
        with self._lock:
            now = time.monotonic()
            self._sessions = {k: s for k, s in self._sessions.items() if s.expires_at > now}
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or session.expires_at <= time.monotonic():
                self._sessions.pop(session_id, None)
                return None
            return session

    def drop(self, session_id: str | None) -> None:
        if session_id:
            with self._lock:
                self._sessions.pop(session_id, None)
