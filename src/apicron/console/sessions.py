"""A console session as the pages use it, kept in the database
(:mod:`apicron.services.console_sessions`): it survives restarts and serves every node.

The cookie holds an opaque random value (the database keeps its hash); neither the admin
token nor a password ever travels in it. A session carries its CSRF token, who it acts
as, and the one-shot messages of the post-redirect-get pattern, written through to the
database as they are set.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from apicron.domain.access import Actor
from apicron.services import console_sessions
from apicron.services.console_sessions import OpenSession
from apicron.services.context import Context

COOKIE = "apicron_session"


class Session:
    """One request's view of its session; ``ctx`` acts as the session's actor."""

    def __init__(self, ctx: Context, opened: OpenSession):
        self.ctx = replace(ctx, actor=opened.actor)
        self.key = opened.key
        self.csrf = opened.csrf
        self._flashes = list(opened.flashes)
        self._has_reveal = opened.has_reveal

    @property
    def actor(self) -> Actor:
        return self.ctx.actor

    def flash(self, kind: str, message: str) -> None:
        self._flashes.append((kind, message))
        console_sessions.add_flash(self.ctx, self.key, kind, message)

    def pop_flashes(self) -> list[tuple[str, str]]:
        flashes, self._flashes = self._flashes, []
        if flashes:
            console_sessions.clear_flashes(self.ctx, self.key)
        return flashes

    @property
    def reveal(self) -> dict[str, Any] | None:
        """Write-only: a secret shown once on the next page (see :meth:`pop_reveal`)."""
        return None

    @reveal.setter
    def reveal(self, value: dict[str, Any]) -> None:
        console_sessions.set_reveal(self.ctx, self.key, value)
        self._has_reveal = True

    def pop_reveal(self) -> dict[str, Any] | None:
        if not self._has_reveal:
            return None
        self._has_reveal = False
        return console_sessions.pop_reveal(self.ctx, self.key)
