"""The web console: server-rendered pages over the same services as the REST API.

Mounted on the management port by :func:`mount_console`; its routes stay out of the
OpenAPI document, which describes only the ``/v1`` contract.
"""

from __future__ import annotations

from fastapi import FastAPI

from apicron.console.web import install


def mount_console(app: FastAPI) -> None:
    """Add the console's pages, its static files and its login handling to ``app``."""
    install(app)


__all__ = ["mount_console"]
