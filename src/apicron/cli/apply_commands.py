"""``apicron apply`` and ``apicron export``: the instance as resource files (GitOps).

The format and what each kind does are in :mod:`apicron.declarative`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from apicron.cli.connection import connect, error_line
from apicron.cli.inputs import YesOpt
from apicron.cli.output import fail, note

if TYPE_CHECKING:
    from apicron.declarative.kinds.base import Step


def _echo(step: Step) -> None:
    for line in step.lines():
        typer.echo(line)


def apply(
    files: Annotated[
        list[str],
        typer.Option("--file", "-f", metavar="FILE",
                     help="A resource file (YAML, one resource per document; - reads stdin). "
                          "Repeatable."),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would change; change nothing.")
    ] = False,
    prune: Annotated[
        bool,
        typer.Option("--prune",
                     help="Also delete the objects of the kinds the files declare that they do "
                          "not list (asks first; --yes does not)."),
    ] = False,
    restart: Annotated[
        bool,
        typer.Option("--restart",
                     help="Edit STARTED tasks by stopping, updating and starting them again "
                          "(without it, apply refuses to change a STARTED task)."),
    ] = False,
    yes: YesOpt = False,
) -> None:
    """Make the instance match resource files: create what is missing, update what differs
    (matched by name), print each change. Applying the same files again changes nothing.
    Every document is checked before anything changes; a problem names the file, the
    document and the field."""
    from apicron.declarative import (
        ApplyFailed,
        ResourceFileError,
        load_world,
        make_plan,
        read_documents,
        run_plan,
    )
    from apicron.declarative.kinds.base import SYMBOLS

    try:
        documents = read_documents(files)
        client = connect()
        world = load_world(client)
        plan = make_plan(documents, world, prune=prune, restart=restart)
    except ResourceFileError as exc:
        for problem in exc.file_problems:
            typer.echo(f"apicron: error: {problem}", err=True)
        note("nothing was changed")
        sys.exit(1)
    for left in plan.notes:
        note(str(left))  # the same in dry and real runs: what apply leaves alone, and why
    if dry_run:
        for step in plan.steps:
            _echo(step)
        typer.echo(f"dry run: {plan.summary()}; nothing was changed")
        return
    deletions = plan.deletions
    if deletions and not yes:
        for step in deletions:
            for line in step.lines():
                note(line)
        if not sys.stdin.isatty():
            fail(f"--prune would delete the {len(deletions)} object(s) above; "
                 "run again with --yes to confirm")
        typer.confirm(f"Delete these {len(deletions)} object(s)?", abort=True, err=True)
    try:
        run_plan(plan, client, world, report=_echo)
    except ApplyFailed as exc:
        # Every document was checked before the first change; a refusal now comes from
        # something only the server could see (a concurrent change): say what is done.
        note(f"{exc.done} of {len(plan.steps)} change(s) were made before this one (printed "
             f"above), {len(exc.not_made) + 1} were not:")
        for step in [exc.step, *exc.not_made]:
            note(f"  not made: {SYMBOLS[step.action]} {step.kind} {step.key}")
        note("fix the cause and apply again: what was made is not made twice")
        fail(f"{exc.step.where}: {error_line(exc.error)}")
    if plan.steps:
        typer.echo(f"applied: {plan.count('create')} created, {plan.count('update')} changed, "
                   f"{plan.count('delete')} deleted")
    else:
        typer.echo("no changes")


def export(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write to FILE, not stdout."),
    ] = None,
) -> None:
    """Write the instance as a resource file for `apicron apply`: apps, groups, APIs,
    grants and tasks, by name; secrets are never included."""
    from apicron.declarative import dump_documents, export_documents, load_world

    text = dump_documents(export_documents(load_world(connect())))
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"--output: cannot write {str(output)!r}: {exc.strerror or exc}")
    note(f"wrote {output}")
