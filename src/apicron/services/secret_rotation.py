"""Stored credentials and APICRON_SECRET_KEY: checked at start, re-encrypted on demand.

Rotating the key (DESIGN: "the first encrypts, all decrypt"): put the new key first on
every node (``NEW,OLD``) and restart them, run ``apicron secret-key rotate``
(:func:`rotate_stored_credentials`: every stored credential re-encrypted under the first
key, in one transaction), then drop ``OLD`` from every node.

:func:`check_stored_credentials` runs at every start: a node none of whose keys reads any
stored credential has the wrong key altogether and refuses to start; one that cannot read
some (a key retired before rotating) starts, says which in one log line, and the calls of
those apps fail cleanly (gateway 500 ``CREDENTIAL_UNREADABLE``, executions ``CONFIG``).
"""

from __future__ import annotations

import logging

from apicron.crypto import SecretBox, SecretUnreadable
from apicron.domain.errors import ConfigurationError
from apicron.services.context import Context
from apicron.store.store import Store, StoredCredential

log = logging.getLogger("apicron")

_NAMED = 10  # a message names this many credentials at most


def _describe(credentials: list[StoredCredential]) -> str:
    named = ", ".join(f"{c.kind} {c.name!r} (id {c.id})" for c in credentials[:_NAMED])
    more = len(credentials) - _NAMED
    return named + (f" and {more} more" if more > 0 else "")


def unreadable_credentials(store: Store, box: SecretBox) -> list[StoredCredential]:
    """The stored credentials no key of ``box`` decrypts (each is tried once)."""
    with store.read() as q:
        credentials = q.list_encrypted_credentials()
    unreadable = []
    for credential in credentials:
        try:
            box.decrypt(credential.encrypted)
        except SecretUnreadable:
            unreadable.append(credential)
    return unreadable


def check_stored_credentials(store: Store, box: SecretBox) -> None:
    """Start-up check: raise when nothing stored can be read (the wrong key altogether),
    log one ERROR line naming what cannot be read when only some can't."""
    with store.read() as q:
        total = len(q.list_encrypted_credentials())
    unreadable = unreadable_credentials(store, box)
    if not unreadable:
        return
    if len(unreadable) == total:
        raise ConfigurationError(
            "a stored secret cannot be decrypted with APICRON_SECRET_KEY: the key changed "
            "without keeping the old one, or this node has another key than the others "
            f"(every node of an instance needs the same key); none of {total} can be read"
        )
    log.error(
        "%d stored credential(s) cannot be decrypted with APICRON_SECRET_KEY: %s; calls by "
        "these apps and to their APIs fail (CONFIG) until the key they were encrypted with "
        "is configured again (after the new one), then run `apicron secret-key rotate`",
        len(unreadable), _describe(unreadable),
    )


def rotate_stored_credentials(ctx: Context) -> int:
    """Re-encrypt every stored credential under the first key of ``ctx.secrets``, in one
    transaction; return how many. Raises :class:`ConfigurationError` naming the ones no
    configured key can decrypt, and then changes nothing."""
    with ctx.changing() as q:
        credentials = q.list_encrypted_credentials()
        rotated: list[tuple[StoredCredential, str]] = []
        unreadable: list[StoredCredential] = []
        for credential in credentials:
            try:
                rotated.append((credential, ctx.secrets.rotate(credential.encrypted)))
            except SecretUnreadable:
                unreadable.append(credential)
        if unreadable:
            raise ConfigurationError(
                f"nothing was re-encrypted: {len(unreadable)} stored credential(s) cannot be "
                f"decrypted with any key of APICRON_SECRET_KEY: {_describe(unreadable)}; add "
                "the key they were encrypted with (after the new one) and run this again"
            )
        for credential, encrypted in rotated:
            q.set_encrypted_credential(credential, encrypted)
    return len(rotated)
