"""Who acts, and what each role may do: the one table every surface enforces.

Roles are ordered: ``viewer`` < ``operator`` < ``admin``. A :class:`Permission` names the
least role that holds it; the services call :func:`require` before anything else, so the
REST API, the CLI (through it) and the console refuse the same actions with the same
message (issue 16). Nothing here knows of HTTP or SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from apicron.domain.errors import Forbidden
from apicron.domain.vocabulary import ActorKind as ActorKind
from apicron.domain.vocabulary import Role as Role
from apicron.domain.vocabulary import choices

# Lowest first: a role may do what every role before it may.
ROLES: tuple[Role, ...] = tuple(reversed(choices(Role)))
_RANK = {role: rank for rank, role in enumerate(ROLES)}


def rank(role: Role) -> int:
    """The role's place in ``ROLES`` (a higher one holds every permission of a lower)."""
    return _RANK[role]


def lower_role(a: Role, b: Role) -> Role:
    return a if rank(a) <= rank(b) else b


class Permission(Enum):
    """What an action needs: ``(name, least role, what it covers)``.

    A new service function names one of these in its first line; a new REST operation
    declares the same (``apicron.api.routes.common.needs``), and the role × endpoint test
    fails for an operation that declares none.
    """

    READ = ("read", "viewer", "read configuration, tasks and their history (never a secret)")
    OWN_TOKENS = ("own-tokens", "viewer", "create, list and revoke one's own API tokens")
    TASKS = ("tasks", "operator", "create, edit, delete, start, stop and run scheduled tasks")
    APIS = ("apis", "operator", "create, edit, delete, publish and unpublish API groups and APIs")
    GRANTS = ("grants", "operator", "grant apps the right to call APIs, and revoke it")
    AUDIT = ("audit", "operator", "read the audit log")
    APPS = ("apps", "admin", "create, edit and delete integration apps, and reset their secrets")
    INSTANCE = ("instance", "admin", "change the instance's parameters")
    USERS = ("users", "admin", "manage users and every user's tokens")
    CHANNELS = ("channels", "admin", "manage alert channels")
    CALENDARS = ("calendars", "operator", "create, edit and delete business calendars")

    def __init__(self, label: str, role: Role, covers: str):
        self.label = label
        self.role: Role = role
        self.covers = covers


@dataclass(frozen=True)
class Actor:
    """Who a request acts as.

    ``kind``: ``root`` (the admin token), ``user`` (a console session of a user),
    ``token`` (a user's personal API token), ``system`` (apicron itself, in process: the
    engine, start-up, tests) or ``anonymous`` (nobody: holds no permission). ``name`` is
    the username (``root``, ``system``); ``role`` the role in force (a token's is the lower
    of its own and its user's); ``address`` the client's IP address when it came over HTTP.
    """

    kind: ActorKind
    name: str
    role: Role | None
    user_id: str | None = None
    token_id: str | None = None
    token_name: str | None = None
    token_expires_at: datetime | None = None
    address: str | None = None
    session_id: str | None = None
    """The console session's id (its stored key), when the actor came with one."""

    def holds(self, permission: Permission) -> bool:
        if self.kind == "system":
            return True
        return self.role is not None and rank(self.role) >= rank(permission.role)

    @property
    def shown(self) -> str:
        """How a person reads it: ``alice``, ``alice (token ci)``, ``root``."""
        if self.kind == "token":
            return f"{self.name} (token {self.token_name})"
        return self.name


SYSTEM = Actor(kind="system", name="system", role="admin")
"""apicron itself, in process (the default of a :class:`Context`): holds every permission."""
ANONYMOUS = Actor(kind="anonymous", name="anonymous", role=None)
"""Nobody: the HTTP edges start from it, so a route that forgot to say who acts can do
nothing (fail closed)."""


def root(address: str | None = None) -> Actor:
    """The admin token's actor: a break-glass credential with the admin role."""
    return Actor(kind="root", name="root", role="admin", address=address)


def require(actor: Actor, permission: Permission) -> None:
    """Raise :class:`Forbidden` (403) naming the least role that holds ``permission``."""
    if actor.holds(permission):
        return
    if actor.kind == "anonymous":
        raise Forbidden(f"this action needs the {permission.role} role ({permission.covers}); "
                        "the request carries no identity")
    raise Forbidden(
        f"this action needs the {permission.role} role ({permission.covers}); "
        f"{actor.shown} has the {actor.role} role",
        code="ROLE_REQUIRED",
    )
