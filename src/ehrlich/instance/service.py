"""Creating an instance and checking its database (`Instance` itself: `ehrlich.registry`).

`check_database` (used by `ehrlich.domains.open_instance`) fails before any
write when the key file is missing, readable by others, or does not belong to
the database (checked with a sealed canary per KEK version).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from ehrlich.backup.keys import create_backup_keys
from ehrlich.crypto import Keyring
from ehrlich.crypto.providers import config_values, create_keyring
from ehrlich.errors import ConfigurationError
from ehrlich.instance.models import InstanceMeta
from ehrlich.notices.example import write_example_notice
from ehrlich.registry import Core, Instance
from ehrlich.settings import Settings, config_file_for
from ehrlich.storage import migrate
from ehrlich.storage.base import new_id
from ehrlich.storage.database import Database

__all__ = ["Core", "Instance", "check_database", "init_instance", "verify_key_checks"]

KEY_CHECK_PREFIX = "kek_check:"


def store_key_check(db: Database, keyring: Keyring, version: int) -> None:
    with db.write() as session:
        session.merge(InstanceMeta(key=f"{KEY_CHECK_PREFIX}{version}",
                                   value=keyring.key_check(version)))


def verify_key_checks(db: Database, keyring: Keyring) -> None:
    with db.read() as session:
        checks = session.execute(
            select(InstanceMeta).where(InstanceMeta.key.startswith(KEY_CHECK_PREFIX))
        ).scalars().all()
    if not checks:
        raise ConfigurationError("this database has no key check; was it made by `ehrlich init`?")
    for check in checks:
        keyring.verify_key_check(check.value)


def check_database(settings: Settings, keyring: Keyring, *,
                   check_schema: bool = True) -> Database:
    """The instance's database, refused before any write unless it is ours and current."""
    db = Database(settings.effective_database_url, **settings.database_pool)
    try:
        if not migrate.is_initialised(db):
            raise ConfigurationError(
                f"no ehrlich database at {settings.effective_database_url.split('@')[-1]}; "
                "run `ehrlich init` first")
        if check_schema and migrate.pending(db):
            raise ConfigurationError("the database schema is out of date; run `ehrlich migrate`")
        verify_key_checks(db, keyring)
    except Exception:
        db.dispose()
        keyring.close()
        raise
    return db


def _refuse_existing(settings: Settings, config_file: Path) -> None:
    if config_file.exists():
        raise ConfigurationError(
            f"an instance already exists: {config_file}; refusing to overwrite it")
    if settings.key_file.exists():
        raise ConfigurationError(
            f"key file {settings.key_file} already exists; refusing to overwrite it")
    if settings.is_sqlite:
        path = Path(settings.effective_database_url.removeprefix("sqlite:///"))
        if not path.exists():
            return
    db = Database(settings.effective_database_url)
    try:
        if migrate.is_initialised(db):
            raise ConfigurationError("the database already holds an ehrlich instance; "
                                     "refusing to overwrite it")
    finally:
        db.dispose()


def _toml_value(value: object) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def init_instance(settings: Settings, *, now: datetime) -> Path:
    """Create the data directory, key file, configuration and database."""
    data_dir = settings.data_dir.absolute()
    key_file = settings.key_file.absolute()
    if key_file.parent == data_dir or data_dir in key_file.parents:
        raise ConfigurationError(
            "keep the key file outside the data directory, so that copies of the data "
            "never carry the key (use --key-file)")
    config_file = config_file_for(data_dir)
    _refuse_existing(settings, config_file)
    keyring = create_keyring(settings.model_copy(update={"key_file": key_file}))
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    lines = [
        "# ehrlich instance configuration (written by `ehrlich init`).",
        "# Environment variables EHRLICH_<NAME> override these values.",
        f"data_dir = {_toml_value(data_dir)}",
        f"key_file = {_toml_value(key_file)}",
    ]
    lines += [f"{name} = {_toml_value(value)}" for name, value in config_values(settings).items()]
    if settings.database_url:
        lines.append(f"database_url = {_toml_value(settings.database_url)}")
    lines += create_backup_keys(key_file.parent).config_lines()
    write_example_notice(data_dir)
    fd = os.open(config_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    db = Database(settings.effective_database_url)
    try:
        migrate.upgrade(db)
        store_key_check(db, keyring, keyring.provider.active_version)
        with db.write() as session:
            session.add(InstanceMeta(key="instance_id", value=new_id().encode()))
            session.add(InstanceMeta(key="created_at", value=now.isoformat().encode()))
    finally:
        db.dispose()
        keyring.close()
    return config_file
