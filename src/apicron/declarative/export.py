"""The instance as a resource file: every object of every kind, as documents that apply
back to no change. Secrets (app keys and secrets) are never included; tasks and grants
name their app and API, never by id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from apicron.declarative.kinds import KINDS
from apicron.declarative.kinds.base import World


def export_documents(world: World) -> list[dict[str, Any]]:
    """Every object of ``world``, kind by kind in apply order, each kind sorted by key."""
    documents: list[dict[str, Any]] = []
    for kind in KINDS:
        documents.extend(kind.export(world.objects.get(kind.name, {}).values(), world))
    return documents


class _Dumper(yaml.SafeDumper):
    """Block style, keys in the order given, multi-line text as ``|`` literal blocks."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and not value.endswith((" ", "\t")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def dump_documents(documents: Sequence[dict[str, Any]]) -> str:
    """YAML, one ``---`` document per resource (what :func:`read_documents` reads)."""
    if not documents:
        return ""
    return yaml.dump_all(
        documents, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
        default_flow_style=False, explicit_start=True, width=100,
    )
