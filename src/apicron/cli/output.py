"""How the CLI prints: JSON for one object, an aligned table for lists, notes and warnings
on stderr, one line for errors.

Conventions every command follows: stdout carries only the result (a JSON value or a
table), so it can be piped; notes, warnings and errors go to stderr. Bad local input
exits 2 with one line naming the option; any other error exits 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

import typer

USAGE_ERROR = 2


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"apicron: error: {message}", err=True)
    sys.exit(code)


def usage(option: str, message: str) -> NoReturn:
    """Bad local input: one line naming the option, exit code 2."""
    fail(f"{option}: {message}", code=USAGE_ERROR)


def note(message: str) -> None:
    typer.echo(message, err=True)


def warn(warnings: Iterable[str]) -> None:
    """Each warning the server attached (``schedule_warnings``, a preview's ``warnings``),
    one line each on stderr."""
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)


def plain(obj: Any) -> Any:
    """``obj`` as JSON data: records through their JSON form (RFC 3339 times)."""
    if hasattr(obj, "model_dump"):  # a record (pydantic), without importing pydantic here
        return obj.model_dump(mode="json")
    if isinstance(obj, list | tuple):
        return [plain(item) for item in obj]
    return obj


def show(obj: Any) -> None:
    typer.echo(json.dumps(plain(obj), indent=2, ensure_ascii=False))


def page_footer(total: int, shown: int, offset: int) -> None:
    """On stderr, so that stdout is only the table: where this page sits in the total."""
    if total > shown:
        note(f"{shown} of {total} shown (from offset {offset}); use --offset/--limit for more")


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """Rows under upper-cased column names, each column as wide as its widest cell."""
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    typer.echo(
        "  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()
    )
    for r in cells:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
