"""``apicron task backfill`` and ``apicron execution replay`` (issue 18)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from apicron.cli.connection import connect
from apicron.cli.inputs import JsonOpt, choice, model
from apicron.cli.lookup import TASKS, resolve
from apicron.cli.output import note, show

execution_cli = typer.Typer(help="Executions: read one, replay one.", no_args_is_help=True)

MODES = ("SEQUENTIAL", "PARALLEL")


def task_backfill(
    task: Annotated[str, typer.Argument(metavar="TASK", help="The task's id or name.")],
    start: Annotated[str, typer.Option(
        "--from", help="First occurrence time included (RFC 3339 with an offset).")],
    end: Annotated[str, typer.Option(
        "--to", help="Occurrences before this time (RFC 3339 with an offset; not in the "
                     "future).")],
    mode: Annotated[str, typer.Option(
        "--mode", help="SEQUENTIAL (one after the other, in time order) or PARALLEL (all "
                       "at once, as call slots allow).")] = "SEQUENTIAL",
    rerun_succeeded: Annotated[bool, typer.Option(
        "--rerun-succeeded", help="Also run occurrences that already succeeded.")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Only say what would be queued.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run every occurrence the task's schedule had in [--from, --to) (at most 1,000), each
    with its own scheduled time (trigger BACKFILL)."""
    # Built only when a command runs: shell completion imports this module at every TAB.
    from apicron.domain.backfill import BackfillRequest

    spec = model(BackfillRequest, {
        "from": start, "to": end, "mode": choice("--mode", mode, MODES),
        "rerun_succeeded": rerun_succeeded, "dry_run": dry_run,
    })
    client = connect()
    result = client.backfill_task(resolve(client, TASKS, task, "TASK").id, spec)
    if as_json:
        show(result)
        return
    verb = "would queue" if result.dry_run else "queued"
    span = (f": {result.first:%Y-%m-%dT%H:%M:%SZ} .. {result.last:%Y-%m-%dT%H:%M:%SZ}"
            if result.first and result.last else "")
    typer.echo(f"{verb} {result.queued} {result.mode} executions{span}")
    if result.dry_run:
        # What it would do with each occurrence: a dry run has no execution to look up.
        for occurrence in result.occurrences:
            typer.echo(_planned(occurrence.action, occurrence.scheduled_at))
    if result.skipped_succeeded:
        typer.echo(f"left alone {result.skipped_succeeded} occurrences that already "
                   "succeeded (--rerun-succeeded runs them too)")
    if result.skipped_in_progress:
        typer.echo(f"left alone {result.skipped_in_progress} occurrences with an execution "
                   "still to run")
    if not result.dry_run and result.queued:
        note(f"follow them with: apicron task runs {task} --from {start} --to {end}")


_LEFT_ALONE = {"SKIP_SUCCEEDED": "(already SUCCEEDED)",
               "SKIP_IN_PROGRESS": "(an execution of it is still to run)"}


def _planned(action: str, at: datetime) -> str:
    """One line of a dry run: ``would run   2026-…Z`` or ``left alone  2026-…Z  (why)``."""
    if action == "RUN":
        return f"  would run   {at:%Y-%m-%dT%H:%M:%SZ}"
    return f"  left alone  {at:%Y-%m-%dT%H:%M:%SZ}  {_LEFT_ALONE.get(action, action)}"


@execution_cli.command("show")
def execution_show(
    execution: Annotated[str, typer.Argument(metavar="EXECUTION", help="The execution's id.")],
) -> None:
    """One execution with its attempts (JSON)."""
    show(connect().get_execution(execution))


@execution_cli.command("replay")
def execution_replay(
    execution: Annotated[str, typer.Argument(metavar="EXECUTION", help="The execution's id.")],
) -> None:
    """Re-run a finished execution's occurrence: a new execution (trigger REPLAY) with the
    same scheduled time, linked to it by replay_of; prints it (JSON)."""
    show(connect().replay_execution(execution))
