"""``/livez``, ``/readyz`` and ``/healthz``: what this process says about itself.

- ``/livez``: the process answers and, where it runs one, its engine loop completes passes
  (the last one is recent, and it has not given up). A supervisor restarts a process that
  fails it.
- ``/readyz``: the database answers a read, its schema is at this version's head, and
  writes are not failing (a full disk, a lost connection: reported by the parts that
  write, see :class:`~apicron.services.health.DatabaseHealth`). A load balancer stops
  sending work to a process that fails it.
- ``/healthz``: both, with the process's role, node id and version (the contract's
  original probe, kept).

Each answer is a status (200 or 503) and a JSON body; the management API and the ops port
(:mod:`apicron.ops`) serve the same functions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from apicron import __version__
from apicron.services.context import Context
from apicron.services.health import describe
from apicron.store.migrate import head_revision


@dataclass(frozen=True)
class Probe:
    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.status == 200


def _engine(ctx: Context) -> dict[str, Any]:
    state = asdict(ctx.engine.snapshot())
    when = state["last_pass_at"]
    state["last_pass_at"] = when.isoformat().replace("+00:00", "Z") if when else None
    return state


def liveness(ctx: Context) -> Probe:
    live = ctx.engine.snapshot().live
    return Probe(200 if live else 503,
                 {"status": "ok" if live else "unhealthy", "engine": _engine(ctx)})


def readiness(ctx: Context) -> Probe:
    checks: dict[str, str] = {}
    try:
        with ctx.store.read() as q:
            revision = q.schema_revision()
    except Exception as exc:
        checks["database"] = f"unreachable: {describe(exc)}"
    else:
        checks["database"] = "ok"
        head = head_revision()
        checks["schema"] = "ok" if revision == head else (
            f"at revision {revision}, this version needs {head}: run `apicron db upgrade`"
        )
    problem = ctx.health.problem
    checks["writes"] = "ok" if problem is None else f"failing: {problem}"
    for name, check in ctx.readiness_checks.items():
        failing = check()
        checks[name] = "ok" if failing is None else failing
    ready = all(value == "ok" for value in checks.values())
    return Probe(200 if ready else 503, {"status": "ok" if ready else "unhealthy", **checks})


def health(ctx: Context) -> Probe:
    """``/healthz``: ready and live, with who answers."""
    ready, live = readiness(ctx), liveness(ctx)
    ok = ready.ok and live.ok
    body = {
        "status": "ok" if ok else "unhealthy",
        "database": "ok" if ready.body["database"] == "ok" else "unreachable",
        "version": __version__,
        "role": ctx.role,
        "node_id": ctx.node_id,
        "checks": {k: v for k, v in ready.body.items() if k != "status"},
        "engine": live.body["engine"],
    }
    return Probe(200 if ok else 503, body)
