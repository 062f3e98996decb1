"""``apicron task clone|bulk-start|bulk-stop`` (issue 18): copy a task, and start or stop
every task a filter matches, shown first and confirmed (or only shown with --dry-run)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import typer

from apicron.cli.connection import connect
from apicron.cli.inputs import NameArg, YesOpt, choice, model
from apicron.cli.lookup import TASKS, resolve
from apicron.cli.output import fail, note, show, table
from apicron.cli.tag_inputs import TagFilterOpt, parse_tags
from apicron.cli.task_commands import STATUSES, TaskArg, cli, show_task

if TYPE_CHECKING:
    from apicron.client import BulkResult

NoteOpt = Annotated[str | None, typer.Option(
    "--note", help="Why they are stopped (shown in the list until started again).")]
StatusOpt = Annotated[str | None, typer.Option(
    "--status", help=f"Only tasks in this status: {', '.join(STATUSES)}.")]
PrefixOpt = Annotated[str | None, typer.Option(
    "--name-prefix", metavar="TEXT", help="Only tasks whose name starts with TEXT.")]
IdOpt = Annotated[list[str] | None, typer.Option(
    "--task", metavar="TASK", help="Only this task (id or name); repeatable.")]
DryRunOpt = Annotated[bool, typer.Option(
    "--dry-run", help="Only list the tasks that would change; change nothing.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")]

_COLUMNS = ["name", "status_before", "status", "outcome", "error_msg"]


@cli.command("clone")
def task_clone(task: TaskArg, name: NameArg) -> None:
    """Copy TASK's configuration (trigger, request, policies, alerts, tags) into a new
    INITIALIZED task named NAME; its history is not copied."""
    client = connect()
    show_task(client.clone_task(resolve(client, TASKS, task, "TASK").id, name))


def _bulk(action: Literal["start", "stop"], tag: list[str] | None, status: str | None,
          name_prefix: str | None, tasks: list[str] | None, dry_run: bool, yes: bool,
          as_json: bool, stop_note: str | None = None) -> None:
    from apicron.client import BulkAction

    client = connect()
    wanted = {
        "tags": parse_tags("--tag", tag),
        "status": choice("--status", status, STATUSES),
        "name_prefix": name_prefix,
        "ids": None if tasks is None else [resolve(client, TASKS, t, "--task").id
                                           for t in tasks],
    }
    request = {"filter": {k: v for k, v in wanted.items() if v is not None}}
    if stop_note is not None:
        request["note"] = stop_note  # type: ignore[assignment]
    call = client.bulk_start_tasks if action == "start" else client.bulk_stop_tasks
    preview = call(model(BulkAction, {**request, "dry_run": True}))
    if dry_run:
        _report(preview, as_json)
        return
    changing = [i for i in preview.items if i.outcome == "WOULD_CHANGE"]
    if not changing and not (action == "stop" and stop_note is not None and preview.items):
        _report(preview, as_json)
        note(f"nothing to {action}: {preview.total} task(s) matched, none would change")
        return
    if not yes:
        table([i.model_dump(mode="json") for i in preview.items], _COLUMNS[:4])
        typer.confirm(f"{action.capitalize()} {len(changing)} task(s)?", abort=True, err=True)
    result = call(model(BulkAction, request))
    _report(result, as_json)
    if result.failed:
        fail(f"{result.failed} of {result.total} task(s) could not be "
             f"{'started' if action == 'start' else 'stopped'}; see above")


def _report(result: BulkResult, as_json: bool) -> None:
    if as_json:
        show(result)
        return
    table([i.model_dump(mode="json") for i in result.items], _COLUMNS)
    word = "would change" if result.dry_run else "changed"
    count = (sum(i.outcome == "WOULD_CHANGE" for i in result.items) if result.dry_run
             else result.changed)
    note(f"{result.total} task(s) matched, {count} {word}, {result.failed} failed")


@cli.command("bulk-start")
def task_bulk_start(
    tag: TagFilterOpt = None, status: StatusOpt = None, name_prefix: PrefixOpt = None,
    task: IdOpt = None, dry_run: DryRunOpt = False, yes: YesOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Start every task matching all the filters given (at least one): lists them and asks
    first (--yes: does not ask; --dry-run: only lists). Exits 1 if any could not start."""
    _bulk("start", tag, status, name_prefix, task, dry_run, yes, as_json)


@cli.command("bulk-stop")
def task_bulk_stop(
    tag: TagFilterOpt = None, status: StatusOpt = None, name_prefix: PrefixOpt = None,
    task: IdOpt = None, stop_note: NoteOpt = None, dry_run: DryRunOpt = False,
    yes: YesOpt = False, as_json: JsonOpt = False,
) -> None:
    """Stop every task matching all the filters given (at least one), with an optional
    note: lists them and asks first (--yes: does not ask; --dry-run: only lists)."""
    _bulk("stop", tag, status, name_prefix, task, dry_run, yes, as_json, stop_note)
