"""Settings: one frozen dataclass, read from the environment (each also a CLI flag).

A bad setting fails at start with one line that names the variable and the rule.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from apicron.domain.errors import ConfigurationError
from apicron.outbound import OutboundPolicy, parse_networks

DEFAULT_API_PORT = 8080
DEFAULT_GATEWAY_PORT = 8081
LOOPBACK = "127.0.0.1"
DEFAULT_FORWARDED_ALLOW_IPS = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    admin_token: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    api_host: str = LOOPBACK
    api_port: int = DEFAULT_API_PORT
    gateway_host: str = LOOPBACK
    gateway_port: int = DEFAULT_GATEWAY_PORT
    gateway_url: str = ""
    ops_host: str = LOOPBACK
    ops_port: int | None = None
    """The ops listener (/livez, /readyz, /healthz, /metrics without a token): off unless
    a port is set; for nodes without the management API (roles scheduler, gateway)."""
    misfire_grace_s: float = 60.0
    engine_give_up_s: float = 60.0
    outbound_allow: tuple[str, ...] = ()
    outbound_deny: tuple[str, ...] = ()
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_client_ca: str | None = None
    forwarded_allow_ips: tuple[str, ...] = DEFAULT_FORWARDED_ALLOW_IPS
    """Proxies whose X-Forwarded-Proto / X-Forwarded-For the management API believes."""
    session_idle_s: float = 3600.0
    """A console session ends after this long without a request."""
    session_max_s: float = 12 * 3600.0
    """A console session ends this long after its login, used or not."""
    login_max_failures: int = 10
    """Failed sign-ins (console passwords, bearer tokens) for one username or from one
    address within ``login_window_s`` that lock it out for ``login_lockout_s``."""
    login_window_s: float = 900.0
    login_lockout_s: float = 900.0
    login_slowdown_s: float = 1.0
    """Past half of the allowed failures, each failure is answered this much later."""
    audit_retention_days: int = 365
    admin_token_disabled: bool = False
    """Refuse the admin token while an enabled admin user exists (it works again if none
    does, so that the instance cannot be locked out)."""
    public_url: str = ""
    """Where users reach the management API and console: the links alerts carry."""
    alert_timeout_s: float = 10.0
    """One alert delivery's bound (a webhook's answer, each of Apprise's socket waits)."""

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    @property
    def outbound_policy(self) -> OutboundPolicy:
        """Where the gateway may connect: the built-in deny list plus these two lists."""
        return OutboundPolicy.from_lists(allow=self.outbound_allow, deny=self.outbound_deny)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def database_shown(self) -> str:
        """The database URL without its password, for logs and ``/healthz``."""
        return redact_url(self.database_url)


def redact_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, location = rest.rpartition("@")
    if not at:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{location}" if ":" in credentials else url


def _port(name: str, raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise ConfigurationError(f"{name} must be a port number 1-65535, got {raw!r}")
    return port


def _host(name: str, raw: str) -> str:
    host = raw.strip()
    if not host:
        raise ConfigurationError(f"{name} must be an IP address or host name, got an empty value")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not all(part.isalnum() or part.replace("-", "").isalnum() for part in host.split(".")):
            raise ConfigurationError(
                f"{name} must be an IP address or host name, got {raw!r}"
            ) from None
    return host


def _seconds(name: str, raw: str, low: float, high: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:
        raise ConfigurationError(
            f"{name} must be a number of seconds from {low:g} to {high:g}, got {raw!r}"
        )
    return value


def _whole(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be a whole number from {low} to {high}, got {raw!r}")
    return value


def _flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name} must be true or false, got {raw!r}")


def _networks(name: str, raw: str) -> tuple[str, ...]:
    try:
        return tuple(str(network) for network in parse_networks(raw))
    except ValueError as error:
        raise ConfigurationError(
            f"{name} must be comma-separated CIDR networks such as 10.0.0.0/8,fd00::/8 "
            f"({error})"
        ) from None


def _readable_file(name: str, raw: str) -> str:
    path = Path(raw).expanduser()
    try:
        with path.open("rb"):
            pass
    except OSError as error:
        raise ConfigurationError(
            f"{name} cannot be read: {raw} ({error.strerror or error})"
        ) from None
    return str(path)


def _tls_files(source: Mapping[str, str]) -> tuple[str | None, str | None, str | None]:
    cert = source.get("APICRON_TLS_CERT") or None
    key = source.get("APICRON_TLS_KEY") or None
    client_ca = source.get("APICRON_TLS_CLIENT_CA") or None
    if (cert is None) != (key is None):
        raise ConfigurationError(
            "APICRON_TLS_CERT and APICRON_TLS_KEY go together: set both (PEM files) or neither"
        )
    if client_ca is not None and cert is None:
        raise ConfigurationError(
            "APICRON_TLS_CLIENT_CA needs APICRON_TLS_CERT and APICRON_TLS_KEY: client "
            "certificates are asked for only over TLS"
        )
    return (
        _readable_file("APICRON_TLS_CERT", cert) if cert else None,
        _readable_file("APICRON_TLS_KEY", key) if key else None,
        _readable_file("APICRON_TLS_CLIENT_CA", client_ca) if client_ca else None,
    )


def _forwarded_allow_ips(raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return DEFAULT_FORWARDED_ALLOW_IPS
    entries = tuple(entry.strip() for entry in raw.split(",") if entry.strip())
    for entry in entries:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ConfigurationError(
                "APICRON_FORWARDED_ALLOW_IPS must be comma-separated IP addresses or CIDR "
                f"networks of trusted proxies, or *, got {entry!r}"
            ) from None
    return entries


def _database_url(raw: str, data_dir: Path) -> str:
    """The SQLAlchemy URL: SQLite by default; ``postgresql://`` runs on psycopg 3."""
    if not raw:
        return f"sqlite:///{data_dir / 'apicron.db'}"
    scheme, _, rest = raw.partition("://")
    scheme = scheme.lower()
    if scheme in ("sqlite", "sqlite+pysqlite"):
        return raw
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        if not rest.split("/", 1)[0]:
            raise ConfigurationError(
                "APICRON_DATABASE_URL must name the PostgreSQL host, as in "
                "postgresql://user:password@host:5432/apicron"
            )
        return f"postgresql+psycopg://{rest}"
    raise ConfigurationError(
        f"APICRON_DATABASE_URL must start with sqlite:// or postgresql://, got scheme {scheme!r}"
    )


def _gateway_url(raw: str, host: str, port: int, scheme: str = "http") -> str:
    if not raw:
        shown = f"[{host}]" if ":" in host else host
        local = "127.0.0.1" if host in ("0.0.0.0", "::") else shown  # noqa: S104
        return f"{scheme}://{local}:{port}"
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"APICRON_GATEWAY_URL must be an http:// or https:// URL with a host, got {raw!r}"
        )
    return raw.rstrip("/")


def _public_url(raw: str, host: str, port: int, scheme: str) -> str:
    if not raw:
        shown = f"[{host}]" if ":" in host else host
        local = "127.0.0.1" if host in ("0.0.0.0", "::") else shown  # noqa: S104
        return f"{scheme}://{local}:{port}"
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"APICRON_PUBLIC_URL must be an http:// or https:// URL with a host (where users "
            f"reach the console), got {raw!r}"
        )
    return raw.rstrip("/")


def load_settings(
    env: Mapping[str, str] | None = None, overrides: Mapping[str, object] | None = None
) -> Settings:
    """Build settings from ``env`` (default: the process environment) and CLI ``overrides``.

    An override of ``None`` means "not given on the command line".
    """
    source = dict(os.environ if env is None else env)
    for key, value in (overrides or {}).items():
        if value is not None:
            source[f"APICRON_{key.upper()}"] = str(value)

    default_dir = Path.home() / ".local" / "share" / "apicron"
    data_dir = Path(source.get("APICRON_DATA_DIR") or default_dir).expanduser()
    api_host = _host("APICRON_API_HOST", source.get("APICRON_API_HOST", LOOPBACK))
    api_port = _port("APICRON_API_PORT", source.get("APICRON_API_PORT", str(DEFAULT_API_PORT)))
    gateway_host = _host("APICRON_GATEWAY_HOST", source.get("APICRON_GATEWAY_HOST", LOOPBACK))
    gateway_port = _port(
        "APICRON_GATEWAY_PORT", source.get("APICRON_GATEWAY_PORT", str(DEFAULT_GATEWAY_PORT))
    )
    ops_port_raw = source.get("APICRON_OPS_PORT", "")
    ops_port = _port("APICRON_OPS_PORT", ops_port_raw) if ops_port_raw else None
    ops_host = _host("APICRON_OPS_HOST", source.get("APICRON_OPS_HOST", LOOPBACK))
    # DESIGN.md, Misfire: the grace period (default 60 s) decides what is a misfire.
    grace = _seconds("APICRON_MISFIRE_GRACE", source.get("APICRON_MISFIRE_GRACE", "60"),
                     1, 86_400)
    give_up = _seconds("APICRON_ENGINE_GIVE_UP", source.get("APICRON_ENGINE_GIVE_UP", "60"),
                       1, 86_400)
    admin_token = source.get("APICRON_ADMIN_TOKEN") or None
    if admin_token is not None and len(admin_token) < 16:
        raise ConfigurationError("APICRON_ADMIN_TOKEN must be at least 16 characters long")
    database_url = _database_url(source.get("APICRON_DATABASE_URL", ""), data_dir)
    if not database_url.startswith("sqlite") and not source.get("APICRON_SECRET_KEY"):
        # A key file in one node's data directory would leave the others unable to read
        # the app secrets they share through the database.
        raise ConfigurationError(
            "APICRON_SECRET_KEY is required with PostgreSQL: every node of an instance "
            "must encrypt app secrets with the same key (make one with `apicron secret-key`)"
        )
    tls_cert, tls_key, tls_client_ca = _tls_files(source)
    scheme = "https" if tls_cert else "http"
    day = 86_400
    alert_timeout = _seconds("APICRON_ALERT_TIMEOUT", source.get("APICRON_ALERT_TIMEOUT", "10"),
                             1, 120)
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        admin_token=admin_token,
        secret_key=source.get("APICRON_SECRET_KEY") or None,
        api_host=api_host,
        api_port=api_port,
        gateway_host=gateway_host,
        gateway_port=gateway_port,
        gateway_url=_gateway_url(
            source.get("APICRON_GATEWAY_URL", ""), gateway_host, gateway_port, scheme
        ),
        outbound_allow=_networks(
            "APICRON_OUTBOUND_ALLOW", source.get("APICRON_OUTBOUND_ALLOW", "")
        ),
        outbound_deny=_networks("APICRON_OUTBOUND_DENY", source.get("APICRON_OUTBOUND_DENY", "")),
        tls_cert=tls_cert,
        tls_key=tls_key,
        tls_client_ca=tls_client_ca,
        forwarded_allow_ips=_forwarded_allow_ips(
            source.get("APICRON_FORWARDED_ALLOW_IPS") or None
        ),
        ops_host=ops_host,
        ops_port=ops_port,
        misfire_grace_s=grace,
        engine_give_up_s=give_up,
        session_idle_s=_seconds("APICRON_SESSION_IDLE", source.get("APICRON_SESSION_IDLE", "3600"),
                                1, 30 * day),
        session_max_s=_seconds("APICRON_SESSION_MAX", source.get("APICRON_SESSION_MAX", "43200"),
                               1, 365 * day),
        login_max_failures=_whole(
            "APICRON_LOGIN_MAX_FAILURES", source.get("APICRON_LOGIN_MAX_FAILURES", "10"),
            1, 1_000_000),
        login_window_s=_seconds("APICRON_LOGIN_WINDOW", source.get("APICRON_LOGIN_WINDOW", "900"),
                                1, day),
        login_lockout_s=_seconds(
            "APICRON_LOGIN_LOCKOUT", source.get("APICRON_LOGIN_LOCKOUT", "900"), 1, day),
        login_slowdown_s=_seconds(
            "APICRON_LOGIN_SLOWDOWN", source.get("APICRON_LOGIN_SLOWDOWN", "1"), 0, 10),
        audit_retention_days=_whole(
            "APICRON_AUDIT_RETENTION", source.get("APICRON_AUDIT_RETENTION", "365"),
            1, 100 * 365),
        admin_token_disabled=_flag(
            "APICRON_ADMIN_TOKEN_DISABLED", source.get("APICRON_ADMIN_TOKEN_DISABLED", "")),
        public_url=_public_url(source.get("APICRON_PUBLIC_URL", ""), api_host, api_port, scheme),
        alert_timeout_s=alert_timeout,
    )
