"""Where a client finds its server and token when it is not told: the environment.

URL: ``APICRON_URL``, else the profile's ``url``, else ``http://127.0.0.1:8080``
(``apicron serve``'s default).
Token, first found: ``APICRON_TOKEN`` (DESIGN.md: the CLI reads a token from it), then the
profile's ``token``, then ``APICRON_ADMIN_TOKEN`` (what the server itself reads), then the
admin-token file the server generates in its data directory (``APICRON_DATA_DIR``, default
``~/.local/share/apicron``), which only works on the server's machine.

The profile is the table named ``APICRON_PROFILE`` (default ``default``) of the profile
file, ``$XDG_CONFIG_HOME/apicron/profiles.toml`` (``~/.config/apicron/profiles.toml``;
``APICRON_PROFILES`` names another)::

    [default]
    url = "http://127.0.0.1:8080"
    token = "apc_…"

The file holds tokens: ``apicron profile set`` writes it readable by its owner only, and a
file others can read is refused.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apicron.client.errors import ClientError

DEFAULT_URL = "http://127.0.0.1:8080"
# The server's file name (apicron.crypto.TOKEN_FILE, a test checks they agree); not
# imported from there because apicron.crypto needs the server's dependencies.
ADMIN_TOKEN_FILE = "admin-token"  # noqa: S105 - a file name, not a password


@dataclass(frozen=True)
class Credentials:
    """A bearer token and where it came from (named in errors; the token never is)."""

    token: str = field(repr=False)
    source: str


def profiles_path() -> Path:
    named = os.environ.get("APICRON_PROFILES")
    if named:
        return Path(named).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config).expanduser() / "apicron" / "profiles.toml"


def profile_name() -> str:
    return os.environ.get("APICRON_PROFILE") or "default"


def read_profiles(path: Path) -> dict[str, Any]:
    """Every profile of ``path`` ({} when there is no file). ClientError when it cannot be
    read, is not TOML, or others may read it (it holds tokens)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ClientError(f"cannot read {path}: {exc.strerror}", url="",
                          code="BAD_PROFILE") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ClientError(
            f"{path} holds tokens but others may read it (mode {stat.S_IMODE(mode):o}); "
            f"chmod 600 {path}", url="", code="BAD_PROFILE",
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ClientError(f"cannot read {path}: {exc}", url="", code="BAD_PROFILE") from None
    return {name: table for name, table in data.items() if isinstance(table, dict)}


def profile() -> dict[str, Any]:
    """The chosen profile's table ({} when there is none). A profile named in
    ``APICRON_PROFILE`` must exist."""
    path, name = profiles_path(), profile_name()
    found = read_profiles(path).get(name)
    if found is None and os.environ.get("APICRON_PROFILE"):
        raise ClientError(f"no profile {name!r} in {path}; add it with "
                          f"`apicron profile set {name} --url URL`", url="",
                          code="BAD_PROFILE")
    return found or {}


def url_from_env() -> str:
    configured = os.environ.get("APICRON_URL") or str(profile().get("url") or "")
    return (configured or DEFAULT_URL).rstrip("/")


def default_data_dir() -> Path:
    raw = os.environ.get("APICRON_DATA_DIR")
    return Path(raw).expanduser() if raw else Path.home() / ".local" / "share" / "apicron"


def credentials_from_env(url: str) -> Credentials:
    """The first token found (see the module's docstring).

    Raises ClientError naming every place looked at when there is none.
    """
    value = os.environ.get("APICRON_TOKEN", "").strip()
    if value:
        return Credentials(value, "APICRON_TOKEN")
    token = str(profile().get("token") or "").strip()
    if token:
        return Credentials(token, f"profile {profile_name()!r} of {profiles_path()}")
    value = os.environ.get("APICRON_ADMIN_TOKEN", "").strip()
    if value:
        return Credentials(value, "APICRON_ADMIN_TOKEN")
    path = default_data_dir() / ADMIN_TOKEN_FILE
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ClientError(
            f"no token for {url}: set APICRON_TOKEN (or APICRON_ADMIN_TOKEN), or "
            f"APICRON_DATA_DIR to the server's data directory ({path}: {reason})",
            url=url,
            code="NO_TOKEN",
        ) from None
    if not value:
        raise ClientError(f"no token for {url}: {path} is empty", url=url, code="NO_TOKEN")
    return Credentials(value, str(path))
