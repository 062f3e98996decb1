from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from apicron.api.routes.common import ERRORS, Ctx, Limit, Offset, needs
from apicron.domain.access import Permission
from apicron.domain.alerting import (
    Channel,
    ChannelCreate,
    ChannelKind,
    ChannelTestResult,
    ChannelUpdate,
    ChannelWithSecret,
)
from apicron.domain.models import Page
from apicron.services import channels

router = APIRouter(prefix="/v1/channels", tags=["alerts"], responses=ERRORS)


@router.post("", status_code=201, **needs(Permission.CHANNELS))
def create_channel(ctx: Ctx, spec: ChannelCreate) -> ChannelWithSecret:
    """A webhook's signing secret is in this answer only (generated unless given); the URL
    is answered masked, here and everywhere (it is a credential, stored encrypted)."""
    return channels.create_channel(ctx, spec)


@router.get("", **needs(Permission.READ))
def list_channels(
    ctx: Ctx,
    kind: Annotated[ChannelKind | None, Query()] = None,
    offset: Offset = 0,
    limit: Limit = 20,
) -> Page[Channel]:
    return channels.list_channels(ctx, kind=kind, offset=offset, limit=limit)


@router.get("/{channel_id}", **needs(Permission.READ))
def get_channel(ctx: Ctx, channel_id: str) -> Channel:
    return channels.get_channel(ctx, channel_id)


@router.put("/{channel_id}", **needs(Permission.CHANNELS))
def update_channel(ctx: Ctx, channel_id: str, patch: ChannelUpdate) -> Channel:
    """Changes the fields given (a new URL or secret replaces the old one)."""
    return channels.update_channel(ctx, channel_id, patch)


@router.delete("/{channel_id}", status_code=204, **needs(Permission.CHANNELS))
def delete_channel(ctx: Ctx, channel_id: str) -> Response:
    """Refused (409) while alert rules name the channel."""
    channels.delete_channel(ctx, channel_id)
    return Response(status_code=204)


@router.post("/{channel_id}/test", **needs(Permission.CHANNELS))
def test_channel(ctx: Ctx, channel_id: str) -> ChannelTestResult:
    """Sends a test message now and answers how it went (within the delivery timeout)."""
    return channels.test_channel(ctx, channel_id)
