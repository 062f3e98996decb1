"""Task tags: ``{"key": "value"}`` labels to find, filter and act on tasks in bulk.

The rules follow Kubernetes labels (keys and values of at most 63 characters, letters,
digits and ``_ . -``; a key may also hold ``/`` for a prefix such as ``team/owner``), so a
tag reads the same in a URL (``?tag=env=prod``), a shell (``--tag env=prod``) and YAML
without quoting. AWS and Google Cloud allow 50 and 64 tags a resource; a task keeps at
most :data:`MAX_TAGS`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from apicron.domain.errors import InvalidInput
from apicron.domain.problem_list import Problems

MAX_TAGS = 20
KEY_MAX = 63
VALUE_MAX = 63
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]{0,62}")
VALUE_PATTERN = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9_.-]{0,62})?")
KEY_RULE = (f"1-{KEY_MAX} characters: letters, digits, '_', '.', '-' and '/', starting with a "
            "letter or digit")
VALUE_RULE = (f"at most {VALUE_MAX} characters: letters, digits, '_', '.' and '-', starting "
              "with a letter or digit (or empty)")


def check_tags(field: str, tags: Mapping[str, str]) -> dict[str, str]:
    """``tags`` as given, or InvalidInput naming ``<field>.<key>`` and the broken rule.

    Raises InvalidInput (field ``tags``) for more than :data:`MAX_TAGS` tags.
    """
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"at most {MAX_TAGS} tags (got {len(tags)})", field=field)
    problems = Problems()
    for key, value in tags.items():
        with problems.check():
            check_tag(f"{field}.{key}", key, value)
    problems.raise_any()
    return dict(tags)


def check_tag(field: str, key: str, value: str) -> None:
    """One tag's key and value, or InvalidInput naming ``field`` and the rule."""
    if not KEY_PATTERN.fullmatch(key):
        raise InvalidInput(f"key {key!r} breaks the rule: {KEY_RULE}", field=field)
    if not VALUE_PATTERN.fullmatch(value):
        raise InvalidInput(f"value {value!r} breaks the rule: {VALUE_RULE}", field=field)


def parse_tag_filters(field: str, filters: Sequence[str]) -> dict[str, str]:
    """``["env=prod", "team=billing"]`` (the ``tag`` query parameter, repeatable) as the
    mapping every task listed must carry (AND). ``key=`` asks for an empty value.

    Raises InvalidInput naming ``field`` for a filter without ``=``, a key or value that
    could never be a tag, or one key asked for with two values.
    """
    wanted: dict[str, str] = {}
    problems = Problems()
    for text in filters:
        key, sep, value = text.partition("=")
        if not sep:
            problems.add(field, f"{text!r} is not KEY=VALUE (e.g. env=prod)")
            continue
        with problems.check():
            check_tag(field, key, value)
        if wanted.get(key, value) != value:
            problems.add(field, f"asks for {key!r} to be both {wanted[key]!r} and {value!r}; "
                                "no task can match")
        wanted.setdefault(key, value)
    problems.raise_any()
    return wanted
