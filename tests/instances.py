"""One migrated instance per database kind and test run, copied for each test.

`ehrlich init` (key file, backup keys, example notice, configuration and every
migration) is most of a test's set-up time. A run inits one template per
database kind, the first time a test needs it, and each test gets a copy of it:
the data directory, the key directory and the SQLite file are copied; a
PostgreSQL database is made with `CREATE DATABASE ... TEMPLATE`. The key check
sealed into the database is bound to the template's key file, so the copy takes
that key file along (mode 0600, as `init` wrote it). The configuration `init`
wrote names the template's paths; the copy gets one naming its own. A test's
PostgreSQL copy is recycled for a later test rather than dropped (tests/postgres.py).

Each copy is a database and data directory of its own, so tests stay isolated.
Tests of `init` itself call `init_instance`.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import make_url

from ehrlich.backup.keys import OPERATIONS_IDENTITY
from ehrlich.instance.service import init_instance
from ehrlich.settings import Settings, config_file_for
from tests.postgres import TEST_DATABASE_PREFIX, PostgresServer

KEY_FILE_NAME = "ehrlich.key"
SQLITE_FILE_NAME = "ehrlich.db"
_CONFIG_LINE = re.compile(r"^(\w+) = ")


@dataclass(frozen=True)
class InstanceTemplate:
    """What `init_instance` left in `root` (data/, keys/), and its PostgreSQL database if any."""

    root: Path
    postgres_database: str | None = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def key_dir(self) -> Path:
        return self.root / "keys"

    @classmethod
    def create(cls, root: Path, *, now: datetime,
               postgres: PostgresServer | None = None) -> InstanceTemplate:
        if postgres is None:
            template = cls(root)
            url = f"sqlite:///{template.data_dir / SQLITE_FILE_NAME}"
        else:
            template = cls(root, postgres.new_name("ehrlich_template_"))
            url = postgres.create(template.postgres_database or "")
        init_instance(Settings(data_dir=template.data_dir,
                               key_file=template.key_dir / KEY_FILE_NAME, database_url=url),
                      now=now)
        if postgres is not None and template.postgres_database:
            postgres.made_template(template.postgres_database)
        return template

    def install(self, settings: Settings, *, postgres: PostgresServer | None = None) -> Path:
        """Leave for `settings` what `init_instance(settings)` would; returns the config file.

        The database must be new: on PostgreSQL an existing (empty) test database of that
        name is replaced by the copy."""
        key_file = settings.key_file.absolute()
        key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        for item in self.key_dir.iterdir():  # the key file and both backup identities
            name = key_file.name if item.name == KEY_FILE_NAME else item.name
            shutil.copy2(item, key_file.parent / name)  # keeps mode 0600
        data_dir = settings.data_dir.absolute()
        shutil.copytree(self.data_dir, data_dir, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(f"{SQLITE_FILE_NAME}*"))
        self._copy_database(settings, postgres)
        config_file = config_file_for(data_dir)
        config_file.write_text(self._config_for(settings))
        return config_file

    def _copy_database(self, settings: Settings, postgres: PostgresServer | None) -> None:
        url = make_url(settings.effective_database_url)
        if url.get_backend_name() == "sqlite":
            if self.postgres_database:
                raise ValueError("a PostgreSQL template cannot make an SQLite instance")
            assert url.database, "an SQLite instance needs a database file"
            target = Path(url.database)
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            shutil.copy2(self.data_dir / SQLITE_FILE_NAME, target)
            return
        if not (postgres and self.postgres_database):
            raise ValueError("an SQLite template cannot make a PostgreSQL instance")
        name = url.database or ""
        if not name.startswith(TEST_DATABASE_PREFIX):
            raise ValueError(f"refusing to replace database {name!r}: not a test database")
        postgres.drop(name)
        postgres.copy_template(self.postgres_database, name)

    def _config_for(self, settings: Settings) -> str:
        """The template's configuration with the paths and database of `settings`."""
        own = {"data_dir": str(settings.data_dir.absolute()),
               "key_file": str(settings.key_file.absolute()),
               "backup_identity": str(settings.key_file.absolute().parent / OPERATIONS_IDENTITY),
               "database_url": settings.database_url}
        lines = []
        for line in config_file_for(self.data_dir).read_text().splitlines():
            found = _CONFIG_LINE.match(line)
            if not (found and found.group(1) in own):
                lines.append(line)
            elif (value := own[found.group(1)]) is not None:  # no database_url: none given
                lines.append(f"{found.group(1)} = {json.dumps(value)}")  # JSON strings are TOML
        config = "\n".join(lines) + "\n"
        assert str(self.root) not in config, "the copy's configuration names the template"
        return config


class InstanceTemplates:
    """The run's templates, made the first time a test asks for an instance of that kind."""

    def __init__(self, root: Path, postgres_admin_url: str, *, now: datetime) -> None:
        self.root = root
        self.now = now
        self._postgres_admin_url = postgres_admin_url
        self._postgres: PostgresServer | None = None
        self._made: dict[str, InstanceTemplate] = {}

    @property
    def postgres(self) -> PostgresServer:
        if self._postgres is None:
            self._postgres = PostgresServer(self._postgres_admin_url)
        return self._postgres

    def template(self, kind: str) -> InstanceTemplate:
        if kind not in self._made:
            postgres = self.postgres if kind == "postgresql" else None
            self._made[kind] = InstanceTemplate.create(self.root / kind, now=self.now,
                                                      postgres=postgres)
        return self._made[kind]

    def install(self, settings: Settings) -> Path:
        """A new instance for `settings`, as `init_instance` would make it; the config file."""
        kind = "sqlite" if settings.is_sqlite else "postgresql"
        postgres = self.postgres if kind == "postgresql" else None
        return self.template(kind).install(settings, postgres=postgres)

    def close(self) -> None:
        if self._postgres is None:
            return
        for template in self._made.values():
            if template.postgres_database:
                self._postgres.drop(template.postgres_database)
        self._postgres.close()
