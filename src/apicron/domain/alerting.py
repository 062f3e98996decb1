"""Notification channels and alert events: ``/v1/channels`` and ``/v1/alerts`` (issue 14;
DESIGN.md, "Contract additions (second round)"). The task fields ``success`` and
``alerts`` are :mod:`apicron.domain.alert_rules`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, StrictStr, model_validator

from apicron.domain import rules
from apicron.domain.errors import InvalidInput
from apicron.domain.models import Description, Input, Name, Record
from apicron.domain.validation import reported_to_pydantic
from apicron.domain.vocabulary import AlertEventKind, AlertStatus, ChannelKind

# --- channels -----------------------------------------------------------------------------

URL_MAX = 2048
SECRET_MIN, SECRET_MAX = 16, 256


def mask_url(url: str) -> str:
    """A channel URL as shown once stored: its scheme and, when it names one, its host; the
    rest (paths, users, passwords, tokens, query) replaced by ``****``. Slack-style URLs
    carry tokens where the host would be, so a host is shown only when it looks like one
    (a dotted name, an address, localhost)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
        parts = urlsplit("")
    scheme = parts.scheme or "url"
    if host and ("." in host or ":" in host or host == "localhost"):
        shown = f"[{host}]" if ":" in host else host
        return f"{scheme}://{shown}{f':{port}' if port else ''}/****"
    return f"{scheme}://****"


def check_webhook_url(field: str, url: str) -> None:
    """An absolute http(s) URL with a host, no fragment, no whitespace or controls, not a
    link-local / cloud-metadata address."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(f"is not a valid URL ({exc})", field=field) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("must be an absolute http:// or https:// URL with a host",
                           field=field)
    if parts.fragment:
        raise InvalidInput("must not contain a #fragment", field=field)
    if port == 0:
        raise InvalidInput("port must be 1-65535", field=field)
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise InvalidInput("must not contain whitespace or control characters", field=field)
    rules.check_backend_host(field, parts.hostname)


def _url_text(field: str, url: str) -> None:
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise InvalidInput("must not contain whitespace or control characters", field=field)
    if "://" not in url:
        raise InvalidInput("must be a URL (scheme://…)", field=field)


class ChannelCreate(Input):
    name: Name
    kind: ChannelKind
    url: Annotated[StrictStr, Field(min_length=1, max_length=URL_MAX)] = Field(
        description="webhook: the http(s) URL apicron POSTs its signed event to; apprise: any "
                    "Apprise URL (slack://…, workflows://…, mailtos://…, ntfy://…, json://…). "
                    "A credential: stored encrypted, shown masked"
    )
    secret: Annotated[StrictStr, Field(min_length=SECRET_MIN, max_length=SECRET_MAX)] | None = (
        Field(default=None, description="webhook only: the signing secret (default: generated "
              "and shown once, in the answer to this request)")
    )
    description: Description = ""

    @model_validator(mode="after")
    def _by_kind(self) -> ChannelCreate:
        with reported_to_pydantic():
            check_channel(self.kind, self.url, self.secret)
        return self


def check_channel(kind: str, url: str | None, secret: str | None) -> None:
    """The rules that depend on the kind: a webhook URL is http(s); only a webhook has a
    secret. Raises InvalidInput naming ``url`` or ``secret``."""
    if url is not None:
        if kind == "webhook":
            check_webhook_url("url", url)
        else:
            _url_text("url", url)
    if secret is not None and kind != "webhook":
        raise InvalidInput("only a webhook channel has a signing secret", field="secret")


class ChannelUpdate(Input):
    """Only the fields given change (the kind cannot: create another channel)."""

    name: Name | None = None
    url: Annotated[StrictStr, Field(min_length=1, max_length=URL_MAX)] | None = None
    secret: Annotated[StrictStr, Field(min_length=SECRET_MIN, max_length=SECRET_MAX)] | None = (
        None
    )
    description: Description | None = None


class Channel(Record):
    """A notification channel; ``url`` masked (it carries credentials)."""

    id: str
    name: str
    kind: ChannelKind
    url: str
    description: str
    created_at: datetime
    updated_at: datetime


class ChannelWithSecret(Channel):
    """The create answer of a webhook channel: its signing secret, shown only here."""

    secret: str | None = Field(default=None, repr=False)


class ChannelTestResult(Record):
    ok: bool
    error: str | None = None
    duration_ms: int


# --- alert events -------------------------------------------------------------------------


class AlertEvent(Record):
    """One event for one channel: the outbox row and its delivery (``GET /v1/alerts``)."""

    id: str
    task_id: str
    task_name: str
    channel_id: str
    channel_kind: str
    event: AlertEventKind
    execution_id: str | None
    status: AlertStatus
    attempts: int
    last_error: str | None
    message: str
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
