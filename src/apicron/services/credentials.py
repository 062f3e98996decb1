"""Passwords and personal API tokens: how they are made, stored and checked.

Passwords are hashed with Argon2id (argon2-cffi's default parameters, RFC 9106's
"second recommended" profile: 64 MiB, 3 passes, 4 lanes): a person's password has little
entropy, and a slow, memory-hard hash is what keeps a stolen table from being guessed.

API tokens are 256 random bits, so they are stored as their plain SHA-256: nothing can be
guessed from the hash of a value no one can enumerate, and a fast hash lets every request
find its token with one indexed lookup (Argon2 there would cost ~50 ms and 64 MiB per
request, and need the token's id sent alongside it). A keyed hash (HMAC with a pepper)
adds nothing against a 256-bit secret and would tie every token to APICRON_SECRET_KEY, so
that rotating the key would revoke them all.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

TOKEN_PREFIX = "apc_"  # noqa: S105 - a prefix: secret scanners and people can tell it


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (an Argon2 hash). With no hash (an unknown
    user, or one without a password) a dummy hash is checked anyway, so the answer takes
    as long either way and does not tell which usernames exist."""
    try:
        return _hasher().verify(stored or _dummy_hash(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made with other parameters than today's (then the login
    that just verified it stores a new hash)."""
    return _hasher().check_needs_rehash(stored)


def new_api_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
