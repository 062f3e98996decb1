"""Settings: one frozen model, one field per setting.

A field is everything a setting needs: ``APICRON_<NAME>`` in the environment, ``--<name>``
on the commands that take settings (``serve``, ``config show``, …), ``<name>`` in the config
file, and a row of ``apicron config show``. A field marked :class:`Secret` is also read from
a file (``APICRON_<NAME>_FILE``, or the secrets directory) and is shown masked. So adding a
setting is adding a field here, with its ``description`` (the flag's help) and its rule; the
README's table lists it too (a test checks that). Where values come from and which one wins:
:mod:`apicron.settings.sources` (flag > environment > secret file > config file > default).

Each rule refuses a value with :func:`_refuse`: :func:`~apicron.settings.load_settings`
turns that into one :class:`~apicron.domain.errors.ConfigurationError` line naming the
setting as it was given (``APICRON_API_PORT``, ``--api-port``,
``api_port in /etc/apicron/apicron.toml``) and the
rule, so a bad setting fails at start in one line.
"""

from __future__ import annotations

import contextlib
import ipaddress
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from apicron.logs import LogFormat, LogLevel
from apicron.outbound import OutboundPolicy, parse_networks

DEFAULT_API_PORT = 8080
DEFAULT_GATEWAY_PORT = 8081
LOOPBACK = "127.0.0.1"
DEFAULT_FORWARDED_ALLOW_IPS = ("127.0.0.1", "::1")
ENV_PREFIX = "APICRON_"

# The pydantic error types :mod:`apicron.settings.sources` reads: a rule broken by the value
# of one setting (the message is prefixed with the setting's name as given), or a whole line.
RULE = "apicron_setting"
LINE = "apicron_settings"


def _refuse(rule: str, setting: str | None = None) -> PydanticCustomError:
    """A broken rule of the setting being validated (or of ``setting``): ``rule`` reads
    after the setting's name, e.g. "must be a port number 1-65535, got 'http'"."""
    context: dict[str, Any] = {"rule": rule, "setting": setting}
    return PydanticCustomError(RULE, "{rule}", context)


def _refuse_line(line: str) -> PydanticCustomError:
    """A broken rule that involves several settings: ``line`` names them itself."""
    return PydanticCustomError(LINE, "{line}", {"line": line})


@dataclass(frozen=True)
class Secret:
    """Marks a setting that is a credential: masked by ``config show`` (``show`` gives the
    masked form), also read from ``APICRON_<NAME>_FILE`` or the secrets directory, and a
    command-line flag only when ``flag`` (arguments are visible to every local user in
    ``ps``)."""

    flag: bool = False
    show: Callable[[str], str] | None = None


def redact_url(url: str) -> str:
    """``url`` without its password (``postgresql://ops:***@db/apicron``)."""
    scheme, sep, rest = url.partition("://")
    credentials, at, location = rest.rpartition("@")
    if not at:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{location}" if ":" in credentials else url


# --- rules: each takes the raw value (a string from the environment or a flag, or a TOML
# value) and returns the typed one, or raises _refuse(...).

def _text(raw: object) -> str:
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, Path):
        return str(raw)
    raise _refuse(f"must be a string, got {raw!r}")


def _optional_text(raw: object) -> str | None:
    return _text(raw) or None if raw is not None else None


def _optional_path(raw: object) -> str | None:
    text = _optional_text(raw)
    return str(Path(text).expanduser()) if text else None


def _port(raw: object) -> int:
    port = -1
    if isinstance(raw, int) and not isinstance(raw, bool):
        port = raw
    elif isinstance(raw, str) and raw.strip().isdigit():
        port = int(raw)
    if not 1 <= port <= 65535:
        raise _refuse(f"must be a port number 1-65535, got {raw!r}")
    return port


def _optional_port(raw: object) -> int | None:
    return None if raw is None or raw == "" else _port(raw)


def _host(raw: object) -> str:
    host = _text(raw)
    if not host:
        raise _refuse("must be an IP address or host name, got an empty value")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not all(part.isalnum() or part.replace("-", "").isalnum() for part in host.split(".")):
            raise _refuse(f"must be an IP address or host name, got {raw!r}") from None
    return host


def _figure(value: float) -> str:
    """``2592000``, not ``2.592e+06``: a bound as a user would type it."""
    return str(int(value)) if value == int(value) else f"{value:g}"


def _seconds(low: float, high: float) -> Callable[[object], float]:
    def parse(raw: object) -> float:
        value = float("nan")
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            value = float(raw)
        elif isinstance(raw, str):
            with contextlib.suppress(ValueError):
                value = float(raw)
        if not low <= value <= high:
            raise _refuse(f"must be a number of seconds from {_figure(low)} to "
                          f"{_figure(high)}, got {raw!r}")
        return value

    return parse


def _entries(raw: object) -> list[str]:
    """A comma-separated string, or (in the config file) a list of strings."""
    if isinstance(raw, str):
        return [entry.strip() for entry in raw.split(",") if entry.strip()]
    if isinstance(raw, list | tuple) and all(isinstance(entry, str) for entry in raw):
        return [entry.strip() for entry in raw if entry.strip()]
    raise _refuse(f"must be a comma-separated string or a list of strings, got {raw!r}")


def _networks(raw: object) -> tuple[str, ...]:
    entries = _entries(raw)
    try:
        return tuple(str(network) for network in parse_networks(",".join(entries)))
    except ValueError as error:
        raise _refuse(
            f"must be comma-separated CIDR networks such as 10.0.0.0/8,fd00::/8 ({error})"
        ) from None


def _forwarded_allow_ips(raw: object) -> tuple[str, ...]:
    entries = tuple(_entries(raw))
    for entry in entries:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise _refuse(
                "must be comma-separated IP addresses or CIDR networks of trusted proxies, "
                f"or *, got {entry!r}"
            ) from None
    return entries


def _whole(low: int, high: int) -> Callable[[object], int]:
    def parse(raw: object) -> int:
        value = low - 1
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = raw
        elif isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
            value = int(raw)
        if not low <= value <= high:
            raise _refuse(f"must be a whole number from {low} to {high}, got {raw!r}")
        return value

    return parse


MAX_GATEWAY_WORKERS = 64


def _gateway_workers(raw: object) -> int:
    workers = _whole(1, MAX_GATEWAY_WORKERS)(raw)
    # Several listeners on one port share its connections only where the kernel balances
    # SO_REUSEPORT sockets (Linux 3.9+); elsewhere the option lets the last one take all.
    if workers > 1 and not sys.platform.startswith("linux"):
        raise _refuse(f"must be 1 on this platform ({sys.platform}): several gateway workers "
                      "share the port through SO_REUSEPORT, which only Linux balances")
    return workers


def _flag(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    value = _text(raw).lower() if isinstance(raw, str) else ""
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise _refuse(f"must be true or false, got {raw!r}")


_DAY = 86_400


def _choice(kind: type[StrEnum]) -> Callable[[object], str]:
    choices = [member.value for member in kind]

    def parse(raw: object) -> str:
        text = _text(raw).lower()
        if text not in choices:
            raise _refuse(f"must be one of {', '.join(choices)}, got {raw!r}")
        return text

    return parse


def _data_dir(raw: object) -> Path:
    text = _text(raw)
    return Path(text).expanduser() if text else default_data_dir()


def default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "apicron"


def _admin_token(raw: object) -> str | None:
    token = _optional_text(raw)
    if token is not None and len(token) < 16:
        raise _refuse("must be at least 16 characters long")
    return token


def _mask(value: str) -> str:
    return "********"


def _listener_url(
    raw: object, info: ValidationInfo, host_field: str, port_field: str, default_port: int,
    purpose: str,
) -> str:
    """An http(s) URL as given, or by default the one of a listener of this process (its
    host and port fields, https with TLS; a wildcard host is reached on 127.0.0.1)."""
    text = _text(raw)
    if not text:
        host = info.data.get(host_field, LOOPBACK)
        port = info.data.get(port_field, default_port)
        scheme = "https" if info.data.get("tls_cert") else "http"
        shown = f"[{host}]" if ":" in host else host
        local = "127.0.0.1" if host in ("0.0.0.0", "::") else shown  # noqa: S104
        return f"{scheme}://{local}:{port}"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refuse(f"must be an http:// or https:// URL with a host{purpose}, got {raw!r}")
    return text.rstrip("/")


class Settings(BaseSettings):
    """apicron's settings, validated; build them with :func:`load_settings`.

    Field order matters where a rule or a default reads an earlier field (the database URL
    defaults into ``data_dir``, the gateway URL follows the gateway's address and TLS).
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_ignore_empty=True,  # APICRON_X= (empty) is "not set", as it always was
        enable_decoding=False,  # lists are comma-separated, not JSON
        case_sensitive=False,
        extra="forbid",
        frozen=True,
        validate_default=True,  # the rules derive some defaults (database_url, gateway_url)
    )

    data_dir: Annotated[Path, BeforeValidator(_data_dir)] = Field(
        default_factory=default_data_dir,
        description="Where the SQLite database, the generated key and admin token live "
        "(created mode 0700).",
    )
    database_url: Annotated[str, Secret(flag=True, show=redact_url)] = Field(
        default="", repr=False,
        description="The database: SQLite in the data directory by default; "
        "postgresql://user:password@host:5432/db for several nodes.",
    )
    admin_token: Annotated[str | None, BeforeValidator(_admin_token), Secret(show=_mask)] = Field(
        default=None, repr=False,
        description="The root bearer token (at least 16 characters); generated into the "
        "data directory when not set.",
    )
    secret_key: Annotated[str | None, BeforeValidator(_optional_text), Secret(show=_mask)] = Field(
        default=None, repr=False,
        description="Fernet key(s) encrypting stored credentials, comma-separated to rotate; "
        "generated into the data directory when not set (required with PostgreSQL).",
    )
    api_host: Annotated[str, BeforeValidator(_host)] = Field(
        default=LOOPBACK, description="Address of the management API and console.")
    api_port: Annotated[int, BeforeValidator(_port)] = Field(
        default=DEFAULT_API_PORT, description="Port of the management API and console.")
    gateway_host: Annotated[str, BeforeValidator(_host)] = Field(
        default=LOOPBACK, description="Address of the gateway.")
    gateway_port: Annotated[int, BeforeValidator(_port)] = Field(
        default=DEFAULT_GATEWAY_PORT, description="Port of the gateway.")
    gateway_workers: Annotated[int, BeforeValidator(_gateway_workers)] = Field(
        default=1,
        description="Gateway processes sharing the gateway port (SO_REUSEPORT, Linux), "
        "1-64; with more than 1 they are child processes of apicron serve, restarted if "
        "they die.")
    tls_cert: Annotated[str | None, BeforeValidator(_optional_path)] = Field(
        default=None, description="PEM certificate for both listeners (with tls_key).")
    tls_key: Annotated[str | None, BeforeValidator(_optional_path)] = Field(
        default=None, description="PEM private key of tls_cert.")
    tls_client_ca: Annotated[str | None, BeforeValidator(_optional_path)] = Field(
        default=None,
        description="PEM CA bundle: the gateway then requires client certificates it issued.")
    gateway_url: str = Field(
        default="",
        description="Where the scheduler sends its calls; default the local gateway.")
    ops_host: Annotated[str, BeforeValidator(_host)] = Field(
        default=LOOPBACK, description="Address of the ops listener.")
    ops_port: Annotated[int | None, BeforeValidator(_optional_port)] = Field(
        default=None,
        description="Port of the ops listener (/livez, /readyz, /healthz, /metrics without a "
        "token) for scheduler and gateway nodes; off unless set.")
    # DESIGN.md, Misfire: the grace period (default 60 s) decides what is a misfire.
    misfire_grace: Annotated[float, BeforeValidator(_seconds(1, 86_400))] = Field(
        default=60.0,
        description="Seconds: an occurrence found later than this after its time is a misfire.")
    engine_give_up: Annotated[float, BeforeValidator(_seconds(1, 86_400))] = Field(
        default=60.0,
        description="Seconds of failing engine passes (not a database outage) after which "
        "the process exits 1 for its supervisor to restart it.")
    outbound_allow: Annotated[tuple[str, ...], BeforeValidator(_networks)] = Field(
        default=(), description="CIDR networks the gateway may reach despite the deny list.")
    outbound_deny: Annotated[tuple[str, ...], BeforeValidator(_networks)] = Field(
        default=(), description="CIDR networks the gateway may not reach, beyond the built-in "
        "list.")
    forwarded_allow_ips: Annotated[tuple[str, ...], BeforeValidator(_forwarded_allow_ips)] = Field(
        default=DEFAULT_FORWARDED_ALLOW_IPS,
        description="Proxies (addresses, CIDRs or *) whose X-Forwarded-Proto/-For the "
        "management API believes.")
    public_url: str = Field(
        default="",
        description="Where users reach the management API and console, for the links in "
        "alerts; default http(s)://<api host>:<api port>.")
    alert_timeout: Annotated[float, BeforeValidator(_seconds(1, 120))] = Field(
        default=10.0,
        description="Seconds: one alert delivery's bound (a webhook's answer, each of "
        "Apprise's socket waits).")

    # Users, sessions and the audit log (issue 16).
    session_idle: Annotated[float, BeforeValidator(_seconds(1, 30 * _DAY))] = Field(
        default=3600.0,
        description="Seconds: a console session ends after this long without a request.")
    session_max: Annotated[float, BeforeValidator(_seconds(1, 365 * _DAY))] = Field(
        default=12 * 3600.0,
        description="Seconds: a console session ends this long after its login, used or not.")
    login_max_failures: Annotated[int, BeforeValidator(_whole(1, 1_000_000))] = Field(
        default=10,
        description="Failed sign-ins (console passwords, bearer tokens) for one username or "
        "from one address within login_window that lock it out for login_lockout.")
    login_window: Annotated[float, BeforeValidator(_seconds(1, _DAY))] = Field(
        default=900.0, description="Seconds over which failed sign-ins are counted.")
    login_lockout: Annotated[float, BeforeValidator(_seconds(1, _DAY))] = Field(
        default=900.0, description="Seconds a locked-out username or address is refused.")
    login_slowdown: Annotated[float, BeforeValidator(_seconds(0, 10))] = Field(
        default=1.0,
        description="Seconds: past half of the allowed failures, each failure is answered "
        "this much later.")
    audit_retention: Annotated[int, BeforeValidator(_whole(1, 100 * 365))] = Field(
        default=365, description="Days audit entries are kept.")
    admin_token_disabled: Annotated[bool, BeforeValidator(_flag)] = Field(
        default=False,
        description="Refuse the admin token while an enabled admin user exists (it works "
        "again if none does, so that the instance cannot be locked out).")

    log_format: Annotated[LogFormat, BeforeValidator(_choice(LogFormat))] = Field(
        default=LogFormat.TEXT,
        description="text, or json: one object a line with level, logger, node_id, and "
        "task_id/execution_id where a line concerns an execution.")
    log_level: Annotated[LogLevel, BeforeValidator(_choice(LogLevel))] = Field(
        default=LogLevel.INFO,
        description="debug, info, warning or error; debug adds the management API's "
        "access log.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The values are gathered (with where each came from) by apicron.settings.sources
        # and given to the constructor; the model validates exactly those.
        return (init_settings,)

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, raw: object, info: ValidationInfo) -> str:
        """SQLite in the data directory by default; ``postgresql://`` runs on psycopg 3."""
        text = _text(raw)
        if not text:
            data_dir = info.data.get("data_dir", default_data_dir())
            return f"sqlite:///{data_dir / 'apicron.db'}"
        scheme, _, rest = text.partition("://")
        scheme = scheme.lower()
        if scheme in ("sqlite", "sqlite+pysqlite"):
            return text
        if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
            if not rest.split("/", 1)[0]:
                raise _refuse("must name the PostgreSQL host, as in "
                              "postgresql://user:password@host:5432/apicron")
            return f"postgresql+psycopg://{rest}"
        raise _refuse(f"must start with sqlite:// or postgresql://, got scheme {scheme!r}")

    @field_validator("secret_key", mode="after")
    @classmethod
    def _secret_key_for_postgresql(cls, key: str | None, info: ValidationInfo) -> str | None:
        url = info.data.get("database_url", "sqlite")
        if key is None and not url.startswith("sqlite"):
            # A key file in one node's data directory would leave the others unable to read
            # the app secrets they share through the database.
            raise _refuse_line(
                "APICRON_SECRET_KEY is required with PostgreSQL: every node of an instance "
                "must encrypt app secrets with the same key (make one with `apicron "
                "secret-key`; give it in APICRON_SECRET_KEY, APICRON_SECRET_KEY_FILE, the "
                "secrets directory or the config file)"
            )
        return key

    @field_validator("gateway_url", mode="before")
    @classmethod
    def _gateway_url(cls, raw: object, info: ValidationInfo) -> str:
        return _listener_url(raw, info, "gateway_host", "gateway_port", DEFAULT_GATEWAY_PORT,
                             "")

    @field_validator("public_url", mode="before")
    @classmethod
    def _public_url(cls, raw: object, info: ValidationInfo) -> str:
        return _listener_url(raw, info, "api_host", "api_port", DEFAULT_API_PORT,
                             " (where users reach the console)")

    @model_validator(mode="after")
    def _tls_files(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise _refuse_line(
                "APICRON_TLS_CERT and APICRON_TLS_KEY go together: set both (PEM files) or "
                "neither"
            )
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise _refuse_line(
                "APICRON_TLS_CLIENT_CA needs APICRON_TLS_CERT and APICRON_TLS_KEY: client "
                "certificates are asked for only over TLS"
            )
        for name in ("tls_cert", "tls_key", "tls_client_ca"):
            named = getattr(self, name)
            if named is None:
                continue
            try:
                with Path(named).open("rb"):
                    pass
            except OSError as error:
                raise _refuse(f"cannot be read: {named} ({error.strerror or error})",
                              setting=name) from None
        return self

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


def secret_of(name: str) -> Secret | None:
    """The :class:`Secret` mark of setting ``name``, if it is a credential."""
    for mark in Settings.model_fields[name].metadata:
        if isinstance(mark, Secret):
            return mark
    return None
