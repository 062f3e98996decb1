"""Secrets apicron generates at first start when none is configured: the admin token and
the secret key, each kept in a file of the data directory (mode 0600, see
:mod:`apicron.crypto`). ``apicron config show`` shows them as set, masked, with that file as
where they came from, rather than as unset."""

from __future__ import annotations

from pathlib import Path

# The files apicron.crypto writes; named here too so that reading settings does not import
# the server's cryptography (the names are checked equal by tests/test_config_generated.py).
GENERATED_FILES = {"admin_token": "admin-token", "secret_key": "secret.key"}


def generated_file(name: str, data_dir: Path) -> Path | None:
    """The file holding setting ``name``'s generated value in ``data_dir``, or None when
    the setting is not one apicron generates or the file does not exist (yet)."""
    file_name = GENERATED_FILES.get(name)
    if file_name is None:
        return None
    path = data_dir / file_name
    return path if path.is_file() else None
