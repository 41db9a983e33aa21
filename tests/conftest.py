"""Shared fixtures: instances on SQLite and PostgreSQL, the ASGI app, API tokens, the CLI.

PostgreSQL, Redis, IMAP (Dovecot) and tests needing other system programs skip when
those are missing, except where EHRLICH_REQUIRE_SERVICES=1 (CI), which turns the skip
into a failure. Each test's instance is a copy of one migrated template per run
(tests/instances.py); each PostgreSQL test gets a database of its own, recycled afterwards
(tests/postgres.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text

from ehrlich.auth.api_tokens import create_api_token
from ehrlich.auth.roles import Role
from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance
from ehrlich.settings import Settings
from tests.apps import app_for
from tests.imap_server import IMAP_BINARY, DovecotServer
from tests.instances import InstanceTemplates
from tests.postgres import PostgresServer

# No timing assertions in tests: a property test's example may take long on a loaded machine
# (a first call filling a cache, another process on the same core), which says nothing about
# its property.
hypothesis_settings.register_profile("ehrlich", deadline=None)
hypothesis_settings.load_profile("ehrlich")

PG_ADMIN_URL = os.environ.get(
    "EHRLICH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("EHRLICH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("EHRLICH_REQUIRE_SERVICES") == "1"
SYSTEM_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")  # daemons; often not on a user's PATH
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

Cli = Callable[..., subprocess.CompletedProcess[str]]
pytest_plugins = ("tests.factories",)  # shared test data (make_staff) for every package


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=["sqlite", "postgresql", "all"], default="all",
                     help="which databases to run the parametrised tests on")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Role matrices once per action on PostgreSQL (`role_matrix_on_postgresql`), then
    tests that start processes or browsers (marked `slow`, or running the `ehrlich`
    command through `cli`) first, in their order: with one process per core, a long test
    handed out last keeps one core busy after the others are done."""
    if config.getoption("--db") == "all":
        repeated = role_matrix_on_postgresql(items)
        if repeated:
            config.hook.pytest_deselected(items=repeated)
            kept = set(map(id, repeated))
            items[:] = [item for item in items if id(item) not in kept]

    def starts_processes(item: pytest.Item) -> bool:
        return (item.get_closest_marker("slow") is not None
                or "cli" in getattr(item, "fixturenames", ()))

    items.sort(key=lambda item: not starts_processes(item))  # stable: keeps module order


def role_matrix_on_postgresql(items: list[pytest.Item]) -> list[pytest.Item]:
    """The PostgreSQL copies of a `role_matrix` test that the run leaves out.

    A test marked `@pytest.mark.role_matrix(allowed)` and parametrised over `role` (and
    usually an action) checks who may do what. Who may is decided by the routes and
    services, the same on either database, so the whole matrix runs on SQLite; on
    PostgreSQL each action runs once, done by the first role (owner, admin, marketer,
    support, auditor) that `allowed(role=Role, **the test's other parameters)` lets do it,
    so every action's queries still run on PostgreSQL. An action no role may do runs once
    with the first role. With `--db postgresql` alone, the whole matrix runs there."""
    groups: dict[tuple[object, ...], list[tuple[int, pytest.Item]]] = {}
    for item in items:
        marker = item.get_closest_marker("role_matrix")
        callspec = getattr(item, "callspec", None)
        if marker is None or callspec is None:
            continue
        params = dict(callspec.params)
        if params.get("database_kind") != "postgresql":
            continue
        if "role" not in params:
            raise pytest.UsageError(f"{item.nodeid}: a role_matrix test takes `role`")
        role = Role(params.pop("role"))
        allowed: Callable[..., bool] = marker.args[0] if marker.args else marker.kwargs["allowed"]
        rank = list(Role).index(role) - (len(Role) if allowed(role=role, **params) else 0)
        key = (item.nodeid.partition("[")[0],
               *sorted((name, repr(value)) for name, value in params.items()))
        groups.setdefault(key, []).append((rank, item))
    left_out: list[pytest.Item] = []
    for group in groups.values():
        group.sort(key=lambda ranked: ranked[0])
        left_out.extend(item for _, item in group[1:])
    return left_out


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_kind" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--db")
        kinds = ["sqlite", "postgresql"] if chosen == "all" else [chosen]
        metafunc.parametrize("database_kind", kinds)


def service_unavailable(what: str, why: object) -> NoReturn:
    message = f"{what} is not available: {why}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (EHRLICH_REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(message)


def system_program(name: str, debian_package: str) -> str:
    """The path of a program a test runs; skips (fails in CI) when it is not installed."""
    search = os.pathsep.join([os.environ.get("PATH", os.defpath), *SYSTEM_DIRS])
    found = shutil.which(name, path=search)
    if found is None:
        service_unavailable(name, f"not installed (Debian: apt-get install {debian_package})")
    return found


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


@pytest.fixture(scope="session")
def instance_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InstanceTemplates]:
    """The run's migrated instance templates, one per database kind, made when first needed."""
    templates = InstanceTemplates(tmp_path_factory.mktemp("instance-templates"), PG_ADMIN_URL,
                                  now=NOW)
    yield templates
    templates.close()


@pytest.fixture(scope="session")
def postgres_server(postgres_admin_url: str, instance_templates: InstanceTemplates
                    ) -> PostgresServer:
    return instance_templates.postgres


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """An empty database of the test's own."""
    name = postgres_server.new_name()
    yield postgres_server.create(name)
    postgres_server.discard(name)


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
    binary = system_program("dovecot", "dovecot-imapd")
    if not IMAP_BINARY.exists():
        service_unavailable("Dovecot IMAP", "not installed (apt-get install dovecot-imapd)")
    server = DovecotServer(binary)  # installed but not starting is a failure, not a skip
    yield server
    server.stop()


@pytest.fixture
def database_url(database_kind: str, tmp_path: Path, request: pytest.FixtureRequest
                 ) -> Iterator[str]:
    """Where the test's database lives; empty, or not there yet where `instance` makes it."""
    if database_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'ehrlich.db'}"
        return
    if "instance" not in request.fixturenames:
        yield request.getfixturevalue("postgres_url")
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.new_name()  # `instance` creates it from the template: no empty one first
    yield server.url(name)
    server.discard(name)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "ehrlich.key",
                    database_url=database_url, base_url="http://testserver")


@pytest.fixture
def instance(settings: Settings, instance_templates: InstanceTemplates) -> Iterator[Instance]:
    """A new instance for `settings`, as `ehrlich init` makes it (copied from the template)."""
    instance_templates.install(settings)
    opened = open_instance(settings)
    yield opened
    opened.close()


@pytest.fixture
def client(instance: Instance) -> Iterator[TestClient]:
    with TestClient(app_for(instance), raise_server_exceptions=False) as test_client:
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


# Commands that keep running (a server, the worker): always a process of their own.
LONG_RUNNING = frozenset({"serve", "worker"})


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Run the real `ehrlich` command in `tmp_path`, without the caller's EHRLICH_*
    variables: in this process (`ehrlich.cli.main.run`, the program's own entry, with its
    exit codes and output streams), which spares each call the program's start-up, or in a
    subprocess with `process=True` (and always for `serve` and `worker`). The start of the
    program itself is tested in subprocesses (tests/cli/test_first_run_hints.py,
    tests/cli/test_startup.py)."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60,
            process: bool = False) -> subprocess.CompletedProcess[str]:
        overrides: dict[str, str | None] = {
            k: None for k in os.environ if k.startswith("EHRLICH_")}
        overrides.update({"COLUMNS": "200", "NO_COLOR": "1"})
        overrides.update(env or {})
        if process or LONG_RUNNING.intersection(args):
            full_env = {k: v for k, v in {**os.environ, **overrides}.items() if v is not None}
            return subprocess.run([sys.executable, "-m", "ehrlich", *args], cwd=tmp_path,
                                  env=full_env, capture_output=True, text=True,
                                  timeout=timeout, check=False)
        return _run_in_process(list(args), tmp_path, overrides, monkeypatch)

    return run


def _run_in_process(args: list[str], cwd: Path, env: dict[str, str | None],
                    monkeypatch: pytest.MonkeyPatch) -> subprocess.CompletedProcess[str]:
    from click.testing import CliRunner

    from ehrlich.cli.main import run as ehrlich

    code: int = 0
    with monkeypatch.context() as patched:
        patched.chdir(cwd)
        with CliRunner().isolation(env=env) as (stdout, stderr, _):
            try:
                ehrlich(args)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            out, err = stdout.getvalue().decode(), stderr.getvalue().decode()
    return subprocess.CompletedProcess([sys.executable, "-m", "ehrlich", *args], code, out,
                                       err)
