"""``apicron config show`` shows a secret generated at first start (the secret key and the
admin token, kept in files of the data directory) as set, masked, with the file it came
from — not as unset (new user's trial)."""

from __future__ import annotations

import json
from pathlib import Path

from apicron.crypto import KEY_FILE, TOKEN_FILE, load_admin_token, load_secret_box
from tests.test_config import cli


def _rows(data_dir: Path) -> dict[str, dict[str, str]]:
    result = cli("config", "show", "--json", env={"APICRON_DATA_DIR": str(data_dir)})
    assert result.returncode == 0, result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)}


def test_generated_secrets_show_as_set_with_their_file(tmp_path: Path) -> None:
    before = _rows(tmp_path)
    for name in ("admin_token", "secret_key"):
        assert (before[name]["value"], before[name]["source"]) == ("-", "default")
    token, _ = load_admin_token(None, tmp_path)  # what `apicron serve` does on first start
    load_secret_box(None, tmp_path)
    rows = _rows(tmp_path)
    assert rows["admin_token"] | {} == {
        "name": "admin_token", "variable": "APICRON_ADMIN_TOKEN", "value": "********",
        "source": "generated", "from": str(tmp_path / TOKEN_FILE)}
    assert (rows["secret_key"]["value"], rows["secret_key"]["source"],
            rows["secret_key"]["from"]) == ("********", "generated", str(tmp_path / KEY_FILE))
    table = cli("config", "show", env={"APICRON_DATA_DIR": str(tmp_path)})
    assert token not in table.stdout + table.stderr
    assert (tmp_path / KEY_FILE).read_text().strip() not in table.stdout
    assert f"generated {tmp_path / TOKEN_FILE}" in table.stdout, table.stdout


def test_the_generated_file_names_are_the_ones_apicron_writes() -> None:
    from apicron.settings.generated import GENERATED_FILES

    assert GENERATED_FILES == {"admin_token": TOKEN_FILE, "secret_key": KEY_FILE}
