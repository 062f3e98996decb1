"""Declarative apply (GitOps): resource files that ``apicron apply`` makes the instance
match, and ``apicron export`` writes from it. Built on :mod:`apicron.client`, so it works
against any instance.

A resource file is YAML, one resource per ``---`` document, each with a ``kind``::

    kind: App
    name: billing
    ---
    kind: Group
    name: orders
    app: billing
    ---
    kind: Api
    name: sync_orders
    group: orders
    method: POST
    path: /orders/{region}/sync
    backend_url: http://127.0.0.1:9000/sync/{region}
    ---
    kind: Grant
    app: reporting
    apis: [orders/sync_orders]
    ---
    kind: Task
    name: nightly_sync
    app: billing
    api: orders/sync_orders
    timezone: Europe/Berlin
    trigger_type: CRON
    cron_expression: 0 30 2 ? * MON-FRI
    started: true

Objects are matched by name (an API by ``group/name``, a grant by app and API); fields are
those of the REST API's create requests, with other objects named rather than given by
id. What each kind does is in :mod:`apicron.declarative.kinds`.
"""

from apicron.declarative.documents import Document, Problem, ResourceFileError, read_documents
from apicron.declarative.export import dump_documents, export_documents
from apicron.declarative.plan import ApplyFailed, Plan, load_world, make_plan, run_plan

__all__ = [
    "ApplyFailed",
    "Document",
    "Plan",
    "Problem",
    "ResourceFileError",
    "dump_documents",
    "export_documents",
    "load_world",
    "make_plan",
    "read_documents",
    "run_plan",
]
