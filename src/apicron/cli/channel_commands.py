"""``apicron channel``: where alerts go (a signed webhook, or any Apprise URL)."""

from __future__ import annotations

from typing import Annotated

import typer

from apicron.cli.connection import connect
from apicron.cli.inputs import (
    DEFAULT_LIMIT,
    JsonOpt,
    LimitOpt,
    NameArg,
    OffsetOpt,
    YesOpt,
    given,
    model,
    require_changes,
)
from apicron.cli.lookup import CHANNELS, resolve
from apicron.cli.output import fail, note, page_footer, show, table, usage
from apicron.domain.vocabulary import ChannelKind, choices

cli = typer.Typer(help="Notification channels: where alerts are sent.", no_args_is_help=True)

KINDS = choices(ChannelKind)
ChannelArg = Annotated[str, typer.Argument(metavar="CHANNEL", help="The channel's id or name.")]
UrlOpt = Annotated[
    str | None,
    typer.Option("--url", help="webhook: the http(s) URL events are POSTed to; apprise: any "
                               "Apprise URL (slack://…, workflows://…, mailtos://…, ntfy://…)."),
]
SecretOpt = Annotated[
    str | None,
    typer.Option("--secret", help="webhook: the signing secret (16+ characters; default: "
                                  "generated and shown once)."),
]
DescriptionOpt = Annotated[str | None, typer.Option("--description", help="Description.")]


def _kind(value: str | None) -> str | None:
    if value is None:
        return None
    if value.lower() not in KINDS:
        usage("--kind", f"must be one of {', '.join(KINDS)} (got {value!r})")
    return value.lower()


@cli.command("create")
def channel_create(
    name: NameArg,
    kind: Annotated[str, typer.Option("--kind", help="webhook or apprise.")],
    url: Annotated[str, typer.Option(
        "--url", help="webhook: the http(s) URL events are POSTed to; apprise: any Apprise "
                      "URL (slack://…, workflows://…, mailtos://…, ntfy://…).")],
    secret: SecretOpt = None,
    description: DescriptionOpt = None,
) -> None:
    """Create a channel; a webhook's signing secret is printed this once."""
    from apicron.client import ChannelCreate

    spec = model(ChannelCreate, given(name=name, kind=_kind(kind), url=url, secret=secret,
                                      description=description))
    created = connect().create_channel(spec)
    show(created)
    if created.secret:
        note("note: the signing secret is shown only now; receivers verify "
             "X-Apicron-Signature with it (apicron.webhooks.verify)")


@cli.command("list")
def channel_list(
    kind: Annotated[str | None, typer.Option("--kind", help="webhook or apprise.")] = None,
    as_json: JsonOpt = False,
    offset: OffsetOpt = 0,
    limit: LimitOpt = DEFAULT_LIMIT,
) -> None:
    """List channels (URLs masked)."""
    page = connect().list_channels(kind=_kind(kind), offset=offset,  # type: ignore[arg-type]
                                   limit=limit)
    if as_json:
        show(page)
        return
    table([c.model_dump(mode="json") for c in page.items],
          ["name", "id", "kind", "url", "description"])
    page_footer(page.total, len(page.items), offset)


@cli.command("show")
def channel_show(channel: ChannelArg) -> None:
    """Print a channel as JSON (its URL masked)."""
    show(resolve(connect(), CHANNELS, channel, "CHANNEL"))


@cli.command("update")
def channel_update(
    channel: ChannelArg,
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    url: UrlOpt = None,
    secret: SecretOpt = None,
    description: DescriptionOpt = None,
) -> None:
    """Change the given fields (a new URL or secret replaces the stored one)."""
    from apicron.client import ChannelUpdate

    fields = given(name=name, url=url, secret=secret, description=description)
    require_changes(fields)
    client = connect()
    found = resolve(client, CHANNELS, channel, "CHANNEL")
    show(client.update_channel(found.id, model(ChannelUpdate, fields)))


@cli.command("delete")
def channel_delete(channel: ChannelArg, yes: YesOpt = False) -> None:
    """Delete a channel (refused while alert rules name it)."""
    client = connect()
    found = resolve(client, CHANNELS, channel, "CHANNEL")
    if not yes:
        typer.confirm(f"Delete channel {found.name!r}?", abort=True, err=True)
    client.delete_channel(found.id)
    note(f"deleted channel {found.name!r} ({found.id})")


@cli.command("test")
def channel_test(channel: ChannelArg) -> None:
    """Send a test message now; exits 1 when it was not delivered."""
    client = connect()
    found = resolve(client, CHANNELS, channel, "CHANNEL")
    result = client.test_channel(found.id)
    show(result)
    if not result.ok:
        fail(f"channel {found.name!r}: the test message was not delivered: {result.error}")
