"""apicron's settings: the model (:mod:`apicron.settings.model`, one field per setting) and
where each value comes from (:mod:`apicron.settings.sources`)."""

from apicron.settings.model import (
    DEFAULT_API_PORT,
    DEFAULT_GATEWAY_PORT,
    ENV_PREFIX,
    LOOPBACK,
    Secret,
    Settings,
    default_data_dir,
    redact_url,
    secret_of,
)
from apicron.settings.sources import ResolvedSettings, load_settings, resolve_settings

__all__ = [
    "DEFAULT_API_PORT",
    "DEFAULT_GATEWAY_PORT",
    "ENV_PREFIX",
    "LOOPBACK",
    "ResolvedSettings",
    "Secret",
    "Settings",
    "default_data_dir",
    "load_settings",
    "redact_url",
    "resolve_settings",
    "secret_of",
]
