"""Backend addresses the gateway refuses to call: link-local and cloud-metadata.

``apicron.domain.rules`` refuses such literal addresses when an API is saved; a host *name*
can still resolve to one (or be made to, later: DNS rebinding), so the check is made again
on every connection, on the addresses actually connected to. :class:`GuardedResolver`
wraps aiohttp's resolver and drops refused addresses from each answer; when none is left it
raises :class:`ForbiddenAddress`, which aiohttp reports as a ``ClientConnectorError``
carrying it as ``os_error``. aiohttp does not resolve literal addresses, so
:func:`check_literal_host` covers those before the call.
"""

from __future__ import annotations

import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from apicron.domain.rules import forbidden_address


class ForbiddenAddress(OSError):
    """A backend host that is, or resolves only to, refused addresses."""

    def __init__(self, host: str, addresses: list[str]):
        self.host = host
        self.addresses = addresses
        shown = ", ".join(addresses[:3])
        resolves = "" if addresses == [host] else f" resolves to {shown}, which"
        super().__init__(
            f"backend host {host}{resolves} is a link-local / cloud-metadata address; "
            "the gateway refuses to call it"
        )


def is_forbidden(address: str) -> bool:
    """Whether an IP address (text, IPv6 zone allowed) is in a refused network."""
    return forbidden_address(address) is not None


def check_literal_host(host: str) -> None:
    """Raise :class:`ForbiddenAddress` for a literal IP host in a refused network."""
    bare = host.strip("[]")
    if is_forbidden(bare):
        raise ForbiddenAddress(bare, [bare])


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that never answers a refused address."""

    def __init__(self, inner: AbstractResolver | None = None):
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        allowed = [answer for answer in answers if not is_forbidden(answer["host"])]
        if answers and not allowed:
            raise ForbiddenAddress(host, [answer["host"] for answer in answers])
        return allowed

    async def close(self) -> None:
        await self._inner.close()
