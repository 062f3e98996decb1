"""Path and query parameters a database can look up: no NUL character in any of them.

Starlette decodes them leniently (bad UTF-8 becomes U+FFFD), but a percent-encoded NUL
(``%00``) arrives as is, and PostgreSQL refuses it in a query: 400 naming the parameter.
"""

from __future__ import annotations

from fastapi import Request

from apicron.domain.rules import check_storable_text


def storable_parameters(request: Request) -> None:
    for name, value in [*request.path_params.items(), *request.query_params.multi_items()]:
        check_storable_text(name, value)
