"""The outbound policy where the gateway connects (:mod:`apicron.outbound` has the rules).

:class:`GuardedResolver` wraps aiohttp's resolver and drops refused addresses from each
answer, raising :class:`ForbiddenAddress` when none is left, so a host name that resolves,
or is made to resolve later (DNS rebinding), to a refused address is caught on the answer
aiohttp actually connects to; ``OutboundPolicy.socket_factory`` (given to the connector by
:func:`apicron.gateway.proxy.backend_session`) checks every socket's address before it
connects, literal addresses included, which aiohttp does not resolve.
"""

from __future__ import annotations

import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from apicron.outbound import ForbiddenAddress, OutboundPolicy, is_forbidden

__all__ = ["ForbiddenAddress", "GuardedResolver", "OutboundPolicy", "is_forbidden"]


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that never answers an address the policy refuses."""

    def __init__(
        self, inner: AbstractResolver | None = None, policy: OutboundPolicy | None = None
    ):
        self._inner = inner if inner is not None else DefaultResolver()
        self._policy = policy if policy is not None else OutboundPolicy.default()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        allowed = [a for a in answers if self._policy.refused(a["host"]) is None]
        if answers and not allowed:
            raise ForbiddenAddress(host, [answer["host"] for answer in answers])
        return allowed

    async def close(self) -> None:
        await self._inner.close()
