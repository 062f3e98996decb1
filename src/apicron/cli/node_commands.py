"""``apicron nodes``: the apicron processes serving this instance."""

from __future__ import annotations

from typing import Annotated

import typer

from apicron.cli.output import show, table
from apicron.cli.resources import JsonOpt, connect


def nodes(
    everything: Annotated[
        bool, typer.Option("--all", help="Also list nodes that stopped heart-beating.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """List live nodes: id, role, host, pid, started, last heartbeat."""
    found = connect().call("GET", "/v1/nodes")
    if not everything:
        found = [n for n in found if n["alive"]]
    if as_json:
        show(found)
        return
    table(found, ["id", "role", "host", "pid", "version", "started_at", "heartbeat_at", "alive"])
