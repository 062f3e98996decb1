"""``kind: Channel``: a notification channel (issue 14), by name. Its URL and a webhook's
signing secret are credentials: a file names the environment variables that hold them
(``url_env``, ``secret_env``), read when the file is applied; export writes those names,
never the values (which the server does not answer anyway).

A channel's URL is updated when the masked form of the URL the variable holds (scheme and
host) differs from the stored one's; to replace a token under the same host, use
``apicron channel update --url``. When ``url_env`` is unset at apply time, an existing
channel keeps its URL and a new one is refused, naming the variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

from apicron.client import Channel, ChannelCreate, ChannelUpdate, Client
from apicron.declarative.documents import Document
from apicron.declarative.kinds.base import (
    Declared,
    Kind,
    Planning,
    Step,
    World,
    detail_lines,
    differences,
    split_document,
)
from apicron.domain.alerting import mask_url
from apicron.domain.errors import InvalidInput
from apicron.domain.models import Description, Input, Name
from apicron.domain.validation import validate
from apicron.domain.vocabulary import ChannelKind as ChannelKindName

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def env_name(channel: str, what: str) -> str:
    """The variable export names for a channel's URL or secret."""
    return f"APICRON_CHANNEL_{re.sub(r'[^A-Za-z0-9]', '_', channel).upper()}_{what}"


class ChannelSpec(Input):
    """A channel as a file declares it; ``url`` and ``secret`` come from the environment
    (``url`` empty: the variable is unset, an existing channel's URL is kept)."""

    name: Name
    kind: ChannelKindName
    description: Description = ""
    url: str = ""
    secret: str | None = None
    url_env: str | None = None
    secret_env: str | None = None


class ChannelKind(Kind[ChannelSpec, Channel]):
    """``{kind: Channel, name, type: webhook|apprise, url_env, secret_env, description}``."""

    name = "Channel"

    def fetch(self, client: Client, world: World) -> dict[str, Channel]:
        return {channel.name: channel for channel in client.iter_channels()}

    def object_id(self, record: Channel) -> str:
        return record.id

    def parse(self, document: Document) -> list[Declared[ChannelSpec]]:
        fields, _, _ = split_document(document, ())
        if "url" in fields or "secret" in fields:
            raise InvalidInput("a file never holds a channel's URL or secret: put it in an "
                               "environment variable and name it in url_env / secret_env",
                               field="url" if "url" in fields else "secret")
        kind = fields.pop("type", None)
        values: dict[str, Any] = {}
        for field in ("url_env", "secret_env"):
            name = fields.get(field)
            if name is not None and (not isinstance(name, str) or not _ENV_NAME.fullmatch(name)):
                raise InvalidInput("must name an environment variable", field=field)
            if isinstance(name, str) and os.environ.get(name):
                values[field.removesuffix("_env")] = os.environ[name]
        spec = validate(ChannelSpec, {**fields, **values, "kind": kind})
        return [Declared(document, spec, spec.name)]

    def changes(self, declared: Declared[ChannelSpec], current: Channel | None,
                planning: Planning) -> list[Step]:
        spec, key = declared.spec, declared.key
        if current is None:
            if not spec.url:
                planning.refuse(declared.document, f"url_env: the environment variable "
                                f"{spec.url_env or '(not named)'} holding the channel's URL "
                                "is not set")
                return []
            try:
                create_spec = validate(ChannelCreate, {
                    "name": spec.name, "kind": spec.kind, "url": spec.url,
                    "secret": spec.secret, "description": spec.description})
            except InvalidInput as error:
                # Not the value (a credential): the rule it broke.
                planning.refuse(declared.document, f"the value of {spec.url_env or 'url_env'}"
                                f" / {spec.secret_env or 'secret_env'}: {error.rule}")
                return []

            def create(client: Client, world: World) -> None:
                # A generated secret is in the answer: dropped, never printed.
                world.register(self.name, key, client.create_channel(create_spec).id)

            return [Step("create", self.name, key, declared.document.where(), create)]
        if current.kind != spec.kind:
            planning.refuse(declared.document, f"type: the channel is a {current.kind} "
                            "channel; a channel's type cannot change (delete it first)")
            return []
        now = {"description": current.description, "url": current.url}
        desired: dict[str, Any] = {"description": spec.description}
        if spec.url:
            desired["url"] = mask_url(spec.url)
        changed = differences(now, desired)
        if not changed:
            return []
        update_fields: dict[str, Any] = {"description": spec.description}
        if "url" in changed:
            update_fields["url"] = spec.url

        def update(client: Client, world: World) -> None:
            client.update_channel(current.id, validate(ChannelUpdate, update_fields))

        return [Step("update", self.name, key, declared.document.where(), update,
                     detail_lines(now, changed))]

    def removal(self, key: str, current: Channel, planning: Planning) -> list[Step]:
        def delete(client: Client, world: World) -> None:
            client.delete_channel(current.id)

        return [Step("delete", self.name, key, f"Channel {key!r} (not in the files)", delete)]

    def export(self, records: Iterable[Channel], world: World) -> list[dict[str, Any]]:
        documents = []
        for channel in sorted(records, key=lambda c: c.name):
            document: dict[str, Any] = {"kind": self.name, "name": channel.name,
                                        "type": channel.kind,
                                        "url_env": env_name(channel.name, "URL")}
            if channel.kind == "webhook":
                document["secret_env"] = env_name(channel.name, "SECRET")
            if channel.description:
                document["description"] = channel.description
            documents.append(document)
        return documents
