from __future__ import annotations

from fastapi import APIRouter

from apicron.api.routes.common import ERRORS, Ctx, needs
from apicron.domain.access import Permission
from apicron.domain.models import Instance, InstanceUpdate
from apicron.services import instance

router = APIRouter(prefix="/v1/instance", tags=["instance"], responses=ERRORS)


@router.get("", **needs(Permission.READ))
def get_instance(ctx: Ctx) -> Instance:
    return instance.get_instance(ctx)


@router.put("", **needs(Permission.INSTANCE))
def update_instance(ctx: Ctx, patch: InstanceUpdate) -> Instance:
    """Changes only the fields given (``params`` may name just one parameter)."""
    return instance.update_instance(ctx, patch)
