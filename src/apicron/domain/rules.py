"""Field rules shared by every entity; each raises InvalidInput naming the field and rule.

These are the seed's and DESIGN.md's "Task rules" that need nothing but the value itself.
Rules that need stored state (published API, grants, instance params) live in the services.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol
from urllib.parse import quote, unquote, urlsplit

from defusedxml import ElementTree as SafeElementTree

from apicron.domain.errors import InvalidInput, TooLarge
from apicron.domain.problem_list import Problems

NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{2,63}")
DESCRIPTION_MAX = 255
BODY_MAX_BYTES = 1024 * 1024
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
HTTP_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Reserved because apicron sets them itself (auth, framing, idempotency headers):
# a task that could set them would spoof credentials or break the request.
RESERVED_HEADERS = frozenset(
    {"host", "content-length", "authorization", "x-hw-id", "x-hw-appkey", "transfer-encoding",
     "connection"}
)
RESERVED_HEADER_PREFIX = "x-apicron-"
MAX_PARAMS = 50
MAX_PARAM_NAME = 256
MAX_PARAM_VALUE = 4096
PATH_MAX = 1024
PATH_SEGMENT = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@%]+|\{[A-Za-z_][A-Za-z0-9_]{0,63}\}")
PATH_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,63})\}")
_PERCENT_ESCAPES = re.compile(r"(?:[^%]|%[0-9A-Fa-f]{2})*")
# Link-local and cloud-metadata addresses: a backend there would let an API caller read
# the host's instance credentials.
FORBIDDEN_NETWORKS = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::254/128"),
)


# JSON may escape a lone surrogate (\ud800) or NUL (\u0000), and Python's JSON reader
# lets both through, but neither SQLite's UTF-8 nor PostgreSQL's text can store them.
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


# How many unstorable strings one answer names (REST lists at most 100 problems anyway).
MAX_STORABLE_PROBLEMS = 100


def check_storable_text(field: str, value: object) -> None:
    """Every string in a decoded JSON value, keys included, is text a database can store.

    Walks with a stack of its own, in document order: a value nested as deep as the JSON
    reader allows (about a thousand levels) must not exhaust Python's recursion limit here.
    """
    pending: list[tuple[str, object]] = [(field, value)]
    problems = Problems()  # every such string at once
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            found = _UNSTORABLE.search(item)
            if found is not None:
                what = "a NUL character" if found[0] == "\0" else "a lone surrogate"
                problems.add(path or "body", f"contains {what} ({found[0]!r}), which is not "
                                             "text that can be stored")
        elif isinstance(item, dict):
            children: list[tuple[str, object]] = []
            for key, child in item.items():
                if isinstance(key, str) and _UNSTORABLE.search(key):
                    problems.add(path or "body",
                                 "has a field name with a NUL character or a lone surrogate")
                    continue
                children.append((f"{path}.{key}" if path else str(key), child))
            pending.extend(reversed(children))
        elif isinstance(item, list | tuple):
            pending.extend(
                (f"{path or 'body'}[{index}]", child) for index, child in reversed(
                    list(enumerate(item))
                )
            )
        if len(problems.found) >= MAX_STORABLE_PROBLEMS:
            break  # enough to act on; a huge body must not cost a huge answer
    problems.raise_any()


def check_name(field: str, value: str) -> str:
    if not NAME_PATTERN.fullmatch(value):
        raise InvalidInput(
            f"must be 3-64 characters, start with a letter and contain only letters, digits, "
            f"'_' and '-' (got {value!r:.80})",
            field=field,
        )
    return value


def check_description(field: str, value: str) -> str:
    if len(value) > DESCRIPTION_MAX:
        raise InvalidInput(
            f"must be at most {DESCRIPTION_MAX} characters (got {len(value)})", field=field
        )
    return value


class NameValue(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def value(self) -> str: ...


def check_headers(field: str, headers: Sequence[NameValue]) -> None:
    """Every header's name and value; InvalidInput naming each bad one (all at once)."""
    if len(headers) > MAX_PARAMS:
        raise InvalidInput(f"at most {MAX_PARAMS} headers (got {len(headers)})", field=field)
    seen: set[str] = set()
    problems = Problems()
    for i, header in enumerate(headers):
        where = f"{field}[{i}]"
        lower = header.name.lower()
        if not HTTP_TOKEN.fullmatch(header.name) or len(header.name) > MAX_PARAM_NAME:
            problems.add(
                f"{where}.name",
                f"{header.name!r:.80} is not a valid header name (an HTTP token: letters, "
                "digits and !#$%&'*+-.^_`|~, at most 256)",
            )
        elif lower in RESERVED_HEADERS or lower.startswith(RESERVED_HEADER_PREFIX):
            problems.add(
                f"{where}.name",
                f"{header.name!r} is reserved: apicron sets it itself "
                "(reserved: Host, Content-Length, Authorization, X-HW-ID, X-HW-AppKey, "
                "Transfer-Encoding, Connection, X-Apicron-*)",
            )
        elif lower in seen:
            problems.add(f"{where}.name", f"header {header.name!r} is given twice")
        seen.add(lower)
        if any(c in header.value for c in "\r\n\0"):
            problems.add(f"{where}.value",
                         "must not contain CR, LF or NUL characters (header injection)")
        elif len(header.value) > MAX_PARAM_VALUE:
            problems.add(f"{where}.value", f"must be at most {MAX_PARAM_VALUE} characters")
    problems.raise_any()


def check_query(field: str, query: Sequence[NameValue]) -> None:
    """Query parameters may repeat a name (seed: Parameters), so only shape is checked;
    InvalidInput naming each bad one (all at once)."""
    if len(query) > MAX_PARAMS:
        raise InvalidInput(f"at most {MAX_PARAMS} parameters (got {len(query)})", field=field)
    problems = Problems()
    for i, param in enumerate(query):
        if not param.name or len(param.name) > MAX_PARAM_NAME:
            problems.add(f"{field}[{i}].name", "must be 1-256 characters")
        if len(param.value) > MAX_PARAM_VALUE:
            problems.add(f"{field}[{i}].value", f"must be at most {MAX_PARAM_VALUE} characters")
    problems.raise_any()


def check_body_content(field: str, content_type: str, content: str) -> None:
    size = len(content.encode("utf-8", "surrogatepass"))
    if size > BODY_MAX_BYTES:
        raise TooLarge(f"must be at most 1 MiB (got {size} bytes)", field=field)
    if content_type == "application/json":
        try:
            json.loads(content)
        except ValueError as exc:
            raise InvalidInput(
                f"is not valid JSON for content type application/json ({exc})", field=field
            ) from None
        except RecursionError:
            # Python's JSON reader recurses once per level: about a thousand levels is its end.
            raise InvalidInput(
                "is JSON nested too deeply to check (hundreds of levels of arrays or objects)",
                field=field,
            ) from None
    elif content_type == "application/xml":
        try:
            SafeElementTree.fromstring(content)
        except Exception as exc:  # defusedxml raises several unrelated kinds
            raise InvalidInput(
                f"is not well-formed XML for content type application/xml ({exc})", field=field
            ) from None


def check_body_allowed(field: str, method: str) -> None:
    if method not in BODY_METHODS:
        raise InvalidInput(
            f"a body can only be sent with POST, PUT or PATCH; the API's method is {method}",
            field=field,
        )


def check_api_path(field: str, path: str) -> list[str]:
    """Validate an API path template and return its parameter names."""
    if not path.startswith("/") or len(path) > PATH_MAX:
        raise InvalidInput("must start with '/' and be at most 1024 characters", field=field)
    if path == "/":
        return []
    segments = path[1:].split("/")
    if segments[-1] == "":
        segments = segments[:-1]
    for segment in segments:
        if not PATH_SEGMENT.fullmatch(segment):
            raise InvalidInput(
                f"segment {segment!r:.80} is invalid: use URL path characters, or a whole "
                "segment {name} for a path parameter",
                field=field,
            )
        if not _PERCENT_ESCAPES.fullmatch(segment):
            raise InvalidInput(
                f"segment {segment!r:.80} has a '%' that does not start an escape %XX",
                field=field,
            )
        decoded = unquote(segment)
        # Encoded dot segments are dot segments once a proxy normalises the path (RFC 3986).
        if decoded in (".", ".."):
            raise InvalidInput(
                "must not contain '.' or '..' segments, percent-encoded or not", field=field
            )
        if any(unicodedata.category(c) == "Cc" for c in decoded):
            raise InvalidInput(
                f"segment {segment!r:.80} encodes a control character", field=field
            )
    names = PATH_PARAM.findall(path)
    if len(names) != len(set(names)):
        raise InvalidInput("a path parameter name is used twice", field=field)
    return names


def split_path_params(
    field: str, api_path: str, query: Sequence[NameValue]
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """A task fills its API's ``{name}`` path segments from its Parameters (query entries
    of the same name, as the seed's "Parameters" covers the API's parameters); the rest
    stay query parameters. Returns (path values, remaining query)."""
    names = PATH_PARAM.findall(api_path)
    values: dict[str, str] = {}
    remaining: list[tuple[str, str]] = []
    for param in query:
        if param.name in names:
            if param.name in values:
                raise InvalidInput(
                    f"path parameter {param.name!r} is given twice", field=field
                )
            values[param.name] = param.value
        else:
            remaining.append((param.name, param.value))
    missing = [n for n in names if n not in values]
    if missing:
        # Every missing one, so that one answer is enough to fix them.
        needed = ", ".join("{" + n + "}" for n in missing)
        named = ", ".join(repr(n) for n in missing)
        parameters = "parameters" if len(missing) > 1 else "a parameter"
        raise InvalidInput(
            f"the API path {api_path} needs a value for {needed}: add {parameters} "
            f"named {named}",
            field=field,
        )
    return values, remaining


def fill_path(api_path: str, values: Mapping[str, str]) -> str:
    """The API path with each ``{name}`` replaced by ``values[name]``, percent-encoded
    whole (``safe=""``: a ``/`` in a value stays inside its segment), as the engine sends
    it and as the console shows it. ``values`` must hold every name (see
    :func:`split_path_params`); raises KeyError otherwise."""
    return PATH_PARAM.sub(lambda m: quote(values[m.group(1)], safe=""), api_path)


def route_key(method: str, path: str) -> str:
    """Two published APIs conflict when method and path match, whatever the parameter names."""
    normalized = PATH_PARAM.sub("{}", path.rstrip("/") or "/")
    return f"{method} {normalized}"


def check_backend_url(field: str, url: str, path_params: Sequence[str]) -> None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(f"is not a valid URL ({exc})", field=field) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("must be an absolute http:// or https:// URL with a host", field=field)
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(
            "must not contain credentials; the gateway authenticates callers itself",
            field=field,
        )
    if parts.fragment:
        raise InvalidInput("must not contain a #fragment", field=field)
    if port == 0:
        raise InvalidInput("port must be 1-65535", field=field)
    # urlsplit silently drops leading C0 controls and keeps the rest: refuse them all here.
    if any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf") for c in url):
        raise InvalidInput("must not contain whitespace or control characters", field=field)
    for name in PATH_PARAM.findall(parts.path):
        if name not in path_params:
            raise InvalidInput(
                f"uses path parameter {{{name}}} that the API path does not define", field=field
            )
    check_backend_host(field, parts.hostname)


def forbidden_address(host: str) -> str | None:
    """The refused address ``host`` denotes, if it is an address in a refused network.

    Also catches the spellings a resolver accepts for an IPv4 address without Python
    calling them addresses (``0xa9.254.169.254``, ``2852039166``, octal parts) and
    IPv4-mapped IPv6 (``::ffff:169.254.169.254``).
    """
    bare = host.strip("[]").split("%", 1)[0]
    address: ipaddress.IPv4Address | ipaddress.IPv6Address
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address) if any(address in net for net in FORBIDDEN_NETWORKS) else None


def check_backend_host(field: str, host: str) -> None:
    address = forbidden_address(host)
    if address is not None:
        raise InvalidInput(
            f"points at {address}, a link-local / cloud-metadata address, which is refused",
            field=field,
        )


def whole_seconds(value: datetime) -> datetime:
    """Schedules have one-second resolution; sub-second parts would make equality fragile."""
    return value.replace(microsecond=0)
