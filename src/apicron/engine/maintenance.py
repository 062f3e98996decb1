"""Keeping this node's hold alive and the history bounded: lease renewal and pruning."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apicron.engine.database import EngineDatabase
from apicron.engine.firing import Firing
from apicron.engine.one_off import end_one_off_tasks
from apicron.engine.settings import EngineSettings

log = logging.getLogger("apicron.engine")


class Maintenance:
    def __init__(self, db: EngineDatabase, firing: Firing, settings: EngineSettings):
        self._db = db
        self._firing = firing
        self._s = settings
        self.next_lease_renewal: datetime | None = None
        self.next_prune: datetime | None = None

    async def run(self, now: datetime) -> None:
        """Renew the leases of what this node holds (every third of the lease) and prune
        the history (every ``prune_every``), when each is due."""
        s = self._s
        if self.next_lease_renewal is None or now >= self.next_lease_renewal:
            self.next_lease_renewal = now + s.lease / 3
            held = self._firing.held()
            if held:
                node, until = s.node_id, now + s.lease
                await self._db.write(lambda q: q.renew_leases(node, held, until))
        if self.next_prune is None or now >= self.next_prune:
            self.next_prune = now + s.prune_every
            older_than = now - timedelta(days=s.history_days)
            removed = await self._db.write(
                lambda q: q.prune_executions(older_than, s.history_keep)
            )
            if removed:
                log.info("pruned %d old executions", removed)
            # A one-off task's run that ended by a path that does not end the task itself
            # (e.g. a row taken over unreadable) is found here (issue 18).
            await self._db.write(lambda q: end_one_off_tasks(q, now))
