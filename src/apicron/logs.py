"""How ``apicron serve`` logs: one format for apicron, uvicorn and aiohttp, on stderr.

``text`` (the default, ``APICRON_LOG_FORMAT``): ``<time> <LEVEL> <logger> <message>``.
``json``: one object a line (python-json-logger), with ``timestamp`` (UTC, RFC 3339),
``level``, ``logger``, ``message``, this process's ``node_id``, and where a line concerns an
execution its ``task_id`` and ``execution_id``, plus any structured fields the line carries
(the gateway's access log: ``method``, ``path``, ``status``, ``duration_ms``, ``app_id``,
``api_id``); ``exc_info`` holds a traceback.

Which lines concern an execution: everything logged while :class:`Dispatcher` runs one (set
by :func:`about_execution`), and lines that pass ``extra=execution_ids(...)``.

Access logs: the management API's (uvicorn's) only at ``APICRON_LOG_LEVEL=debug``; the
gateway's (``apicron.gateway.access``) at info, with the path but never the query string
(an ``SDK-HMAC-SHA256`` query could carry a signature) nor any header (``X-HW-AppKey``,
``Authorization``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum

from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


_execution: ContextVar[tuple[str, str] | None] = ContextVar("apicron_execution", default=None)


@contextmanager
def about_execution(task_id: str, execution_id: str) -> Iterator[None]:
    """Lines logged inside (in this task/thread's context) concern this execution."""
    token = _execution.set((task_id, execution_id))
    try:
        yield
    finally:
        _execution.reset(token)


def execution_ids(task_id: str | None, execution_id: str | None = None) -> dict[str, str]:
    """``extra=`` for a line about a task or an execution, logged outside
    :func:`about_execution`."""
    ids = {"task_id": task_id, "execution_id": execution_id}
    return {key: value for key, value in ids.items() if value is not None}


class _Context(logging.Filter):
    """Adds ``node_id`` and the execution a line concerns; drops uvicorn's colour copy of
    its message."""

    def __init__(self) -> None:
        super().__init__()
        self.node_id: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if self.node_id is not None:
            record.node_id = self.node_id
        current = _execution.get()
        if current is not None and not hasattr(record, "execution_id"):
            record.task_id, record.execution_id = current
        record.__dict__.pop("color_message", None)
        return True


_context = _Context()


def configure_logging(log_format: str = LogFormat.TEXT, level: str = LogLevel.INFO) -> None:
    """Send every logger's lines (apicron's, uvicorn's, aiohttp's) to stderr in
    ``log_format`` at ``level`` and above (other libraries' at info and above, whatever
    ``level``); replaces any handler the root logger had."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == LogFormat.JSON:
        handler.setFormatter(JsonFormatter(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,
        ))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(_context)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    # debug is apicron's and uvicorn's debug only: libraries log outbound calls at debug
    # with their URLs (urllib3 each request's path, under Apprise's channels; Apprise the
    # URLs it posts to), and a channel's URL is a credential.
    chosen = logging.getLevelNamesMapping()[level.upper()]
    root.setLevel(max(chosen, logging.INFO))
    logging.getLogger("apicron").setLevel(chosen)
    # uvicorn's loggers: no handlers of their own, so they use this one.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(chosen)


def set_node_id(node_id: str) -> None:
    """Every line from now on carries ``node_id`` (in the JSON format)."""
    _context.node_id = node_id
