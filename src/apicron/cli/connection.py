"""The CLI's connection to an instance: ``--url`` (or ``APICRON_URL``) and the token the
environment gives (``APICRON_TOKEN``, ``APICRON_ADMIN_TOKEN``, or the server's admin-token
file), and the one line an error becomes, naming the URL and where the token came from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apicron.client.environment import credentials_from_env, url_from_env
from apicron.client.errors import ApiError, Forbidden, TransportError, Unauthorized
from apicron.domain.errors import ApicronError

if TYPE_CHECKING:
    from apicron.client import Client


class _Target:
    """The command line's ``--url`` (set by the root command before any subcommand runs)
    and where the token came from, for the error line printed after the command returned:
    one command line per process, one connection."""

    url: str | None = None
    token_source: str | None = None


def use_url(url: str | None) -> None:
    _Target.url = url.rstrip("/") if url else None


def target_url() -> str:
    """``--url`` (Typer already fell back to ``APICRON_URL``), else the default."""
    return _Target.url or url_from_env()


def connect() -> Client:
    """A client of the target instance; ClientError when no token is found."""
    from apicron.client import Client  # here: building the records takes a while

    url = target_url()
    credentials = credentials_from_env(url)
    _Target.token_source = credentials.source
    return Client(url, credentials.token)


def error_line(error: ApicronError) -> str:
    """What ``apicron: error:`` says for ``error``: the server's message (field first) with
    the HTTP status, and for a refused token or an unreachable server, which URL failed and
    where the token came from, so a second instance's token is not a riddle."""
    if isinstance(error, Unauthorized | Forbidden):
        source = f"; the token came from {_Target.token_source}" if _Target.token_source else ""
        return (
            f"{error} (HTTP {error.status} from {error.url}{source}; "
            "check --url/APICRON_URL and APICRON_TOKEN)"
        )
    if isinstance(error, ApiError):
        return f"{error} (HTTP {error.status})"
    if isinstance(error, TransportError):
        return f"{error}; is `apicron serve` running there, and is --url/APICRON_URL right?"
    return error.message
