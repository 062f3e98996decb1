"""What every service needs: the store, the secret box and a clock tests can drive."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apicron.crypto import SecretBox
from apicron.store.store import Store

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Context:
    store: Store
    secrets: SecretBox
    gateway_url: str
    clock: Clock = field(default=system_clock)

    def now(self) -> datetime:
        return self.clock()
