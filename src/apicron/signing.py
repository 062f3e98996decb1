"""SDK-HMAC-SHA256 request signing: the Huawei API Gateway "app authentication" scheme.

A client holds an app *key* (public, sent in every request) and an app *secret* (never
sent). It signs each request with :func:`sign_request`; the gateway checks it with
:func:`verify_request`. Both sides build the same *canonical request* from the method, the
path, the query, the signed headers and the body, so any change to one of those on the way
breaks the signature.

Signing a request (any HTTP client)
-----------------------------------
::

    import json
    from apicron.signing import sign_request

    url = "https://gateway.example.com/v1/orders?limit=2&tag=new"
    body = json.dumps({"item": "book"}).encode()
    headers = sign_request(
        "POST", url, {"Content-Type": "application/json"}, body,
        key=APP_KEY, secret=APP_SECRET,
    )

    # httpx
    httpx.post(url, content=body, headers=headers)
    # requests
    requests.post(url, data=body, headers=headers)
    # aiohttp
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers=headers) as response:
            ...

``headers`` is the given headers plus ``X-Sdk-Date``, ``Host`` (taken from the URL when not
given) and ``Authorization``. Rules of thumb:

* Sign the full URL, query included, and send that URL and exactly the body you signed
  (to use ``params=``, build the URL first, e.g. ``str(httpx.URL(url, params=params))``).
  How the library percent-encodes it does not matter: the path and query are decoded and
  re-encoded on both sides. In a query ``+`` means a space, as in HTML forms (aiohttp and
  ``params=`` send spaces that way); write a literal plus as ``%2B``.
* Avoid ``.`` and ``..`` path segments: libraries resolve them before sending.
* Sign just before sending: the gateway rejects an ``X-Sdk-Date`` more than 15 minutes away
  from its own clock, in either direction.
* Headers the library adds after signing (``User-Agent``, ``Content-Length``,
  ``Accept-Encoding``) are not signed and do not matter. Headers whose name contains ``_``
  are never signed (many proxies drop them). Keep signed header values ASCII.
* To sign a large or streamed body without hashing it, pass the header
  ``X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD``; the body is then not protected.

Verifying (the gateway)
-----------------------
::

    body = await request.read()
    app_key = verify_request(
        request.method, request.raw_path, "", request.headers, body,
        secret_for_key=secrets.get, now=datetime.now(UTC),
    )

``raw_path`` is the path as it arrived, percent-encoding intact, and may carry the query
after ``?`` (aiohttp's ``request.raw_path`` does); it is used when ``query`` is empty.
``query`` may also be decoded pairs (``list(request.query.items())``); the raw string is
preferred, as it keeps bytes that are not UTF-8.

Every failure raises :class:`~apicron.domain.errors.Unauthorized` with a message a person can
act on; no message contains the secret or the expected signature.

The gateway requires, beyond a matching signature: ``x-sdk-date`` among SignedHeaders and
within ``max_skew`` of its clock; ``host`` among SignedHeaders, always (so a signature made
for one host cannot be replayed against another; HTTP/1.0 requests must send Host); every
signed header present exactly once; ``x-sdk-content-sha256`` signed when present and, unless
it is ``UNSIGNED-PAYLOAD``, equal to the SHA-256 of the body.

Debugging a client
------------------
:func:`canonical_request` and :func:`string_to_sign` are what the gateway computes. When a
request fails with "signature does not match", the message carries the SHA-256 of the
gateway's canonical request, which is the last line of :func:`string_to_sign`; compute yours
for the same request and compare the two canonical requests line by line.

The canonical request is, one item per line: the method in upper case; the path with every
segment percent-decoded then re-encoded (only ``A-Z a-z 0-9 - _ . ~`` kept) and ending in
``/``; the query pairs (``+`` read as a space) sorted by name then value, encoded the same
way, joined as ``name=value`` with ``&``; one ``name:trimmed value`` line per signed header,
then an empty line; the signed header names joined with ``;``; the hex SHA-256 of the body
(or the value of ``X-Sdk-Content-Sha256``). Path segments are decoded one by one, so ``%2F``
inside a segment stays distinct from ``/``.

Verifying apicron's own calls (a backend)
-----------------------------------------
Every call apicron's scheduler makes carries the occurrence it is for, in
``X-Apicron-Task-Id``, ``X-Apicron-Execution-Id`` (the same for every retry),
``X-Apicron-Scheduled-Time`` (RFC 3339, UTC) and ``X-Apicron-Attempt`` (1, 2, …), and
``X-Apicron-Occurrence-Signature: v1=<hex>`` over them, the method and the body. The gateway
removes every ``X-Apicron-*`` header a caller sends, so only the scheduler sets them; the
signature lets a backend that can also be reached another way prove it, and prove that the
four values were not changed on the way::

    from apicron.signing import occurrence_key, verify_occurrence

    KEY = occurrence_key(OWNER_APP_SECRET, API_ID)   # once, at deployment
    occurrence = verify_occurrence(KEY, request.method, request.headers, body)
    # occurrence.execution_id: deduplicate on it

The key is per API and derived, never stored: :func:`occurrence_key` of the secret of the
app that owns the API (its group's app) and the API's id. Whoever holds that secret can
compute it and give it to the backend; resetting the app's secret changes it. The backend
never needs the app secret itself. In another language: the key is the lower-case hex
HMAC-SHA256 keyed with the app secret (UTF-8) of ``apicron-occurrence-key-v1\n<api id>``;
the signature is the lower-case hex HMAC-SHA256 keyed with that hex text (as ASCII) of
:func:`occurrence_string`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import SplitResult, quote, unquote, unquote_plus, urlsplit

from apicron.domain.errors import InvalidInput, Unauthorized

__all__ = [
    "ALGORITHM",
    "CONTENT_SHA256_HEADER",
    "DATE_FORMAT",
    "DATE_HEADER",
    "DEFAULT_MAX_SKEW",
    "OCCURRENCE_SIGNATURE_HEADER",
    "UNSIGNED_PAYLOAD",
    "Occurrence",
    "SignedAuthorization",
    "canonical_query",
    "canonical_request",
    "occurrence_key",
    "occurrence_string",
    "parse_authorization",
    "sign_occurrence",
    "sign_request",
    "string_to_sign",
    "verify_occurrence",
    "verify_request",
]

ALGORITHM = "SDK-HMAC-SHA256"
DATE_HEADER = "X-Sdk-Date"
CONTENT_SHA256_HEADER = "X-Sdk-Content-Sha256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
DEFAULT_MAX_SKEW = timedelta(minutes=15)

_DATE = "x-sdk-date"
_CONTENT_SHA256 = "x-sdk-content-sha256"
_AUTHORIZATION = "authorization"
_HOST = "host"
_EXPECTED_FORM = f"'{ALGORITHM} Access=<app key>, SignedHeaders=<a;b;c>, Signature=<hex>'"

_UNRESERVED = re.compile(r"[A-Za-z0-9\-_.~]*")
_DATE_VALUE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z")
_ACCESS_KEY = re.compile(r"[!-~]{1,256}")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+")
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class SignedAuthorization:
    """The parts of an ``Authorization: SDK-HMAC-SHA256 ...`` header."""

    key: str
    signed_headers: tuple[str, ...]
    signature: str  # 64 lower-case hex digits


# -- canonical request ------------------------------------------------------------------


def _encode(text: str) -> str:
    """Percent-encode ``text`` as UTF-8, keeping only the unreserved characters."""
    if _UNRESERVED.fullmatch(text):
        return text
    # surrogateescape: bytes that are not UTF-8 (decoded by unquote or by the HTTP server
    # with surrogateescape) encode back to the very same bytes.
    return quote(text, safe="", errors="surrogateescape")


def _canonical_uri(path: str) -> str:
    segments = []
    for segment in path.split("/"):
        if not _UNRESERVED.fullmatch(segment):
            segment = _encode(unquote(segment, errors="surrogateescape"))
        segments.append(segment)
    uri = "/".join(segments)
    return uri if uri.endswith("/") else uri + "/"


def _decode_query_part(text: str) -> str:
    """Form-style decoding: ``+`` is a space, then percent-decoding."""
    if "%" in text or "+" in text:
        return unquote_plus(text, errors="surrogateescape")
    return text


def _parse_query(query: str) -> list[tuple[str, str]]:
    pairs = []
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name:
            pairs.append((_decode_query_part(name), _decode_query_part(value)))
    return pairs


def _canonical_query(query: Sequence[tuple[str, str]] | str) -> str:
    pairs = _parse_query(query) if isinstance(query, str) else [p for p in query if p[0]]
    return "&".join(f"{_encode(name)}={_encode(value)}" for name, value in sorted(pairs))


def canonical_query(query: str) -> str:
    """The canonical form of a raw query string: what a signature covers of it.

    Pairs sorted by name then value, each part decoded (``+`` is a space) and re-encoded
    keeping only ``A-Z a-z 0-9 - _ . ~``; a name without ``=`` gets an empty value; empty
    parts (``&&``) are not parameters and vanish. A gateway that forwards this instead of
    the query as received hands its backend exactly what was signed. Raises
    :class:`~apicron.domain.errors.InvalidInput` (field ``query``) for a part with an empty
    name (``=x``): the canonical form drops it, so no signature can cover it.

    >>> canonical_query("b=2&a=x+y&a=1&flag&&")
    'a=1&a=x%20y&b=2&flag='
    """
    for part in query.split("&"):
        if part and not part.partition("=")[0]:
            raise InvalidInput(
                f"has a parameter with an empty name ({_shown(part)}), which a signature "
                "cannot cover (SDK-HMAC-SHA256 leaves it out of the canonical query); remove it",
                field="query",
            )
    return _canonical_query(query)


def _split_target(
    path: str, query: Sequence[tuple[str, str]] | str
) -> tuple[str, Sequence[tuple[str, str]] | str]:
    """Separate the query from a request target; ``query`` wins when it is not empty."""
    target_query = ""
    if not path.startswith("/") and "://" in path:  # absolute-form request target
        parts = urlsplit(path)
        path, target_query = parts.path, parts.query
    elif "?" in path:
        path, _, target_query = path.partition("?")
    return path, (query if query else target_query)


def _payload_hash(lowered: Mapping[str, str], body: bytes | str) -> str:
    declared = lowered.get(_CONTENT_SHA256)
    if declared is not None:
        return declared.strip()
    data = body.encode("utf-8") if isinstance(body, str) else body
    return hashlib.sha256(data).hexdigest()


def _canonical(
    method: str,
    path: str,
    query: Sequence[tuple[str, str]] | str,
    lowered: Mapping[str, str],
    signed_headers: Sequence[str],
    payload_hash: str,
) -> str:
    path, query = _split_target(path, query)
    header_lines = "".join(f"{name}:{lowered[name].strip()}\n" for name in signed_headers)
    return (
        f"{method.upper()}\n{_canonical_uri(path)}\n{_canonical_query(query)}\n"
        f"{header_lines}\n{';'.join(signed_headers)}\n{payload_hash}"
    )


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _default_signed_headers(lowered: Mapping[str, str]) -> list[str]:
    return sorted(name for name in lowered if "_" not in name and name != _AUTHORIZATION)


def canonical_request(
    method: str,
    path: str,
    query: Sequence[tuple[str, str]] | str,
    headers: Mapping[str, str],
    signed_headers: Sequence[str] | None = None,
    body: bytes | str = b"",
) -> str:
    """The canonical request the gateway signs and checks, for debugging a client.

    ``path`` is the URL path (raw or decoded: segments are decoded before being re-encoded)
    and may carry ``?query``, used when ``query`` is empty; a full URL works too (its host is
    not part of the canonical request, the Host header is). ``query`` is a raw query string
    (``"limit=2&marker=x"``) or decoded ``(name, value)`` pairs. ``headers`` are the headers
    sent, looked up case-insensitively; ``signed_headers`` are the lower-case names to sign
    (default: every header except Authorization and names containing ``_``, sorted, as
    :func:`sign_request` does).

    >>> print(canonical_request("get", "/v1/a b", "x=1", {"Host": "h", "X-Sdk-Date": "d"}))
    GET
    /v1/a%20b/
    x=1
    host:h
    x-sdk-date:d
    <BLANKLINE>
    host;x-sdk-date
    e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    names = _default_signed_headers(lowered) if signed_headers is None else list(signed_headers)
    missing = [name for name in names if name not in lowered]
    if missing:
        raise InvalidInput(
            f"{', '.join(missing)} must be among the headers to be signed", field="signed_headers"
        )
    return _canonical(method, path, query, lowered, names, _payload_hash(lowered, body))


def string_to_sign(sdk_date: str, canonical: str) -> str:
    """``SDK-HMAC-SHA256``, the X-Sdk-Date value and the hex SHA-256 of ``canonical``.

    The signature is the hex HMAC-SHA256 of this string keyed with the app secret.
    """
    return f"{ALGORITHM}\n{sdk_date}\n{_sha256_hex(canonical)}"


def _signature(secret: str, sdk_date: str, canonical: str) -> str:
    message = string_to_sign(sdk_date, canonical).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


# -- client side ------------------------------------------------------------------------


def _format_date(moment: datetime) -> str:
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.strftime(DATE_FORMAT)


def _host_of(parts: SplitResult) -> str:
    host = parts.netloc.rpartition("@")[2]
    if not host.isascii() and parts.hostname:
        port = f":{parts.port}" if parts.port is not None else ""
        host = parts.hostname.encode("idna").decode("ascii") + port
    return host


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str] | None,
    body: bytes | str = b"",
    *,
    key: str,
    secret: str,
    sdk_date: datetime | None = None,
) -> dict[str, str]:
    """Sign a request; return the headers to send.

    The result holds the given headers (names as given; any Authorization replaced),
    ``X-Sdk-Date`` unless one is given in any case (``sdk_date``, default now, naive meaning
    UTC), ``Host`` from the URL unless given, and ``Authorization``. Every header is signed
    except those whose name contains ``_``. ``body`` (str is sent as UTF-8) must be what is
    sent. Raises :class:`~apicron.domain.errors.InvalidInput` when the request cannot be
    signed (a header given twice, a key the gateway would not accept, no host).
    """
    if not _ACCESS_KEY.fullmatch(key) or "," in key:
        raise InvalidInput("must be 1 to 256 printable ASCII characters, no comma", field="key")
    parts = urlsplit(url)
    result: dict[str, str] = {}
    lowered: dict[str, str] = {}
    for name, value in (headers or {}).items():
        low = name.lower()
        if low == _AUTHORIZATION:
            continue
        if low in lowered:
            raise InvalidInput(f"{name} is given twice (in different cases)", field="headers")
        if not _HEADER_NAME.fullmatch(low):
            raise InvalidInput(f"{name!r} is not a valid HTTP header name", field="headers")
        result[name] = value
        lowered[low] = value
    if _DATE not in lowered:
        date = _format_date(sdk_date if sdk_date is not None else datetime.now(UTC))
        result[DATE_HEADER] = lowered[_DATE] = date
    if _HOST not in lowered:
        host = _host_of(parts)
        if not host:
            raise InvalidInput("has no host; give an absolute URL or a Host header", field="url")
        result["Host"] = lowered[_HOST] = host
    signed = _default_signed_headers(lowered)
    canonical = _canonical(
        method, parts.path, parts.query, lowered, signed, _payload_hash(lowered, body)
    )
    signature = _signature(secret, lowered[_DATE].strip(), canonical)
    result["Authorization"] = (
        f"{ALGORITHM} Access={key}, SignedHeaders={';'.join(signed)}, Signature={signature}"
    )
    return result


# -- gateway side -----------------------------------------------------------------------


def _shown(text: str, limit: int = 40) -> str:
    """A client-supplied fragment, safe to put in a message (quoted, escaped, short)."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def parse_authorization(value: str) -> SignedAuthorization:
    """Parse ``SDK-HMAC-SHA256 Access=<key>, SignedHeaders=<a;b>, Signature=<hex>``.

    Parameters may come in any order, with spaces around ``,`` and ``=``; each must appear
    once. Raises :class:`~apicron.domain.errors.Unauthorized` on anything malformed.
    """
    words = value.split(None, 1)
    if not words:
        raise Unauthorized(f"Authorization header is empty; expected {_EXPECTED_FORM}")
    if words[0].upper() != ALGORITHM:
        raise Unauthorized(
            f"Authorization header is not {ALGORITHM} (its scheme is {_shown(words[0], 20)}); "
            f"expected {_EXPECTED_FORM}"
        )
    params: dict[str, str] = {}
    for part in words[1].split(",") if len(words) > 1 else ():
        name, equals, param = part.partition("=")
        name, param = name.strip(), param.strip()
        if name not in ("Access", "SignedHeaders", "Signature"):
            problem = f"has unknown parameter {_shown(name)}" if name else "has an empty parameter"
            raise Unauthorized(f"Authorization {problem}; expected {_EXPECTED_FORM}")
        if name in params:
            raise Unauthorized(f"Authorization has {name} more than once")
        if not equals or not param:
            raise Unauthorized(f"Authorization has no value for {name}")
        params[name] = param
    absent = [name for name in ("Access", "SignedHeaders", "Signature") if name not in params]
    if absent:
        raise Unauthorized(f"Authorization lacks {', '.join(absent)}; expected {_EXPECTED_FORM}")

    key = params["Access"]
    if not _ACCESS_KEY.fullmatch(key):
        raise Unauthorized("Authorization Access must be the app key (printable ASCII, no space)")
    signed = tuple(params["SignedHeaders"].split(";"))
    for name in signed:
        if not name:
            raise Unauthorized("SignedHeaders has an empty name (';' twice or at an end)")
        if not _HEADER_NAME.fullmatch(name):
            raise Unauthorized(
                f"SignedHeaders has {_shown(name)}, which is not a lower-case header name"
            )
    if len(set(signed)) != len(signed):
        raise Unauthorized("SignedHeaders names a header more than once")
    if _AUTHORIZATION in signed:
        raise Unauthorized("SignedHeaders must not include authorization (it cannot sign itself)")
    signature = params["Signature"]
    if not _HEX_SHA256.fullmatch(signature):
        raise Unauthorized("Authorization Signature must be 64 hex digits (an HMAC-SHA256)")
    return SignedAuthorization(key=key, signed_headers=signed, signature=signature.lower())


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _duration(delta: timedelta) -> str:
    seconds = math.ceil(abs(delta.total_seconds()))
    if seconds < 60:
        return _plural(seconds, "second")
    if seconds < 2 * 3600:
        minutes, rest = divmod(seconds, 60)
        return _plural(minutes, "minute") + (f" {_plural(rest, 'second')}" if rest else "")
    if seconds < 2 * 86400:
        return f"about {_plural(seconds // 3600, 'hour')}"
    return f"about {_plural(seconds // 86400, 'day')}"


def _check_date(
    value: str, now: datetime, max_skew: timedelta, max_future_skew: timedelta
) -> str:
    """Return the stripped X-Sdk-Date after checking its form and its distance from ``now``."""
    value = value.strip()
    match = _DATE_VALUE.fullmatch(value)
    when = None
    if match:
        year, month, day, hour, minute, second = (int(group) for group in match.groups())
        try:
            when = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except ValueError:  # month 13, February 30…
            when = None
    if when is None:
        raise Unauthorized(
            f"X-Sdk-Date {_shown(value)} is not a UTC time like 20191115T033655Z "
            f"(format {DATE_FORMAT})"
        )
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    skew = when - now
    ahead = skew > timedelta(0)
    limit = max_future_skew if ahead else max_skew
    if abs(skew) > limit:
        side = "ahead of" if ahead else "behind"
        raise Unauthorized(
            f"X-Sdk-Date {value} is {_duration(skew)} {side} the gateway clock "
            f"(limit {_duration(limit)}); sync the client clock and sign each request "
            "just before sending it"
        )
    return value


def verify_request(
    method: str,
    raw_path: str,
    query: Sequence[tuple[str, str]] | str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    secret_for_key: Callable[[str], str | None],
    now: datetime,
    max_skew: timedelta = DEFAULT_MAX_SKEW,
    allow_unsigned_payload: bool = True,
    max_future_skew: timedelta | None = None,
) -> str:
    """Check an SDK-HMAC-SHA256 signed request; return the app key it was signed with.

    ``raw_path`` is the path as received (percent-encoding intact), optionally with
    ``?query``, used when ``query`` is empty; ``query`` is the raw query string or decoded
    pairs. ``headers`` is any mapping, looked up case-insensitively; with a multi-dict (such
    as aiohttp's ``request.headers``) a signed header present twice is rejected.
    ``secret_for_key`` returns the app secret or ``None`` for an unknown key. ``now`` (naive
    meaning UTC) is the gateway clock; X-Sdk-Date may be ``max_skew`` behind it and
    ``max_future_skew`` (default: ``max_skew``) ahead of it.
    ``allow_unsigned_payload=False`` refuses ``X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD``;
    when it is allowed and sent, ``body`` is not read (a gateway may stream it instead).

    Raises :class:`~apicron.domain.errors.Unauthorized` on every failure; errors raised by
    ``secret_for_key`` propagate.
    """
    lowered: dict[str, str] = {}
    repeated: set[str] = set()
    for name, header_value in headers.items():
        low = name.lower()
        if low in lowered:
            repeated.add(low)
        else:
            lowered[low] = header_value

    authorization = lowered.get(_AUTHORIZATION)
    if authorization is None:
        raise Unauthorized(
            f"Authorization header is missing; sign the request with {ALGORITHM} "
            "(apicron.signing.sign_request)"
        )
    if _AUTHORIZATION in repeated:
        raise Unauthorized("Authorization header appears more than once")
    auth = parse_authorization(authorization)
    signed = auth.signed_headers

    if _DATE not in signed:
        raise Unauthorized("SignedHeaders must include x-sdk-date")
    sdk_date = lowered.get(_DATE)
    if sdk_date is None:
        raise Unauthorized(
            f"X-Sdk-Date header is missing; send the UTC signing time as {DATE_FORMAT}"
        )
    sdk_date = _check_date(
        sdk_date, now, max_skew, max_skew if max_future_skew is None else max_future_skew
    )
    if _HOST not in signed:
        # Even without a Host header (HTTP/1.0): a signature that names no host would be
        # valid against every gateway that knows the app.
        raise Unauthorized(
            "SignedHeaders must include host (send a Host header and sign it; "
            "apicron.signing.sign_request does)"
        )
    for name in signed:
        if name not in lowered:
            raise Unauthorized(f"SignedHeaders lists {name} but the request has no such header")
        if name in repeated:
            raise Unauthorized(f"signed header {name} appears more than once in the request")

    declared = lowered.get(_CONTENT_SHA256)
    if declared is None:
        payload_hash = hashlib.sha256(body).hexdigest()
    else:
        if _CONTENT_SHA256 not in signed:
            raise Unauthorized("SignedHeaders must include x-sdk-content-sha256 when it is sent")
        payload_hash = declared.strip()
        if payload_hash == UNSIGNED_PAYLOAD:
            if not allow_unsigned_payload:
                raise Unauthorized(
                    f"X-Sdk-Content-Sha256: {UNSIGNED_PAYLOAD} is not accepted here; sign the body"
                )
        elif not _HEX_SHA256.fullmatch(payload_hash):
            raise Unauthorized(
                f"X-Sdk-Content-Sha256 must be {UNSIGNED_PAYLOAD} or the hex SHA-256 of the body"
            )
        elif payload_hash.lower() != hashlib.sha256(body).hexdigest():
            raise Unauthorized("X-Sdk-Content-Sha256 does not match the SHA-256 of the body")

    secret = secret_for_key(auth.key)
    if secret is None:
        raise Unauthorized(f"unknown app key {_shown(auth.key)}")

    try:
        canonical = _canonical(method, raw_path, query, lowered, signed, payload_hash)
        canonical_hash = _sha256_hex(canonical)
    except ValueError as error:  # UnicodeError (lone surrogates), a malformed absolute URL
        raise Unauthorized(f"request cannot be put in canonical form: {error}") from None
    message = f"{ALGORITHM}\n{sdk_date}\n{canonical_hash}".encode()
    expected = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, auth.signature):
        raise Unauthorized(
            "signature does not match; the gateway's canonical request has SHA-256 "
            f"{canonical_hash} (compare with apicron.signing.canonical_request for your "
            "request) — check the secret, the signed headers, and that the URL and body "
            "sent are the ones signed"
        )
    return auth.key


# -- apicron's own calls: the occurrence signature ----------------------------------------

OCCURRENCE_SIGNATURE_HEADER = "X-Apicron-Occurrence-Signature"
_OCCURRENCE_HEADERS = (
    "X-Apicron-Task-Id", "X-Apicron-Execution-Id", "X-Apicron-Scheduled-Time",
    "X-Apicron-Attempt",
)
_OCCURRENCE_VERSION = "v1"
_OCCURRENCE_KEY_LABEL = "apicron-occurrence-key-v1\n"
_OCCURRENCE_PREFIX = "APICRON-OCCURRENCE-V1"


@dataclass(frozen=True)
class Occurrence:
    """The occurrence a scheduled call is for, as its ``X-Apicron-*`` headers say."""

    task_id: str
    execution_id: str
    """The same for every attempt of one occurrence: what a backend deduplicates on."""
    scheduled_time: str
    """RFC 3339 UTC, whole seconds (``2027-03-01T08:00:00Z``)."""
    attempt: int
    """1 for the first call, then 2, 3… for retries."""


def occurrence_key(app_secret: str, api_id: str) -> str:
    """The key an API's backend verifies apicron's calls with (64 lower-case hex digits).

    ``app_secret`` is the secret of the app that owns the API (its group's app), whichever
    app's task makes the call; ``api_id`` the API's id. Derived, never stored: it changes
    when that app's secret is reset.
    """
    message = (_OCCURRENCE_KEY_LABEL + api_id).encode("utf-8")
    return hmac.new(app_secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def occurrence_string(occurrence: Occurrence, method: str, body: bytes) -> str:
    """What the occurrence signature covers, one item per line: ``APICRON-OCCURRENCE-V1``,
    task id, execution id, scheduled time, attempt, the method in upper case and the hex
    SHA-256 of the body."""
    return "\n".join((
        _OCCURRENCE_PREFIX, occurrence.task_id, occurrence.execution_id,
        occurrence.scheduled_time, str(occurrence.attempt), method.upper(),
        hashlib.sha256(body).hexdigest(),
    ))


def _occurrence_signature(key: str, occurrence: Occurrence, method: str, body: bytes) -> str:
    message = occurrence_string(occurrence, method, body).encode("utf-8")
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign_occurrence(
    key: str, occurrence: Occurrence, method: str, body: bytes
) -> dict[str, str]:
    """The five ``X-Apicron-*`` headers of one scheduled call (what the scheduler sends)."""
    values = (
        occurrence.task_id, occurrence.execution_id, occurrence.scheduled_time,
        str(occurrence.attempt),
    )
    headers = dict(zip(_OCCURRENCE_HEADERS, values, strict=True))
    signature = _occurrence_signature(key, occurrence, method, body)
    headers[OCCURRENCE_SIGNATURE_HEADER] = f"{_OCCURRENCE_VERSION}={signature}"
    return headers


def verify_occurrence(
    key: str, method: str, headers: Mapping[str, str], body: bytes
) -> Occurrence:
    """Check that a request is apicron's call for the occurrence its headers name.

    ``key`` is the API's :func:`occurrence_key`; ``method``, ``headers`` (any mapping, looked
    up case-insensitively) and ``body`` are the request as the backend received it. Returns
    the :class:`Occurrence`; raises :class:`~apicron.domain.errors.Unauthorized` when a
    header is missing or repeated or the signature does not match (tampered, another API's
    key, or not from apicron).
    """
    found: dict[str, list[str]] = {}
    wanted = {name.lower() for name in (*_OCCURRENCE_HEADERS, OCCURRENCE_SIGNATURE_HEADER)}
    for name, value in headers.items():
        if name.lower() in wanted:
            found.setdefault(name.lower(), []).append(value.strip())
    values = []
    for name in (*_OCCURRENCE_HEADERS, OCCURRENCE_SIGNATURE_HEADER):
        given = found.get(name.lower(), [])
        if len(given) != 1:
            problem = "is missing" if not given else "appears more than once"
            raise Unauthorized(f"{name} {problem}: this is not a call from apicron's scheduler")
        values.append(given[0])
    *fields, signature = values
    version, _, digest = signature.partition("=")
    if version != _OCCURRENCE_VERSION or not _HEX_SHA256.fullmatch(digest):
        raise Unauthorized(
            f"{OCCURRENCE_SIGNATURE_HEADER} must be v1=<64 hex digits>, got {_shown(signature)}"
        )
    if not fields[3].isascii() or not fields[3].isdigit():
        raise Unauthorized(f"X-Apicron-Attempt must be a number, got {_shown(fields[3])}")
    occurrence = Occurrence(fields[0], fields[1], fields[2], int(fields[3]))
    expected = _occurrence_signature(key, occurrence, method, body)
    if not hmac.compare_digest(expected, digest.lower()):
        raise Unauthorized(
            f"{OCCURRENCE_SIGNATURE_HEADER} does not match: the occurrence headers, the "
            "method or the body changed on the way, the key is not this API's, or the "
            "call is not from apicron"
        )
    return occurrence
