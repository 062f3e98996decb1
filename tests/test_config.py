"""Settings from flags, the environment, secret files, a TOML config file and defaults:
the precedence, the one-line errors naming a setting as it was given, ``apicron config
show`` (secrets masked, where each value came from), and a server configured that way."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from apicron.domain.errors import ConfigurationError
from apicron.settings import Settings, load_settings, resolve_settings, secret_of
from apicron.settings.sources import SourceKind
from tests.servers import ADMIN_TOKEN, ApicronProcess

README = Path(__file__).resolve().parent.parent / "README.md"
TOKEN = "token-from-a-file-0123456789"


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("APICRON_")}
    return subprocess.run(
        [sys.executable, "-m", "apicron", *args], env={**clean, **env},
        capture_output=True, text=True, timeout=60, check=False,
    )


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


class TestPrecedence:
    """flag > env > secret file (APICRON_X_FILE, then the secrets directory) > config file >
    default, shown on database_url, the one setting that exists in every layer."""

    def test_each_layer_wins_over_the_ones_below_it(self, tmp_path: Path) -> None:
        def url(name: str) -> str:
            return f"sqlite:///{tmp_path / name}"

        config = write(tmp_path / "apicron.toml", f'database_url = "{url("config.db")}"\n')
        secrets = tmp_path / "secrets"
        secrets.mkdir()
        write(secrets / "apicron_database_url", url("directory.db") + "\n")
        named = write(tmp_path / "db-url", url("variable.db"))
        env = {"APICRON_DATA_DIR": str(tmp_path), "APICRON_SECRETS_DIR": str(secrets),
               "APICRON_DATABASE_URL_FILE": str(named), "APICRON_DATABASE_URL": url("env.db")}
        layers = [
            ("flag.db", SourceKind.FLAG, "--database-url"),
            ("env.db", SourceKind.ENV, "APICRON_DATABASE_URL"),
            ("variable.db", SourceKind.SECRET_FILE, str(named)),
            ("directory.db", SourceKind.SECRET_FILE, str(secrets / "apicron_database_url")),
            ("config.db", SourceKind.CONFIG_FILE, str(config)),
            ("apicron.db", SourceKind.DEFAULT, ""),
        ]
        flag: str | None = url("flag.db")
        for file, kind, where in layers:
            resolved = resolve_settings(env, {"database_url": flag}, config_file=config)
            assert resolved.settings.database_url == url(file)
            assert (resolved.origins["database_url"].kind,
                    resolved.origins["database_url"].where) == (kind, where)
            # Take the winning layer away: the next one shows through.
            if kind is SourceKind.FLAG:
                flag = None
            elif kind is SourceKind.ENV:
                del env["APICRON_DATABASE_URL"]
            elif where == str(named):
                del env["APICRON_DATABASE_URL_FILE"]
            elif kind is SourceKind.SECRET_FILE:
                del env["APICRON_SECRETS_DIR"]
            else:
                config.write_text("")

    def test_an_empty_variable_counts_as_not_set(self, tmp_path: Path) -> None:
        config = write(tmp_path / "c.toml", "api_port = 9100\n")
        settings = load_settings({"APICRON_API_PORT": ""}, config_file=config)
        assert settings.api_port == 9100

    def test_the_config_file_comes_from_apicron_config(self, tmp_path: Path) -> None:
        config = write(tmp_path / "c.toml", 'gateway_host = "::1"\ngateway_port = 9200\n')
        settings = load_settings({"APICRON_CONFIG": str(config)})
        assert settings.gateway_url == "http://[::1]:9200"


class TestConfigFile:
    def test_it_takes_every_kind_of_value(self, tmp_path: Path) -> None:
        config = write(tmp_path / "apicron.toml", f"""
data_dir = "{tmp_path / 'data'}"
api_port = 9001
misfire_grace = 30
engine_give_up = 12.5
ops_port = 9300
outbound_deny = ["10.0.0.0/8", "fd00::/8"]
outbound_allow = "10.1.0.0/16"
forwarded_allow_ips = ["10.0.0.1"]
""")
        settings = load_settings({}, config_file=config)
        assert settings.data_dir == tmp_path / "data"
        assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'apicron.db'}"
        assert (settings.api_port, settings.ops_port) == (9001, 9300)
        assert (settings.misfire_grace, settings.engine_give_up) == (30.0, 12.5)
        assert settings.outbound_deny == ("10.0.0.0/8", "fd00::/8")
        assert settings.outbound_allow == ("10.1.0.0/16",)
        assert settings.forwarded_allow_ips == ("10.0.0.1",)

    @pytest.mark.parametrize(
        ("text", "words"),
        [
            ("api_port = 70000\n", "api_port in {path} must be a port number 1-65535, got 70000"),
            ('api_port = "eighty"\n', "api_port in {path} must be a port number"),
            ("api_port = true\n", "api_port in {path} must be a port number"),
            ("misfire_grace = 0\n", "misfire_grace in {path} must be a number of seconds"),
            ("outbound_deny = [1]\n", "outbound_deny in {path} must be a comma-separated"),
            ("api_prot = 1\n", "'api_prot' in {path} is not a setting (did you mean 'api_port'?)"),
            ("[server]\napi_port = 1\n", "'server' in {path} is not a setting"),
            ("api_port = \n", "the config file {path} is not valid TOML"),
        ],
    )
    def test_a_bad_value_is_refused_naming_the_key_and_the_file(
        self, tmp_path: Path, text: str, words: str
    ) -> None:
        config = write(tmp_path / "apicron.toml", text)
        with pytest.raises(ConfigurationError) as caught:
            load_settings({}, config_file=config)
        assert words.format(path=config) in str(caught.value)
        assert "\n" not in str(caught.value)

    def test_a_missing_config_file_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigurationError, match=r"the config file .* cannot be read: no such"):
            load_settings({"APICRON_CONFIG": str(tmp_path / "nope.toml")})


class TestSecretFiles:
    def test_a_file_variable_gives_the_secret_stripped(self, tmp_path: Path) -> None:
        named = write(tmp_path / "token", f"  {TOKEN}\n")
        resolved = resolve_settings({"APICRON_ADMIN_TOKEN_FILE": str(named)})
        assert resolved.settings.admin_token == TOKEN
        assert resolved.origins["admin_token"].kind is SourceKind.SECRET_FILE

    def test_the_systemd_credentials_directory_is_the_default_secrets_directory(
        self, tmp_path: Path
    ) -> None:
        write(tmp_path / "apicron_admin_token", TOKEN)
        write(tmp_path / "APICRON_SECRET_KEY", "a-key")
        # A shared directory (/run/secrets) holds other files: not secrets of apicron's.
        write(tmp_path / "apicron_api_port", "1")
        settings = load_settings({"CREDENTIALS_DIRECTORY": str(tmp_path)})
        assert (settings.admin_token, settings.secret_key) == (TOKEN, "a-key")
        assert settings.api_port == 8080

    @pytest.mark.parametrize(
        ("variable", "content", "words"),
        [
            ("APICRON_ADMIN_TOKEN_FILE", None, "APICRON_ADMIN_TOKEN_FILE names a file that "
             "cannot be read: {path} (No such file or directory)"),
            ("APICRON_ADMIN_TOKEN_FILE", "\n", "APICRON_ADMIN_TOKEN_FILE names an empty file"),
            ("APICRON_ADMIN_TOKEN_FILE", "short", "APICRON_ADMIN_TOKEN (read from {path}) must "
             "be at least 16 characters long"),
            ("APICRON_TLS_CERT_FILE", "x", "APICRON_TLS_CERT_FILE is not read: only the secret "
             "settings are read from files"),
            ("APICRON_SECRETS_DIR", None, "APICRON_SECRETS_DIR must name a directory"),
        ],
    )
    def test_a_bad_secret_file_is_refused_in_one_line(
        self, tmp_path: Path, variable: str, content: str | None, words: str
    ) -> None:
        path = tmp_path / "secret"
        if content is not None:
            write(path, content)
        with pytest.raises(ConfigurationError) as caught:
            load_settings({variable: str(path)})
        assert words.format(path=path) in str(caught.value)

    def test_secrets_are_no_flags_and_hide_from_repr(self) -> None:
        for name in ("admin_token", "secret_key"):
            mark = secret_of(name)
            assert mark is not None and not mark.flag
        settings = load_settings({"APICRON_ADMIN_TOKEN": TOKEN, "APICRON_SECRET_KEY": "kk",
                                  "APICRON_DATABASE_URL": "postgresql://u:pw-9@db/a"})
        assert TOKEN not in repr(settings) and "pw-9" not in repr(settings)


class TestCommandLine:
    def test_a_bad_flag_is_refused_naming_the_flag(self, tmp_path: Path) -> None:
        result = cli("serve", "--api-port", "eighty", env={"APICRON_DATA_DIR": str(tmp_path)})
        assert result.returncode == 1
        assert result.stderr.strip().splitlines() == [
            "apicron: error: --api-port must be a port number 1-65535, got 'eighty'"
        ]

    def test_every_setting_but_the_secrets_is_a_flag_of_serve(self) -> None:
        shown = cli("serve", "--help", env={}).stdout
        flags = set(re.findall(r"^\s+(--[a-z-]+)", shown, flags=re.MULTILINE))
        expected = {"--" + name.replace("_", "-") for name in Settings.model_fields
                    if not (secret_of(name) and not secret_of(name).flag)}  # type: ignore[union-attr]
        assert flags == expected | {"--role", "--help"}
        assert "--admin-token" not in flags and "--secret-key" not in flags

    def test_config_show_masks_secrets_and_says_where_each_value_came_from(
        self, tmp_path: Path
    ) -> None:
        config = write(tmp_path / "apicron.toml", 'api_host = "127.0.0.2"\nops_port = 9400\n')
        write(tmp_path / "key", "a-secret-key-value")
        env = {"APICRON_DATA_DIR": str(tmp_path), "APICRON_ADMIN_TOKEN": TOKEN,
               "APICRON_SECRET_KEY_FILE": str(tmp_path / "key"),
               "APICRON_DATABASE_URL": "postgresql://ops:pw-in-url@db.internal/apicron"}
        result = cli("--config", str(config), "config", "show", "--json", "--api-port", "9000",
                     env=env)
        assert result.returncode == 0, result.stderr
        for secret in (TOKEN, "a-secret-key-value", "pw-in-url"):
            assert secret not in result.stdout + result.stderr
        rows = {row["name"]: row for row in json.loads(result.stdout)}
        assert set(rows) == set(Settings.model_fields)
        assert rows["api_port"] | {} == {"name": "api_port", "variable": "APICRON_API_PORT",
                                         "value": "9000", "source": "flag", "from": "--api-port"}
        assert (rows["admin_token"]["value"], rows["admin_token"]["source"]) == ("********", "env")
        assert rows["secret_key"]["source"] == "secret file"
        assert rows["secret_key"]["from"] == str(tmp_path / "key")
        assert rows["database_url"]["value"] == "postgresql+psycopg://ops:***@db.internal/apicron"
        assert (rows["api_host"]["value"], rows["api_host"]["source"],
                rows["api_host"]["from"]) == ("127.0.0.2", "config file", str(config))
        assert (rows["gateway_port"]["value"], rows["gateway_port"]["source"]) == (
            "8081", "default")
        table = cli("--config", str(config), "config", "show", env=env)
        assert table.returncode == 0, table.stderr
        assert re.search(r"^ops_port\s+9400\s+config file " + re.escape(str(config)) + "$",
                         table.stdout, flags=re.MULTILINE), table.stdout
        assert TOKEN not in table.stdout

    def test_config_show_fails_on_a_bad_setting_as_serve_would(self, tmp_path: Path) -> None:
        config = write(tmp_path / "apicron.toml", "gateway_port = 0\n")
        result = cli("config", "show", env={"APICRON_CONFIG": str(config)})
        assert result.returncode == 1
        assert result.stderr.strip() == (
            f"apicron: error: gateway_port in {config} must be a port number 1-65535, got 0")


def test_the_readme_lists_every_setting() -> None:
    section = README.read_text().split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    for name in Settings.model_fields:
        assert f"`APICRON_{name.upper()}`" in section, name


def test_a_server_runs_from_a_config_file_and_a_token_file(tmp_path: Path) -> None:
    process = ApicronProcess(tmp_path / "data")
    token_file = write(tmp_path / "admin-token", ADMIN_TOKEN + "\n")
    token_file.chmod(0o600)
    config = write(tmp_path / "apicron.toml",
                   f'api_port = {process.api_port}\ngateway_port = {process.gateway_port}\n'
                   f'data_dir = "{tmp_path / "data"}"\n')
    # Nothing of these in the environment: the file and the token file give them.
    process.env.update({"APICRON_API_PORT": "", "APICRON_GATEWAY_PORT": "",
                        "APICRON_DATA_DIR": "", "APICRON_ADMIN_TOKEN": "",
                        "APICRON_CONFIG": str(config),
                        "APICRON_ADMIN_TOKEN_FILE": str(token_file)})
    process.start()
    try:
        with process.client() as client:
            assert client.get("/v1/instance").status_code == 200
        assert httpx.get(f"{process.url}/v1/instance").status_code == 401
        assert f":{process.gateway_port}" in process.log()
        assert not (tmp_path / "data" / "admin-token").exists()  # the given token, not one made
    finally:
        process.stop()
    assert ADMIN_TOKEN not in process.log()
