from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from apicron.api.openapi_docs import body_example
from apicron.api.routes.common import ERRORS, Ctx, Limit, Offset, needs
from apicron.domain.access import Permission
from apicron.domain.alerting import (
    Channel,
    ChannelCreate,
    ChannelTestResult,
    ChannelUpdate,
    ChannelWithSecret,
)
from apicron.domain.models import Page
from apicron.domain.vocabulary import ChannelKind
from apicron.services import channels

router = APIRouter(prefix="/v1/channels", tags=["alerts"], responses=ERRORS)


@router.post(
    "", status_code=201, operation_id="createChannel", summary="Create a notification channel",
    **needs(Permission.CHANNELS, extra=body_example({"name": "ops_webhook", "kind": "webhook",
         "url": "https://hooks.example.com/apicron",
         "description": "The on-call webhook"})),
)
def create_channel(ctx: Ctx, spec: ChannelCreate) -> ChannelWithSecret:
    """A webhook's signing secret is in this answer only (generated unless given); the URL
    is answered masked, here and everywhere (it is a credential, stored encrypted)."""
    return channels.create_channel(ctx, spec)


@router.get(
    "", operation_id="listChannels", summary="List notification channels",
    **needs(Permission.READ),
)
def list_channels(
    ctx: Ctx,
    kind: Annotated[ChannelKind | None, Query()] = None,
    offset: Offset = 0,
    limit: Limit = 20,
) -> Page[Channel]:
    """Channels, optionally of one kind; their URLs masked."""
    return channels.list_channels(ctx, kind=kind, offset=offset, limit=limit)


@router.get(
    "/{channel_id}", operation_id="getChannel", summary="Read a notification channel",
    **needs(Permission.READ),
)
def get_channel(ctx: Ctx, channel_id: str) -> Channel:
    """The channel, its URL masked (the secret is never answered again)."""
    return channels.get_channel(ctx, channel_id)


@router.put(
    "/{channel_id}", operation_id="updateChannel",
    summary="Change a notification channel (only the fields given)",
    **needs(Permission.CHANNELS, extra=body_example({"description": "The on-call team's webhook"})),
)
def update_channel(ctx: Ctx, channel_id: str, patch: ChannelUpdate) -> Channel:
    """Changes the fields given (a new URL or secret replaces the old one)."""
    return channels.update_channel(ctx, channel_id, patch)


@router.delete("/{channel_id}", status_code=204, operation_id="deleteChannel",
               summary="Delete a notification channel", **needs(Permission.CHANNELS))
def delete_channel(ctx: Ctx, channel_id: str) -> Response:
    """Refused (409) while alert rules name the channel."""
    channels.delete_channel(ctx, channel_id)
    return Response(status_code=204)


@router.post("/{channel_id}/test", operation_id="testChannel",
              summary="Send a test message through a channel", **needs(Permission.CHANNELS))
def test_channel(ctx: Ctx, channel_id: str) -> ChannelTestResult:
    """Sends a test message now and answers how it went (within the delivery timeout)."""
    return channels.test_channel(ctx, channel_id)
