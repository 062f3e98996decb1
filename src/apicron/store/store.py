"""The Store: every query apicron runs, over SQLAlchemy Core, portable to PostgreSQL.

``Store.read()`` and ``Store.write()`` open a transaction and yield ``Queries`` bound to it;
a service does its checks and its writes inside one ``write()`` so they are atomic (SQLite
takes the write lock at BEGIN IMMEDIATE). Queries return domain records, never rows.
Unique-constraint violations become ``Conflict`` here, the only place that knows SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, delete, exists, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from apicron.domain.errors import Conflict
from apicron.domain.models import (
    Api,
    App,
    Grant,
    Group,
    Instance,
    InstanceParams,
    PublishedApi,
    Record,
    StoredTask,
)
from apicron.store.account_queries import AccountQueries
from apicron.store.alert_queries import AlertQueries, _rules
from apicron.store.audit_queries import AuditQueries
from apicron.store.backfill_queries import BackfillQueries
from apicron.store.calendar_queries import CalendarQueries
from apicron.store.coalescing_queries import CoalescingQueries
from apicron.store.database import WRITE_OPTION
from apicron.store.execution_queries import ExecutionQueries
from apicron.store.node_queries import NodeQueries
from apicron.store.one_off_queries import OneOffQueries
from apicron.store.overview_queries import OverviewQueries
from apicron.store.rows import (
    ApiChanges,
    ApiRow,
    AppChanges,
    AppRow,
    ChannelChanges,
    ChannelRow,
    GrantRow,
    GroupChanges,
    GroupRow,
    InstanceChanges,
    TaskChanges,
    TaskRow,
)
from apicron.store.tables import (
    api_groups,
    apis,
    app_auths,
    apps,
    channels,
    executions,
    instance,
    seen_signatures,
    tasks,
)
from apicron.store.task_filters import where_task_matches

R = TypeVar("R", bound=Record)

# Every column holding a credential encrypted with APICRON_SECRET_KEY, as (kind, table,
# encrypted column, label column): what start-up checks and `apicron secret-key rotate`
# re-encrypts. A new encrypted column is added here.
_ENCRYPTED: tuple[tuple[str, Any, Any, Any], ...] = (
    ("app", apps, apps.c.secret_encrypted, apps.c.name),
    ("channel URL", channels, channels.c.url_encrypted, channels.c.name),
    ("channel secret", channels, channels.c.secret_encrypted, channels.c.name),
)


@dataclass(frozen=True)
class StoredCredential:
    """One encrypted credential: ``kind`` (``app``…), the row's id, a name a person knows
    it by, and the ciphertext."""

    kind: str
    id: str
    name: str
    encrypted: str = field(repr=False)

INSTANCE_ID = 1


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


_API_COLUMNS = (*apis.c, api_groups.c.app_id)


class Queries(
    ExecutionQueries, NodeQueries, AlertQueries, AccountQueries, AuditQueries, OneOffQueries,
    CalendarQueries, BackfillQueries, OverviewQueries, CoalescingQueries,
):
    def __init__(self, connection: Connection):
        self.connection = connection

    # -- generic helpers -------------------------------------------------------------------

    def _one(self, model: type[R], statement: Select[Any]) -> R | None:
        row = self.connection.execute(statement).mappings().first()
        return None if row is None else model.model_validate(dict(row))

    def _page(
        self,
        convert: Callable[[Mapping[Any, Any]], R],
        statement: Select[Any],
        order: Any,
        offset: int,
        limit: int,
    ) -> tuple[int, list[R]]:
        total = self.connection.execute(
            select(func.count()).select_from(statement.subquery())
        ).scalar_one()
        rows = self.connection.execute(statement.order_by(*order).offset(offset).limit(limit))
        return total, [convert(dict(r)) for r in rows.mappings()]

    def _insert(self, table: Any, values: Mapping[str, Any], conflict: str) -> None:
        # A savepoint keeps the surrounding transaction usable after a unique violation.
        try:
            with self.connection.begin_nested():
                self.connection.execute(insert(table).values(**values))
        except IntegrityError:
            raise Conflict(conflict) from None

    def _update(self, table: Any, id_: str, values: Mapping[str, Any], conflict: str) -> int:
        try:
            with self.connection.begin_nested():
                result = self.connection.execute(
                    update(table).where(table.c.id == id_).values(**values)
                )
        except IntegrityError:
            raise Conflict(conflict) from None
        return result.rowcount

    # -- instance --------------------------------------------------------------------------

    def get_instance(self, gateway_url: str) -> Instance:
        row = self.connection.execute(
            select(instance).where(instance.c.id == INSTANCE_ID)
        ).mappings().one()
        return Instance(
            name=row["name"],
            params=InstanceParams(
                app_route=row["app_route"], app_secret=row["app_secret"],
                replay_guard=row["replay_guard"], unsigned_payload=row["unsigned_payload"],
            ),
            timezone=row["timezone"],
            gateway_url=gateway_url,
            default_alerts=_rules(row["default_alerts"]),
        )

    def ensure_instance(self, now: datetime) -> None:
        present = self.connection.execute(
            select(instance.c.id).where(instance.c.id == INSTANCE_ID)
        ).first()
        if present is None:
            # apicron turns both seed prerequisites on by default (DESIGN: params default on).
            # Several processes may start on an empty database together: the first wins.
            try:
                with self.connection.begin_nested():
                    self.connection.execute(
                        insert(instance).values(
                            id=INSTANCE_ID, name="apicron", app_route=True, app_secret=True,
                            timezone="UTC", updated_at=now,
                        )
                    )
            except IntegrityError:
                pass

    def update_instance(self, values: InstanceChanges) -> None:
        self.connection.execute(
            update(instance).where(instance.c.id == INSTANCE_ID).values(**values)
        )

    # -- apps ------------------------------------------------------------------------------

    _app_select = select(*(c for c in apps.c if c.name != "secret_encrypted"))

    def insert_app(self, values: AppRow) -> None:
        self._insert(apps, values, f"an integration app named {values['name']!r} already exists")

    def get_app(self, app_id: str) -> App | None:
        return self._one(App, self._app_select.where(apps.c.id == app_id))

    def list_apps(self, name: str | None, offset: int, limit: int) -> tuple[int, list[App]]:
        statement = self._app_select
        if name:
            statement = statement.where(func.lower(apps.c.name).like(_like(name), escape="\\"))
        order = (apps.c.created_at.desc(), apps.c.id)
        return self._page(App.model_validate, statement, order, offset, limit)

    def update_app(self, app_id: str, values: AppChanges) -> int:
        return self._update(
            apps, app_id, values, f"an integration app named {values.get('name')!r} already exists"
        )

    def delete_app(self, app_id: str) -> None:
        self.connection.execute(delete(app_auths).where(app_auths.c.app_id == app_id))
        self.connection.execute(delete(apps).where(apps.c.id == app_id))

    def count_groups_of_app(self, app_id: str) -> int:
        return self.connection.execute(
            select(func.count()).where(api_groups.c.app_id == app_id)
        ).scalar_one()

    def count_tasks_of_app(self, app_id: str) -> int:
        return self.connection.execute(
            select(func.count()).where(tasks.c.app_id == app_id)
        ).scalar_one()

    # -- API groups ------------------------------------------------------------------------

    def insert_group(self, values: GroupRow) -> None:
        self._insert(api_groups, values, f"an API group named {values['name']!r} already exists")

    def get_group(self, group_id: str) -> Group | None:
        return self._one(Group, select(api_groups).where(api_groups.c.id == group_id))

    def list_groups(
        self, name: str | None, app_id: str | None, offset: int, limit: int
    ) -> tuple[int, list[Group]]:
        statement = select(api_groups)
        if name:
            statement = statement.where(
                func.lower(api_groups.c.name).like(_like(name), escape="\\")
            )
        if app_id:
            statement = statement.where(api_groups.c.app_id == app_id)
        order = (api_groups.c.created_at.desc(), api_groups.c.id)
        return self._page(Group.model_validate, statement, order, offset, limit)

    def update_group(self, group_id: str, values: GroupChanges) -> int:
        return self._update(
            api_groups, group_id, values,
            f"an API group named {values.get('name')!r} already exists",
        )

    def delete_group(self, group_id: str) -> None:
        self.connection.execute(delete(api_groups).where(api_groups.c.id == group_id))

    def count_apis_of_group(self, group_id: str) -> int:
        return self.connection.execute(
            select(func.count()).where(apis.c.group_id == group_id)
        ).scalar_one()

    # -- APIs ------------------------------------------------------------------------------

    _api_select = select(*_API_COLUMNS).join_from(apis, api_groups)

    @staticmethod
    def _api(row: Mapping[Any, Any]) -> Api:
        return Api.model_validate({**row, "published": row["published_at"] is not None})

    def insert_api(self, values: ApiRow) -> None:
        self._insert(
            apis, values, f"the group already has an API named {values['name']!r}"
        )

    def get_api(self, api_id: str) -> Api | None:
        row = self.connection.execute(
            self._api_select.where(apis.c.id == api_id)
        ).mappings().first()
        return None if row is None else self._api(row)

    def get_published_api(self, api_id: str) -> PublishedApi | None:
        snapshot = self.connection.execute(
            select(apis.c.published_snapshot).where(apis.c.id == api_id)
        ).scalar_one_or_none()
        return None if snapshot is None else PublishedApi.model_validate(snapshot)

    def find_api_serving(self, route: str) -> PublishedApi | None:
        """The published snapshot serving ``route`` (a ``route_key``), if any."""
        snapshot = self.connection.execute(
            select(apis.c.published_snapshot).where(apis.c.published_route == route)
        ).scalar_one_or_none()
        return None if snapshot is None else PublishedApi.model_validate(snapshot)

    def list_apis(
        self,
        *,
        name: str | None,
        group_id: str | None,
        app_id: str | None,
        published: bool | None,
        offset: int,
        limit: int,
    ) -> tuple[int, list[Api]]:
        statement = self._api_select
        if name:
            statement = statement.where(func.lower(apis.c.name).like(_like(name), escape="\\"))
        if group_id:
            statement = statement.where(apis.c.group_id == group_id)
        if app_id:
            statement = statement.where(api_groups.c.app_id == app_id)
        if published is not None:
            statement = statement.where(
                apis.c.published_at.is_not(None) if published else apis.c.published_at.is_(None)
            )
        order = (apis.c.created_at.desc(), apis.c.id)
        return self._page(self._api, statement, order, offset, limit)

    def update_api(self, api_id: str, values: ApiChanges) -> int:
        return self._update(
            apis, api_id, values, f"the group already has an API named {values.get('name')!r}"
        )

    def publish_api(self, api_id: str, snapshot: PublishedApi, route: str) -> None:
        self._update(
            apis,
            api_id,
            ApiChanges(
                published_snapshot=snapshot.model_dump(mode="json"),
                published_at=snapshot.published_at,
                published_route=route,
            ),
            f"another published API already serves {route}",
        )

    def unpublish_api(self, api_id: str, now: datetime) -> None:
        self.connection.execute(
            update(apis)
            .where(apis.c.id == api_id)
            .values(published_snapshot=None, published_at=None, published_route=None,
                    updated_at=now)
        )

    def delete_api(self, api_id: str) -> None:
        self.connection.execute(delete(app_auths).where(app_auths.c.api_id == api_id))
        self.connection.execute(delete(apis).where(apis.c.id == api_id))

    def count_tasks_of_api(self, api_id: str) -> int:
        return self.connection.execute(
            select(func.count()).where(tasks.c.api_id == api_id)
        ).scalar_one()

    # -- grants ----------------------------------------------------------------------------

    def insert_grant(self, values: GrantRow) -> None:
        self._insert(app_auths, values, "the app already holds this grant")

    def get_grant(self, grant_id: str) -> Grant | None:
        return self._one(Grant, select(app_auths).where(app_auths.c.id == grant_id))

    def find_grant(self, app_id: str, api_id: str) -> Grant | None:
        return self._one(
            Grant,
            select(app_auths).where(app_auths.c.app_id == app_id, app_auths.c.api_id == api_id),
        )

    def has_grant(self, app_id: str, api_id: str) -> bool:
        return bool(
            self.connection.execute(
                select(
                    exists().where(app_auths.c.app_id == app_id, app_auths.c.api_id == api_id)
                )
            ).scalar_one()
        )

    def list_grants(
        self, app_id: str | None, api_id: str | None, offset: int, limit: int
    ) -> tuple[int, list[Grant]]:
        statement = select(app_auths)
        if app_id:
            statement = statement.where(app_auths.c.app_id == app_id)
        if api_id:
            statement = statement.where(app_auths.c.api_id == api_id)
        order = (app_auths.c.created_at.desc(), app_auths.c.id)
        return self._page(Grant.model_validate, statement, order, offset, limit)

    def delete_grant(self, grant_id: str) -> None:
        self.connection.execute(delete(app_auths).where(app_auths.c.id == grant_id))

    # -- tasks -----------------------------------------------------------------------------

    def insert_task(self, values: TaskRow) -> None:
        self._insert(tasks, values, f"a task named {values['name']!r} already exists")

    def get_task(self, task_id: str) -> StoredTask | None:
        return self._one(StoredTask, select(tasks).where(tasks.c.id == task_id))

    def list_tasks(
        self,
        *,
        name: str | None,
        status: str | None,
        app_id: str | None,
        api_id: str | None,
        offset: int,
        limit: int,
        tags: Mapping[str, str] | None = None,
        name_prefix: str | None = None,
        ids: Sequence[str] | None = None,
    ) -> tuple[int, list[StoredTask]]:
        statement = where_task_matches(select(tasks), tags=tags, name_prefix=name_prefix,
                                       ids=ids)
        if name:
            statement = statement.where(func.lower(tasks.c.name).like(_like(name), escape="\\"))
        if status:
            statement = statement.where(tasks.c.status == status)
        if app_id:
            statement = statement.where(tasks.c.app_id == app_id)
        if api_id:
            statement = statement.where(tasks.c.api_id == api_id)
        order = (tasks.c.created_at.desc(), tasks.c.id)
        return self._page(StoredTask.model_validate, statement, order, offset, limit)

    def update_task(self, task_id: str, values: TaskChanges) -> int:
        return self._update(
            tasks, task_id, values, f"a task named {values.get('name')!r} already exists"
        )

    def delete_task(self, task_id: str, *, keep_history: bool = False) -> None:
        """Delete the task and (unless ``keep_history``: a one-off task deleted after its
        run keeps its history for the retention period) its executions and attempts."""
        if not keep_history:
            self.connection.execute(delete(executions).where(executions.c.task_id == task_id))
        self.connection.execute(delete(tasks).where(tasks.c.id == task_id))

    # -- gateway ---------------------------------------------------------------------------
    # What the gateway's in-memory snapshot is built from (apicron.gateway.snapshot): whole
    # tables read in one transaction, so the snapshot is consistent with itself.

    def list_published_apis_with_domain(self) -> list[tuple[PublishedApi, str]]:
        """Every published snapshot (never the draft) and the domain of its group."""
        rows = self.connection.execute(
            select(apis.c.published_snapshot, api_groups.c.domain)
            .join_from(apis, api_groups)
            # published_at, not the JSON column: a JSON column stores None as JSON null.
            .where(apis.c.published_at.is_not(None))
            .order_by(apis.c.id)
        )
        return [(PublishedApi.model_validate(snapshot), domain) for snapshot, domain in rows]

    def list_group_domains(self) -> dict[str, str]:
        """Every API group's domain and its id."""
        rows = self.connection.execute(select(api_groups.c.domain, api_groups.c.id))
        return {domain: group_id for domain, group_id in rows}

    def list_grant_pairs(self) -> set[tuple[str, str]]:
        """Every grant as ``(app_id, api_id)``."""
        rows = self.connection.execute(select(app_auths.c.app_id, app_auths.c.api_id))
        return {(app_id, api_id) for app_id, api_id in rows}

    def list_app_credentials(self) -> list[tuple[str, str, str, str]]:
        """Every app as ``(app_id, name, key, secret_encrypted)``; decrypting is the caller's."""
        rows = self.connection.execute(
            select(apps.c.id, apps.c.name, apps.c.key, apps.c.secret_encrypted).order_by(apps.c.id)
        )
        return [(app_id, name, key, secret) for app_id, name, key, secret in rows]

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at (``None``: never migrated). Also the
        readiness probe's read: it fails as any query would when the database is gone."""
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(self.connection).get_current_revision()

    def remember_signature(self, signature: str, expires_at: datetime) -> bool:
        """Record a signature the gateway accepted; ``False`` if it was recorded before (the
        request is a replay). Concurrent callers on any node: exactly one gets ``True``."""
        try:
            with self.connection.begin_nested():
                self.connection.execute(
                    insert(seen_signatures).values(signature=signature, expires_at=expires_at)
                )
        except IntegrityError:
            return False
        return True

    def forget_signatures(self, now: datetime) -> int:
        """Drop the signatures whose request date no longer passes anyway."""
        result = self.connection.execute(
            delete(seen_signatures).where(seen_signatures.c.expires_at <= now)
        )
        return result.rowcount

    def list_encrypted_credentials(self) -> list[StoredCredential]:
        """Every credential encrypted with APICRON_SECRET_KEY, of every kind."""
        found: list[StoredCredential] = []
        for kind, table, column, label in _ENCRYPTED:
            rows = self.connection.execute(
                # A column may be optional (a channel secret): only stored values count.
                select(table.c.id, label, column).where(column.is_not(None))
                .order_by(table.c.id)
            )
            found.extend(StoredCredential(kind, id_, name, value) for id_, name, value in rows)
        return found

    def set_encrypted_credential(self, credential: StoredCredential, encrypted: str) -> None:
        """Replace one credential's ciphertext (same plaintext, another key)."""
        for kind, table, column, _ in _ENCRYPTED:
            if kind == credential.kind:
                self.connection.execute(
                    update(table).where(table.c.id == credential.id).values(
                        {column.name: encrypted}
                    )
                )
                return
        raise ValueError(f"unknown kind of credential {credential.kind!r}")

    # -- channels (issue 14) ---------------------------------------------------------------

    def insert_channel(self, values: ChannelRow) -> None:
        self._insert(channels, values, f"a channel named {values['name']!r} already exists")

    def update_channel(self, channel_id: str, values: ChannelChanges) -> int:
        return self._update(
            channels, channel_id, values, f"a channel named {values.get('name')!r} already exists"
        )

    def delete_channel(self, channel_id: str) -> None:
        self.connection.execute(delete(channels).where(channels.c.id == channel_id))

    def app_key_exists(self, key: str) -> bool:
        return bool(
            self.connection.execute(select(exists().where(apps.c.key == key))).scalar_one()
        )


class Store:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._writer = engine.execution_options(**{WRITE_OPTION: True})

    @contextmanager
    def read(self) -> Iterator[Queries]:
        with self.engine.connect() as connection, connection.begin():
            yield Queries(connection)

    @contextmanager
    def write(self) -> Iterator[Queries]:
        with self._writer.begin() as connection:
            yield Queries(connection)

    def close(self) -> None:
        self.engine.dispose()
