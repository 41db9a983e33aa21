"""Shared fixtures: instances on SQLite and PostgreSQL, the ASGI app, API tokens, the CLI.

PostgreSQL, Redis and IMAP (Dovecot) tests skip when no server answers, except where
EHRLICH_REQUIRE_SERVICES=1 (CI), which turns the skip into a failure.
Each PostgreSQL test gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from ehrlich.app import create_app
from ehrlich.auth.api_tokens import create_api_token
from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance, init_instance
from ehrlich.settings import Settings
from tests.imap_server import DovecotServer, dovecot_installed

PG_ADMIN_URL = os.environ.get(
    "EHRLICH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("EHRLICH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("EHRLICH_REQUIRE_SERVICES") == "1"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

Cli = Callable[..., subprocess.CompletedProcess[str]]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=["sqlite", "postgresql", "all"], default="all",
                     help="which databases to run the parametrised tests on")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_kind" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--db")
        kinds = ["sqlite", "postgresql"] if chosen == "all" else [chosen]
        metafunc.parametrize("database_kind", kinds)


def service_unavailable(what: str, why: object) -> None:
    message = f"{what} is not reachable: {why}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (EHRLICH_REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    engine = create_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        service_unavailable("PostgreSQL", exc)
    finally:
        engine.dispose()
    return PG_ADMIN_URL


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    name = f"ehrlich_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield postgres_admin_url.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def redis_url() -> str:
    """A reachable Redis. Several test runs may share it: namespace keys per test
    (e.g. a random key prefix) rather than flushing."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except Exception as exc:
        service_unavailable("Redis", exc)
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A throwaway Dovecot on loopback for the whole run; tests take accounts of their own."""
    if not dovecot_installed():
        service_unavailable("Dovecot", "not installed (apt-get install dovecot-imapd)")
    server = DovecotServer()  # installed but not starting is a failure, not a skip
    yield server
    server.stop()


@pytest.fixture
def database_url(database_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if database_kind == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return f"sqlite:///{tmp_path / 'data' / 'ehrlich.db'}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "ehrlich.key",
                    database_url=database_url, base_url="http://testserver")


@pytest.fixture
def instance(settings: Settings) -> Iterator[Instance]:
    init_instance(settings, now=NOW)
    opened = open_instance(settings)
    yield opened
    opened.close()


@pytest.fixture
def client(instance: Instance) -> Iterator[TestClient]:
    with TestClient(create_app(instance), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def make_token(instance: Instance) -> Callable[..., str]:
    def make(*scopes: str, name: str = "test") -> str:
        with instance.db.write() as session:
            token, _ = create_api_token(session, name=name, scopes=list(scopes), now=NOW)
        return token

    return make


@pytest.fixture
def auth(make_token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    """Headers carrying a fresh token with the given scopes."""

    def headers(*scopes: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(*scopes)}"}

    return headers


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """Run the real `ehrlich` command in a subprocess, in `tmp_path`, without the caller's
    EHRLICH_* variables."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60
            ) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("EHRLICH_")}
        full_env.update({"COLUMNS": "200", "NO_COLOR": "1"})
        full_env.update(env or {})
        return subprocess.run([sys.executable, "-m", "ehrlich", *args], cwd=tmp_path,
                              env=full_env, capture_output=True, text=True, timeout=timeout,
                              check=False)

    return run
