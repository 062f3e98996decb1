"""The seed's prerequisites of every scheduled task (instance parameters ``app_route`` and
``app_secret`` on), in one place, so that the services and ``apicron apply --dry-run``
refuse with the same message."""

from __future__ import annotations

from typing import Protocol

from apicron.domain.errors import InvalidInput
from apicron.domain.models import InstanceParams

# Why each parameter matters to a scheduled task, for the refusal message.
PARAM_REASONS = {
    "app_route": "scheduled tasks call their API by the gateway's IP address",
    "app_secret": "scheduled tasks authenticate with their app's key and secret",
}


class HasParams(Protocol):
    @property
    def params(self) -> InstanceParams: ...


def require_task_params(instance: HasParams) -> None:
    """Seed prerequisite: both parameters on, or no task may be created or started.

    Raises InvalidInput naming ``instance.params.<param>`` (code INSTANCE_PARAM_OFF).
    """
    for param, reason in PARAM_REASONS.items():
        if not getattr(instance.params, param):
            raise InvalidInput(
                f"instance parameter {param} is off, and {reason}; turn it on with "
                f'PUT /v1/instance {{"params": {{"{param}": true}}}}',
                field=f"instance.params.{param}",
                code="INSTANCE_PARAM_OFF",
            )


def check_callable_by(*, app_name: str, api_name: str, same_app: bool, auth_type: str,
                      granted: bool, field: str = "api_id") -> None:
    """Seed: an API of another app must be APP-auth, and the task's app must hold a grant.

    Raises InvalidInput naming ``field`` (codes API_NOT_CALLABLE, API_NOT_GRANTED).
    """
    if same_app:
        return
    if auth_type != "APP":
        raise InvalidInput(
            f"API {api_name!r} belongs to another integration app and uses NONE "
            "authentication; a task can only call another app's API when it uses APP "
            "authentication",
            field=field,
            code="API_NOT_CALLABLE",
        )
    if not granted:
        raise InvalidInput(
            f"integration app {app_name!r} holds no grant for API {api_name!r}, which "
            "belongs to another app; grant it first (POST /v1/app-auths)",
            field=field,
            code="API_NOT_GRANTED",
        )


def api_not_published(api_name: str, field: str = "api_id") -> InvalidInput:
    """Seed: a task's API must be published (code API_NOT_PUBLISHED)."""
    return InvalidInput(f"API {api_name!r} is not published; publish it first", field=field,
                        code="API_NOT_PUBLISHED")
