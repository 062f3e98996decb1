"""``--tag KEY=VALUE`` options of ``apicron task`` (issue 18)."""

from __future__ import annotations

from typing import Annotated

import typer

from apicron.cli.output import usage

TagOpt = Annotated[
    list[str] | None,
    typer.Option("--tag", metavar="KEY=VALUE",
                 help="A tag, e.g. env=prod; repeatable."),
]
TagFilterOpt = Annotated[
    list[str] | None,
    typer.Option("--tag", metavar="KEY=VALUE",
                 help="Only tasks with this tag; repeatable (every one must match)."),
]


def parse_tags(option: str, values: list[str] | None) -> dict[str, str] | None:
    """``["env=prod", ...]`` as a mapping (None when the option was not given); a value
    without ``=`` is a usage error naming the option. The key and value rules are the
    server's (apicron.domain.tags), checked when the request is built."""
    if values is None:
        return None
    tags: dict[str, str] = {}
    bad = [repr(text) for text in values if not text.partition("=")[1] or
           not text.partition("=")[0]]
    if bad:  # every one at once
        usage(option, f"{', '.join(bad)} {'is' if len(bad) == 1 else 'are'} not KEY=VALUE "
                      "(e.g. env=prod)")
    for text in values:
        key, _, value = text.partition("=")
        tags[key] = value
    return tags
