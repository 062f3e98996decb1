"""Where a client finds its server and token when it is not told: the environment.

URL: ``APICRON_URL``, else ``http://127.0.0.1:8080`` (``apicron serve``'s default).
Token, first found: ``APICRON_TOKEN`` (DESIGN.md: the CLI reads a token from it), then
``APICRON_ADMIN_TOKEN`` (what the server itself reads), then the admin-token file the
server generates in its data directory (``APICRON_DATA_DIR``, default
``~/.local/share/apicron``), which only works on the server's machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

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


def url_from_env() -> str:
    return (os.environ.get("APICRON_URL") or DEFAULT_URL).rstrip("/")


def default_data_dir() -> Path:
    raw = os.environ.get("APICRON_DATA_DIR")
    return Path(raw).expanduser() if raw else Path.home() / ".local" / "share" / "apicron"


def credentials_from_env(url: str) -> Credentials:
    """The first token found (see the module's docstring).

    Raises ClientError naming every place looked at when there is none.
    """
    for variable in ("APICRON_TOKEN", "APICRON_ADMIN_TOKEN"):
        value = os.environ.get(variable, "").strip()
        if value:
            return Credentials(value, variable)
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
