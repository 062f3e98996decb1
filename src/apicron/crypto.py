"""Encryption at rest for app secrets, and the files that hold apicron's own keys.

App secrets must be kept (the gateway compares them, the dispatcher sends them), so they
are encrypted with Fernet, never hashed. ``APICRON_SECRET_KEY`` may hold several keys
separated by commas: the first encrypts, all decrypt, which is how a key is rotated: put the
new key first on every node, run ``apicron secret-key rotate`` (every stored credential
re-encrypted under the first key, :mod:`apicron.services.secret_rotation`), then drop the
old key.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from apicron.domain.errors import ConfigurationError

KEY_FILE = "secret.key"
TOKEN_FILE = "admin-token"  # noqa: S105 - a file name, not a password


class SecretUnreadable(ConfigurationError):
    """A stored credential none of the configured keys decrypts."""

    code = "CREDENTIAL_UNREADABLE"


class SecretBox:
    """Encrypts with the first key of ``keys``, decrypts with any of them."""

    def __init__(self, keys: list[str]):
        try:
            self._fernet = MultiFernet([Fernet(k.strip().encode()) for k in keys])
        except (ValueError, TypeError):
            raise ConfigurationError(
                "APICRON_SECRET_KEY must be one or more Fernet keys (44 url-safe base64 "
                "characters each, comma-separated); make one with `apicron secret-key`"
            ) from None

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        """The plaintext; raises :class:`SecretUnreadable` if no key decrypts ``token``."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable(
                "a stored secret cannot be decrypted with APICRON_SECRET_KEY: the key "
                "changed without keeping the old one, or this node has another key than "
                "the others (every node of an instance needs the same key)"
            ) from None


    def rotate(self, token: str) -> str:
        """``token`` re-encrypted under the first key; raises :class:`SecretUnreadable`."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable("a stored secret cannot be decrypted") from None


def ensure_private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)


def _write_private(path: Path, content: str) -> None:
    # O_EXCL: two processes starting together must not both write a different key.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(content + "\n")


def _load_or_create(path: Path, make: Callable[[], str]) -> tuple[str, bool]:
    try:
        _write_private(path, make())
        created = True
    except FileExistsError:
        created = False
    return path.read_text().strip(), created


def load_secret_box(configured: str | None, data_dir: Path) -> SecretBox:
    if configured:
        return SecretBox(configured.split(","))
    ensure_private_dir(data_dir)
    key, _ = _load_or_create(data_dir / KEY_FILE, lambda: Fernet.generate_key().decode())
    return SecretBox([key])


def load_admin_token(configured: str | None, data_dir: Path) -> tuple[str, bool]:
    """The admin token, and whether it was generated just now (so it is printed once)."""
    if configured:
        return configured, False
    ensure_private_dir(data_dir)
    return _load_or_create(data_dir / TOKEN_FILE, lambda: secrets.token_urlsafe(32))


def new_app_key() -> str:
    return secrets.token_hex(16)


def new_app_secret() -> str:
    return secrets.token_urlsafe(24)
