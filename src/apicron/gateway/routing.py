"""The route table: published APIs found by method and path, path templates included.

A template segment is either literal text or a whole-segment parameter ``{name}``; a
parameter matches one non-empty segment and its value is the percent-decoded segment. When
two templates could match one path, the one with a literal segment at the first place they
differ wins (``/orders/latest`` beats ``/orders/{id}``); if that branch then fails, the
parameter branch is tried. A trailing ``/`` is not significant, as for the uniqueness of
published routes (``apicron.domain.rules.route_key``).

The table is a trie, so a lookup visits each node at most once whatever the request path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from apicron.domain.models import PublishedApi
from apicron.domain.rules import PATH_PARAM

# A parameter that is a dot segment would let a caller climb out of the backend's path.
_DOT_SEGMENTS = frozenset({".", ".."})


@dataclass(frozen=True)
class Match:
    api: PublishedApi
    path_params: dict[str, str]


@dataclass(frozen=True)
class _Route:
    api: PublishedApi
    param_names: tuple[str, ...]


class _Node:
    __slots__ = ("literals", "param", "routes")

    def __init__(self) -> None:
        self.literals: dict[str, _Node] = {}
        self.param: _Node | None = None
        self.routes: dict[str, _Route] = {}


def _segments(path: str) -> list[str]:
    """Raw segments of an absolute path; one trailing ``/`` is dropped."""
    if path.endswith("/"):
        path = path[:-1]
    return path.split("/")[1:] if path else []


def decode_request_path(raw_path: str) -> list[str]:
    """The request path's segments, each percent-decoded on its own (``%2F`` stays inside).

    Bytes that are not UTF-8 are kept as surrogate escapes, so they re-encode unchanged.
    """
    return [unquote(segment, errors="surrogateescape") for segment in _segments(raw_path)]


class RouteTable:
    """Immutable after construction; safe to share between requests and threads."""

    def __init__(self, apis: Iterable[PublishedApi]):
        self._root = _Node()
        self._size = 0
        for api in apis:
            self._add(api)

    def __len__(self) -> int:
        return self._size

    def _add(self, api: PublishedApi) -> None:
        node = self._root
        names: list[str] = []
        for segment in _segments(api.path):
            param = PATH_PARAM.fullmatch(segment)
            if param:
                names.append(param.group(1))
                if node.param is None:
                    node.param = _Node()
                node = node.param
            else:
                node = node.literals.setdefault(unquote(segment), _Node())
        # Published routes are unique per (method, normalised path); keep the first anyway.
        if api.method not in node.routes:
            node.routes[api.method] = _Route(api, tuple(names))
            self._size += 1

    def match(self, method: str, segments: list[str]) -> Match | None:
        """The API serving ``method`` at the decoded ``segments``, and its path parameters."""
        values: list[str] = []
        route = self._walk(self._root, segments, 0, method, values)
        if route is None:
            return None
        return Match(route.api, dict(zip(route.param_names, values, strict=True)))

    def _walk(
        self, node: _Node, segments: list[str], index: int, method: str, values: list[str]
    ) -> _Route | None:
        if index == len(segments):
            return node.routes.get(method)
        segment = segments[index]
        literal = node.literals.get(segment)
        if literal is not None:
            found = self._walk(literal, segments, index + 1, method, values)
            if found is not None:
                return found
        if node.param is not None and segment and segment not in _DOT_SEGMENTS:
            values.append(segment)
            found = self._walk(node.param, segments, index + 1, method, values)
            if found is not None:
                return found
            values.pop()
        return None
