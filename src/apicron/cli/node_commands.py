"""``apicron nodes``: the apicron processes serving this instance."""

from __future__ import annotations

from typing import Annotated

import typer

from apicron.cli.connection import connect
from apicron.cli.inputs import JsonOpt
from apicron.cli.output import show, table


def nodes(
    everything: Annotated[
        bool, typer.Option("--all", help="Also list nodes that stopped heart-beating.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """List live nodes: id, role, host, pid, started, last heartbeat."""
    found = [n for n in connect().list_nodes() if everything or n.alive]
    if as_json:
        show(found)
        return
    table([n.model_dump(mode="json") for n in found],
          ["id", "role", "host", "pid", "version", "started_at", "heartbeat_at", "alive"])
