from __future__ import annotations

from fastapi import APIRouter

from apicron.api.openapi_docs import body_example
from apicron.api.routes.common import ERRORS, Ctx, needs
from apicron.domain.access import Permission
from apicron.domain.models import Instance, InstanceUpdate
from apicron.services import instance

router = APIRouter(prefix="/v1/instance", tags=["instance"], responses=ERRORS)


@router.get("", operation_id="getInstance", summary="Read the instance", **needs(Permission.READ))
def get_instance(ctx: Ctx) -> Instance:
    """The instance's name, parameters (app_route, app_secret, replay_guard,
    unsigned_payload), default time zone and gateway URL."""
    return instance.get_instance(ctx)


@router.put(
    "", operation_id="updateInstance", summary="Change the instance (only the fields given)",
    **needs(Permission.INSTANCE, extra=body_example(
        {"params": {"replay_guard": True}, "timezone": "Europe/Berlin"})),
)
def update_instance(ctx: Ctx, patch: InstanceUpdate) -> Instance:
    """Changes only the fields given; ``params`` may name just one parameter. Turning
    ``app_route`` or ``app_secret`` off refuses creating and starting tasks afterwards."""
    return instance.update_instance(ctx, patch)
