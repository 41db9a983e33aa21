"""Two hosts, no shared files: erasures on both survive a restore of an older backup on a third.

Each "host" is a directory of its own (data directory, key directory, backups), holding
its own copy of the key file and configuration; the hosts share only PostgreSQL: the
instance database and the erasure ledger's own database (`ledger_url`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import select

from ehrlich.auth.api_tokens import create_api_token
from ehrlich.backup.keys import recovery_identity_path
from ehrlich.domains import open_instance
from ehrlich.settings import Settings, load_settings
from ehrlich.storage.database import Database
from ehrlich.subjects.models import Subject
from tests.backup.conftest import add_subjects, require_postgres_tools
from tests.conftest import NOW, Cli
from tests.e2e.servers import running_servers
from tests.instances import InstanceTemplates
from tests.postgres import PostgresServer

PEOPLE = 30
ERASED_PER_HOST = 10


def _host(first: Path, root: Path, **changes: str) -> Path:
    """A copy of host `first`'s key directory, data directory and configuration under
    `root` (its paths rewritten); returns its configuration file."""
    for part in ("keys", "data"):
        shutil.copytree(first / part, root / part)
    config = root / "data" / "ehrlich.toml"
    text = config.read_text().replace(str(first), str(root))
    for name, value in changes.items():
        text = "\n".join(line for line in text.splitlines()
                         if not line.startswith(f"{name} = ")) + f'\n{name} = "{value}"\n'
    config.write_text(text)
    return config


@pytest.fixture
def ledger_database(postgres_server: PostgresServer) -> Iterator[str]:
    name = postgres_server.new_name("ehrlich_ledger_")
    url = postgres_server.create(name)
    yield url
    postgres_server.discard(name)


def test_erasures_on_two_hosts_survive_a_restore_on_a_third(
        tmp_path: Path, postgres_server: PostgresServer, instance_templates: InstanceTemplates,
        ledger_database: str, cli: Cli) -> None:
    data_name, target_name = postgres_server.new_name(), postgres_server.new_name()
    a = tmp_path / "host-a"
    settings = Settings(data_dir=a / "data", key_file=a / "keys" / "ehrlich.key",
                        database_url=postgres_server.url(data_name))
    config_a = instance_templates.install(settings)
    config_a.write_text(config_a.read_text() + f'ledger_url = "{ledger_database}"\n'
                        'inprocess_worker = false\n')
    config_b = _host(a, tmp_path / "host-b")
    try:
        instance = open_instance(load_settings(config_a))
        try:
            require_postgres_tools(instance)
            ids = add_subjects(instance, PEOPLE)
            with instance.db.write() as session:
                token, _ = create_api_token(session, name="hosts", scopes=["subjects:erase"],
                                            now=NOW)
            older = instance.backup.create(now=NOW).manifest.backup_id  # before any erasure
        finally:
            instance.close()
        erased = ids[:2 * ERASED_PER_HOST]
        headers = {"Authorization": f"Bearer {token}"}
        with running_servers(config_a, 1) as (url_a,), running_servers(config_b, 1) as (url_b,):
            jobs = [(url_a if n % 2 else url_b, subject_id) for n, subject_id in enumerate(erased)]
            with ThreadPoolExecutor(max_workers=8) as pool:
                codes = list(pool.map(lambda job: httpx.delete(
                    f"{job[0]}/api/v1/subjects/{job[1]}", headers=headers, timeout=60
                ).status_code, jobs))
        assert codes == [204] * len(erased)

        # The third host: its own copy of keys and configuration, the backup fetched from
        # the first host's destination, a new database to restore into.
        c = tmp_path / "host-c"
        config_c = _host(a, c, database_url=postgres_server.create(target_name))
        shutil.copytree(a / "backups", c / "backups")
        restored = cli("--config", str(config_c), "backup", "restore", older, "--identity",
                       str(recovery_identity_path(c / "keys" / "ehrlich.key")), timeout=300)
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert f"{len(erased)} erasures replayed" in restored.stdout

        db = Database(load_settings(config_c).effective_database_url)
        try:
            with db.read() as session:
                states = dict(session.execute(select(Subject.id, Subject.state)).all())
        finally:
            db.dispose()
        assert {i for i, s in states.items() if s == "erased"} == set(erased)
        assert len(states) == PEOPLE
    finally:
        postgres_server.discard(data_name)
        postgres_server.discard(target_name)
