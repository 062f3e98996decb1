"""Where settings come from, which one wins, and which one gave each value.

Precedence, highest first (the first source that has a setting gives it):

1. **flag**: ``--api-port 9000`` on the commands that take settings;
2. **env**: ``APICRON_API_PORT=9000`` (an empty variable counts as not set);
3. **secret file**, for the settings marked :class:`~apicron.settings.Secret` only
   (``admin_token``, ``secret_key``, ``database_url``): the file named by
   ``APICRON_ADMIN_TOKEN_FILE`` (the convention of Docker's official images), else a file
   named ``apicron_admin_token`` (any case) in the secrets directory: ``APICRON_SECRETS_DIR``,
   else ``$CREDENTIALS_DIRECTORY`` (set by systemd's ``LoadCredential=``). The content is
   taken with surrounding whitespace stripped;
4. **config file**: ``--config FILE.toml`` or ``APICRON_CONFIG``; its top-level keys are the
   settings' names (``api_port = 8080``, ``data_dir = "/var/lib/apicron"``);
5. **default**.

Each layer is read by a pydantic-settings source; the merge is done here so that
``apicron config show`` can say where every value came from, and so that an error names the
setting as the user wrote it: ``--api-port``, ``APICRON_API_PORT``, ``api_port in FILE``.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    TomlConfigSettingsSource,
)

from apicron.domain.errors import ConfigurationError
from apicron.settings.generated import generated_file
from apicron.settings.model import ENV_PREFIX, LINE, RULE, Settings, secret_of

CONFIG_VARIABLE = "APICRON_CONFIG"
SECRETS_DIR_VARIABLE = "APICRON_SECRETS_DIR"
SYSTEMD_CREDENTIALS = "CREDENTIALS_DIRECTORY"
FILE_SUFFIX = "_FILE"


class SourceKind(StrEnum):
    """The kinds of places a setting's value comes from, highest precedence first."""

    FLAG = "flag"
    ENV = "env"
    SECRET_FILE = "secret file"  # noqa: S105 - a kind of source, not a password
    CONFIG_FILE = "config file"
    GENERATED = "generated"  # at first start, into a file of the data directory
    DEFAULT = "default"


@dataclass(frozen=True)
class Origin:
    """Where one setting's value came from: ``where`` is the flag, the variable or the
    file (empty for a default)."""

    kind: SourceKind
    where: str = ""

    def __str__(self) -> str:
        return f"{self.kind} {self.where}".rstrip()

    def label(self, name: str) -> str:
        """How an error names setting ``name`` given from here."""
        variable = env_name(name)
        if self.kind is SourceKind.FLAG:
            return flag_name(name)
        if self.kind is SourceKind.SECRET_FILE:
            return f"{variable} (read from {self.where})"
        if self.kind is SourceKind.CONFIG_FILE:
            return f"{name} in {self.where}"
        return variable


DEFAULT = Origin(SourceKind.DEFAULT)


@dataclass(frozen=True)
class ResolvedSettings:
    """Valid settings and, for each setting's name, where its value came from."""

    settings: Settings
    origins: Mapping[str, Origin]


def env_name(name: str) -> str:
    return f"{ENV_PREFIX}{name.upper()}"


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def setting_names() -> tuple[str, ...]:
    return tuple(Settings.model_fields)


class _Environment(EnvSettingsSource):
    """``APICRON_*`` variables from a given mapping (the process environment by default,
    a plain mapping in tests)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(Settings)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # As pydantic-settings reads os.environ (names compared in lower case; an empty
        # value is "not set", env_ignore_empty).
        return {name.lower(): value for name, value in self._environ.items() if value != ""}


class _FileVariables(PydanticBaseSettingsSource):
    """``APICRON_<NAME>_FILE``: a secret setting read from the file the variable names."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        super().__init__(Settings)
        self._environ = environ
        self.paths: dict[str, str] = {}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        variable = env_name(field_name) + FILE_SUFFIX
        named = self._environ.get(variable)
        if not named or secret_of(field_name) is None:
            return None, field_name, False
        self.paths[field_name] = named
        return _read_secret(variable, Path(named).expanduser()), field_name, False

    def __call__(self) -> dict[str, Any]:
        self._refuse_files_of_plain_settings()
        values: dict[str, Any] = {}
        for name, field in Settings.model_fields.items():
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                values[key] = value
        return values

    def _refuse_files_of_plain_settings(self) -> None:
        # Set by mistake (APICRON_TLS_CERT_FILE for APICRON_TLS_CERT), it would be ignored.
        secret = [env_name(n) + FILE_SUFFIX for n in Settings.model_fields if secret_of(n)]
        for name in Settings.model_fields:
            variable = env_name(name) + FILE_SUFFIX
            if self._environ.get(variable) and secret_of(name) is None:
                raise ConfigurationError(
                    f"{variable} is not read: only the secret settings are read from files "
                    f"({', '.join(secret)}); set {env_name(name)} instead"
                )


def _read_secret(variable: str, path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ConfigurationError(
            f"{variable} names a file that cannot be read: {path} ({error.strerror or error})"
        ) from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"{variable} names a file that is not UTF-8 text: {path}"
                                 ) from None
    if not text:
        raise ConfigurationError(f"{variable} names an empty file: {path}")
    return text


def _secrets_directory(environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The secret settings found in the secrets directory, and the file each came from."""
    named = environ.get(SECRETS_DIR_VARIABLE) or environ.get(SYSTEMD_CREDENTIALS)
    if not named:
        return {}, {}
    variable = SECRETS_DIR_VARIABLE if environ.get(SECRETS_DIR_VARIABLE) else SYSTEMD_CREDENTIALS
    directory = Path(named).expanduser()
    if not directory.is_dir():
        raise ConfigurationError(f"{variable} must name a directory of secret files: {named}")
    found = SecretsSettingsSource(Settings, secrets_dir=directory)()
    values: dict[str, Any] = {}
    paths: dict[str, str] = {}
    for name, value in found.items():
        if secret_of(name) is None or value is None:
            continue  # a shared directory (/run/secrets) holds other services' files too
        path = SecretsSettingsSource.find_case_path(directory, env_name(name), False)
        if not str(value).strip():
            raise ConfigurationError(f"the secret file {path} is empty")
        values[name] = value
        paths[name] = str(path)
    return values, paths


def _config_file(path_text: str) -> dict[str, Any]:
    """The settings of a TOML config file; unknown keys are refused, naming the closest."""
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise ConfigurationError(f"the config file {path_text} cannot be read: "
                                 f"{'it is a directory' if path.is_dir() else 'no such file'}")
    try:
        source = TomlConfigSettingsSource(Settings, toml_file=path)
    except OSError as error:
        raise ConfigurationError(
            f"the config file {path} cannot be read: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"the config file {path} is not valid TOML: {error}") from None
    names = setting_names()
    for key in source.toml_data:
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigurationError(
                f"{key!r} in {path} is not a setting{hint}; the keys are the APICRON_ "
                "variables' names in lower case without the prefix (secrets from files: "
                "APICRON_<NAME>_FILE or the secrets directory)"
            )
    return dict(source.toml_data)


def resolve(
    env: Mapping[str, str] | None,
    overrides: Mapping[str, object] | None,
    config_file: str | Path | None,
) -> ResolvedSettings:
    """Read every layer, take each setting from the highest that has it, validate.

    Raises :class:`ConfigurationError` in one line (several problems joined by "; ").
    """
    environ = dict(os.environ if env is None else env)
    flags = {name: value for name, value in (overrides or {}).items() if value is not None}
    unknown = set(flags) - set(setting_names())
    if unknown:
        raise ValueError(f"not settings: {sorted(unknown)}")
    file_variables = _FileVariables(environ)
    file_values = file_variables()
    directory_values, directory_paths = _secrets_directory(environ)
    config_path = str(config_file) if config_file else environ.get(CONFIG_VARIABLE, "")
    config_values = _config_file(config_path) if config_path else {}

    layers: list[tuple[Mapping[str, Any], Callable[[str], Origin]]] = [
        (flags, lambda name: Origin(SourceKind.FLAG, flag_name(name))),
        (_Environment(environ)(), lambda name: Origin(SourceKind.ENV, env_name(name))),
        (file_values,
         lambda name: Origin(SourceKind.SECRET_FILE, file_variables.paths[name])),
        (directory_values,
         lambda name: Origin(SourceKind.SECRET_FILE, directory_paths[name])),
        (config_values, lambda name: Origin(SourceKind.CONFIG_FILE, config_path)),
    ]
    values: dict[str, Any] = {}
    origins: dict[str, Origin] = {}
    for layer, origin in layers:
        for name, value in layer.items():
            if name not in values and value is not None:
                values[name] = value
                origins[name] = origin(name)
    for name in setting_names():
        origins.setdefault(name, DEFAULT)
    try:
        settings = Settings(**values)
    except ValidationError as error:
        raise ConfigurationError(_one_line(error, origins)) from None
    return ResolvedSettings(settings, origins)


def _one_line(error: ValidationError, origins: Mapping[str, Origin]) -> str:
    problems: list[str] = []
    for item in error.errors(include_url=False):
        context = item.get("ctx") or {}
        name = context.get("setting") or (str(item["loc"][0]) if item["loc"] else None)
        if item["type"] == LINE or name is None:
            problems.append(item["msg"])
        elif item["type"] == RULE:
            problems.append(f"{origins.get(name, DEFAULT).label(name)} {item['msg']}")
        else:  # a type pydantic itself refused: our rules parse raw values first
            problems.append(f"{origins.get(name, DEFAULT).label(name)} is not valid: "
                            f"{item['msg']}")
    return "; ".join(problems)


@dataclass(frozen=True)
class ShownSetting:
    """One row of ``apicron config show``: the value as shown (secrets masked)."""

    name: str
    variable: str
    value: str
    origin: Origin


def shown_settings(resolved: ResolvedSettings) -> list[ShownSetting]:
    """Every setting's effective value, secrets masked, with where it came from."""
    rows = []
    for name in setting_names():
        value = getattr(resolved.settings, name)
        mark = secret_of(name)
        origin = resolved.origins[name]
        generated = (generated_file(name, resolved.settings.data_dir)
                     if value is None else None)
        if generated is not None and mark is not None and mark.show is not None:
            # Set, by apicron itself: shown like any other secret, with its file.
            shown, origin = mark.show(""), Origin(SourceKind.GENERATED, str(generated))
        elif value is None or value == ():
            shown = "-"
        elif mark is not None and mark.show is not None:
            shown = mark.show(str(value))
        elif isinstance(value, tuple):
            shown = ",".join(value)
        elif isinstance(value, float):
            shown = f"{value:g}"
        else:
            shown = str(value)
        rows.append(ShownSetting(name, env_name(name), shown, origin))
    return rows


def load_settings(
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
    *,
    config_file: str | Path | None = None,
) -> Settings:
    """The settings from flags (``overrides``: setting name → value, ``None`` meaning "not
    given"), ``env`` (default: the process environment), secret files, the config file
    (``config_file``, else ``APICRON_CONFIG``) and defaults, in that precedence.

    Raises :class:`~apicron.domain.errors.ConfigurationError`: one line naming each bad
    setting as it was given and the rule it breaks.
    """
    return resolve(env, overrides, config_file).settings


def resolve_settings(
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
    *,
    config_file: str | Path | None = None,
) -> ResolvedSettings:
    """As :func:`load_settings`, with where each value came from (``apicron config show``)."""
    return resolve(env, overrides, config_file)
