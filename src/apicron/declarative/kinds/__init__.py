"""The kinds of resources a file may declare, in the order they are applied (each names
only kinds before it) — pruning goes in the reverse order. A new kind (channels,
calendars) is a module here implementing :class:`~apicron.declarative.kinds.base.Kind`
and one line in :data:`KINDS`."""

from __future__ import annotations

from typing import Any

from apicron.declarative.kinds.apis import ApiKind
from apicron.declarative.kinds.apps import AppKind
from apicron.declarative.kinds.base import Kind
from apicron.declarative.kinds.calendars import CalendarKind
from apicron.declarative.kinds.channels import ChannelKind
from apicron.declarative.kinds.grants import GrantKind
from apicron.declarative.kinds.groups import GroupKind
from apicron.declarative.kinds.tasks import TaskKind
from apicron.declarative.kinds.users import UserKind

KINDS: tuple[Kind[Any, Any], ...] = (
    AppKind(), GroupKind(), ApiKind(), GrantKind(), ChannelKind(), CalendarKind(), TaskKind(),
    UserKind(),
)
BY_NAME: dict[str, Kind[Any, Any]] = {kind.name: kind for kind in KINDS}
