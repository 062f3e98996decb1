"""What the resource commands share for reading their input: option types, choices, and
turning options into the domain's input models (checked here with the server's rules and
messages, so a mistake is reported before anything is sent)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from apicron.cli.output import usage
from apicron.client.pages import PAGE_DEFAULT, PAGE_MAX

if TYPE_CHECKING:
    from pydantic import BaseModel

M = TypeVar("M", bound="BaseModel")
Json = dict[str, Any]

# Options every ``list`` command takes.
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the raw JSON page.")]
OffsetOpt = Annotated[int, typer.Option("--offset", min=0, help="Items to skip.")]
LimitOpt = Annotated[
    int, typer.Option("--limit", min=1, max=PAGE_MAX, help=f"Items to show (1-{PAGE_MAX}).")
]
NameArg = Annotated[
    str, typer.Argument(metavar="NAME", help="Name: 3-64 letters, digits, '_' or '-'.")
]
# Every delete and every other change that cannot be undone asks first; --yes does not.
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
TimezoneOpt = Annotated[
    str | None,
    typer.Option("--timezone", metavar="ZONE",
                 help="IANA time zone, e.g. Europe/Berlin (default: the instance's)."),
]
DEFAULT_LIMIT = PAGE_DEFAULT


def choice(option: str, value: str | None, choices: Iterable[str]) -> Any:
    """``value`` upper-cased if it is one of ``choices`` (case-insensitive), else exit 2.

    Typed Any: the result is one of ``choices``, which the domain models check again as
    their Literal types.
    """
    if value is None:
        return None
    allowed = list(choices)
    upper = value.upper()
    if upper not in allowed:
        usage(option, f"must be one of {', '.join(allowed)} (got {value!r})")
    return upper


def given(**fields: Any) -> Json:
    """The fields that are not None: what a PUT that changes only the given fields sends."""
    return {k: v for k, v in fields.items() if v is not None}


def require_changes(fields: Json, options: str | None = None) -> None:
    if not fields:
        wanted = f"at least one of {options}" if options else "at least one option (see --help)"
        usage("options", f"nothing to change; give {wanted}")


def model(kind: type[M], fields: Json) -> M:
    """``fields`` as the domain input ``kind``; InvalidInput (exit 1) names the field and
    the rule exactly as the server would."""
    from apicron.domain.validation import validate

    return validate(kind, fields)
