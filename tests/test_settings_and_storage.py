"""Settings fail loudly in one line; the schema comes from Alembic and matches the tables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from cryptography.fernet import Fernet
from sqlalchemy import inspect

from apicron.domain.errors import ConfigurationError
from apicron.settings import load_settings
from apicron.store import migrate
from apicron.store.database import make_engine
from apicron.store.tables import metadata
from tests.servers import ApicronProcess, free_port


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "apicron", *args],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=60, check=False,
    )


class TestSettings:
    def test_the_defaults_bind_loopback_and_keep_data_in_the_data_dir(
        self, tmp_path: Path
    ) -> None:
        settings = load_settings({"APICRON_DATA_DIR": str(tmp_path)})
        assert (settings.api_host, settings.api_port) == ("127.0.0.1", 8080)
        assert (settings.gateway_host, settings.gateway_port) == ("127.0.0.1", 8081)
        assert settings.database_url == f"sqlite:///{tmp_path / 'apicron.db'}"
        assert settings.gateway_url == "http://127.0.0.1:8081"
        assert (settings.public_url, settings.alert_timeout) == ("http://127.0.0.1:8080", 10.0)

    def test_the_public_url_follows_the_api_address_and_tls(self, tmp_path: Path) -> None:
        cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
        cert.write_text("-")
        key.write_text("-")
        settings = load_settings({"APICRON_API_HOST": "::", "APICRON_API_PORT": "9443",
                                  "APICRON_TLS_CERT": str(cert), "APICRON_TLS_KEY": str(key)})
        assert settings.public_url == "https://127.0.0.1:9443"
        given = load_settings({"APICRON_PUBLIC_URL": "https://apicron.example.com/",
                               "APICRON_ALERT_TIMEOUT": "2.5"})
        assert (given.public_url, given.alert_timeout) == ("https://apicron.example.com", 2.5)

    def test_flags_override_the_environment(self, tmp_path: Path) -> None:
        settings = load_settings({"APICRON_API_PORT": "9000"}, {"api_port": 9100})
        assert settings.api_port == 9100

    @pytest.mark.parametrize(
        ("env", "words"),
        [
            ({"APICRON_API_PORT": "http"}, "APICRON_API_PORT must be a port number"),
            ({"APICRON_GATEWAY_PORT": "70000"}, "APICRON_GATEWAY_PORT must be a port number"),
            ({"APICRON_DATABASE_URL": "mysql://x"}, "APICRON_DATABASE_URL must start with"),
            ({"APICRON_ADMIN_TOKEN": "short"}, "APICRON_ADMIN_TOKEN must be at least 16"),
            ({"APICRON_GATEWAY_URL": "gateway:8081"}, "APICRON_GATEWAY_URL must be"),
            ({"APICRON_API_HOST": "bad host!"}, "APICRON_API_HOST must be"),
            ({"APICRON_PUBLIC_URL": "console.example.com"}, "APICRON_PUBLIC_URL must be an "
             r"http:// or https:// URL with a host \(where users reach the console\)"),
            ({"APICRON_ALERT_TIMEOUT": "121"}, "APICRON_ALERT_TIMEOUT must be"),
            ({"APICRON_ALERT_TIMEOUT": "0"}, "APICRON_ALERT_TIMEOUT must be"),
            ({"APICRON_DATABASE_URL": "postgresql:///apicron", "APICRON_SECRET_KEY": "k"},
             "APICRON_DATABASE_URL must name the PostgreSQL host"),
            ({"APICRON_DATABASE_URL": "postgresql://db:5432/apicron"},
             "APICRON_SECRET_KEY is required with PostgreSQL"),
            ({"APICRON_SESSION_IDLE": "soon"}, "APICRON_SESSION_IDLE must be a number of "
             "seconds from 1 to 2592000, got 'soon'"),  # not 2.592e+06
            ({"APICRON_LOGIN_MAX_FAILURES": "0"},
             "APICRON_LOGIN_MAX_FAILURES must be a whole number from 1"),
            ({"APICRON_AUDIT_RETENTION": "1.5"}, "APICRON_AUDIT_RETENTION must be a whole"),
            ({"APICRON_ADMIN_TOKEN_DISABLED": "maybe"},
             "APICRON_ADMIN_TOKEN_DISABLED must be true or false"),
        ],
    )
    def test_a_bad_setting_is_refused_naming_it(self, env: dict[str, str], words: str) -> None:
        with pytest.raises(ConfigurationError, match=words):
            load_settings(env)

    def test_a_postgresql_url_runs_on_psycopg_and_is_shown_without_its_password(
        self,
    ) -> None:
        settings = load_settings({
            "APICRON_DATABASE_URL": "postgres://ops:s3cret-pw@db.internal:5432/apicron",
            "APICRON_SECRET_KEY": "any",
        })
        assert settings.database_url == "postgresql+psycopg://ops:s3cret-pw@db.internal:5432/apicron"
        assert settings.database_shown == "postgresql+psycopg://ops:***@db.internal:5432/apicron"
        assert "s3cret-pw" not in repr(settings.database_shown)
        assert not settings.is_sqlite

    def test_a_node_with_another_secret_key_refuses_to_start(self, tmp_path: Path) -> None:
        """Several nodes must share APICRON_SECRET_KEY: a node with another key would
        fail every APP call; it fails at start instead, naming the setting."""
        first = ApicronProcess(tmp_path, {"APICRON_SECRET_KEY": Fernet.generate_key().decode()})
        first.start()
        with first.client() as client:
            assert client.post("/v1/apps", json={"name": "keyed_app"}).status_code == 201
        first.stop()
        result = run_cli("serve", env={**first.env,
                                       "APICRON_SECRET_KEY": Fernet.generate_key().decode()})
        assert result.returncode != 0
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("apicron: error: a stored secret cannot be decrypted with "
                               "APICRON_SECRET_KEY"), result.stderr
        assert "Traceback" not in result.stderr

    def test_serve_with_a_bad_setting_fails_with_one_line(self, tmp_path: Path) -> None:
        result = run_cli("serve", env={"APICRON_DATA_DIR": str(tmp_path),
                                       "APICRON_API_PORT": "eighty"})
        assert result.returncode != 0
        assert result.stderr.strip().splitlines() == [
            "apicron: error: APICRON_API_PORT must be a port number 1-65535, got 'eighty'"
        ]

    def test_a_bad_secret_key_fails_with_one_line(self, tmp_path: Path) -> None:
        result = run_cli("serve", env={"APICRON_DATA_DIR": str(tmp_path),
                                       "APICRON_SECRET_KEY": "not-a-key",
                                       "APICRON_API_PORT": str(free_port())})
        assert result.returncode != 0
        lines = result.stderr.strip().splitlines()
        assert lines[-1].startswith("apicron: error: APICRON_SECRET_KEY must be")
        assert "Traceback" not in result.stderr


class TestAdminToken:
    def test_it_is_generated_once_into_the_data_dir_and_announced_once(
        self, tmp_path: Path
    ) -> None:
        env = {"APICRON_ADMIN_TOKEN": ""}
        first = ApicronProcess(tmp_path, env).start()
        first.stop()
        token_file = tmp_path / "admin-token"
        token = token_file.read_text().strip()
        assert token_file.stat().st_mode & 0o777 == 0o600
        assert len(token) >= 32
        assert token not in first.log()  # not a terminal: tests/test_admin_token_output.py
        second = ApicronProcess(tmp_path, env).start()
        try:
            assert first.log().count("generated the admin token") == 1  # once
            with second.client(token=token) as client:
                assert client.get("/v1/instance").status_code == 200
            assert httpx.get(f"{second.url}/v1/instance").status_code == 401
        finally:
            second.stop()


class TestSchema:
    def test_migrations_produce_exactly_the_tables(
        self, tmp_path: Path, database_url: str | None
    ) -> None:
        url = load_settings({"APICRON_DATA_DIR": str(tmp_path), "APICRON_SECRET_KEY": "k",
                             "APICRON_DATABASE_URL": database_url or ""}).database_url
        engine = make_engine(url)
        migrate.upgrade(engine)
        migrate.upgrade(engine)  # at head already: nothing to do, no error
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), metadata)
        assert diff == []
        assert migrate.current_revision(engine) is not None
        engine.dispose()

    def test_db_upgrade_creates_the_schema(self, tmp_path: Path) -> None:
        result = run_cli("db", "upgrade", env={"APICRON_DATA_DIR": str(tmp_path)})
        assert result.returncode == 0, result.stderr
        assert "schema at revision" in result.stdout
        engine = make_engine(f"sqlite:///{tmp_path / 'apicron.db'}")
        assert {"apps", "api_groups", "apis", "app_auths", "tasks", "instance"} <= set(
            inspect(engine).get_table_names()
        )
        engine.dispose()

    def test_the_database_runs_in_wal_mode(self, tmp_path: Path) -> None:
        engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
        with engine.connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        assert mode == "wal"
        engine.dispose()
