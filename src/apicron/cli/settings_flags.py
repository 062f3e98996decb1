"""Settings on the command line: ``apicron --config FILE.toml`` and one flag per setting.

The flags (``--api-port``, ``--data-dir``, …) are built from the fields of
:class:`apicron.settings.Settings` when a command that takes them is parsed or its help is
shown, so a setting added to the model is a flag at once, and the CLI's start (shell
completion runs it at every TAB) imports no server module. Secret settings are not flags
(arguments are visible to every local user in ``ps``), except those marked so.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.main
from typer.core import TyperCommand

if TYPE_CHECKING:
    from apicron.settings.sources import ResolvedSettings

_FLAGS = "apicron.settings_flags"


class _Config:
    """``--config`` of the root command (Typer fell back to ``APICRON_CONFIG``)."""

    path: str | None = None


def use_config(path: str | None) -> None:
    _Config.path = path or None


@cache
def _setting_options() -> tuple[Any, ...]:
    """One option per setting, made by Typer itself from a signature built out of the model
    (so they are the same kind of object as the command's own options, whichever click
    this Typer is built on)."""
    try:
        from apicron.settings import Settings, secret_of
        from apicron.settings.sources import env_name, flag_name
    except ModuleNotFoundError:
        # Without the server extra: the command itself says what to install.
        return ()
    parameters = []
    for name, field in Settings.model_fields.items():
        mark = secret_of(name)
        if mark is not None and not mark.flag:
            continue
        option = typer.Option(flag_name(name), metavar=_metavar(name, field.annotation),
                              help=f"{field.description} [{env_name(name)}]")
        parameters.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                                            annotation=Annotated[str | None, option]))

    def settings(**values: str | None) -> None:
        """Only its signature is used."""

    settings.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    settings.__annotations__ = {p.name: p.annotation for p in parameters}
    probe = typer.Typer(add_completion=False)
    probe.command()(settings)
    return tuple(typer.main.get_command(probe).params)


def _metavar(name: str, annotation: Any) -> str:
    shown = str(annotation)
    if "tuple" in shown:
        return "LIST"
    if "float" in shown:
        return "SECONDS"
    return name.rpartition("_")[2].upper()


class SettingsCommand(TyperCommand):
    """A command that takes every setting (or those of ``only``) as a flag; read them with
    :func:`resolve_from_command_line`."""

    only: Sequence[str] | None = None

    def _settings_options(self) -> list[Any]:
        return [o for o in _setting_options()
                if self.only is None or o.name in self.only]

    def get_params(self, ctx: Any) -> list[Any]:
        params = [*self.params, *self._settings_options()]
        help_option = self.get_help_option(ctx)
        if help_option is not None:
            params.append(help_option)
        return params

    def invoke(self, ctx: Any) -> Any:
        names = {option.name for option in self._settings_options()}
        ctx.meta[_FLAGS] = {name: ctx.params.pop(name) for name in list(ctx.params)
                            if name in names}
        return super().invoke(ctx)


class DatabaseSettingsCommand(SettingsCommand):
    """A command that only opens the database (``db upgrade``, ``secret-key rotate``)."""

    only = ("data_dir", "database_url")


def resolve_from_command_line(ctx: typer.Context) -> ResolvedSettings:
    """The settings of this command line (``ctx``, of a :class:`SettingsCommand`): its
    flags, the environment, secret files and the config file. Raises
    :class:`~apicron.domain.errors.ConfigurationError` in one line."""
    from apicron.settings import resolve_settings

    flags = ctx.meta.get(_FLAGS, {})
    return resolve_settings(overrides=flags, config_file=_config_path())


def _config_path() -> Path | None:
    return Path(_Config.path) if _Config.path else None
