"""Resource commands over the REST API: app, group, api, grant, task, instance."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    return None
