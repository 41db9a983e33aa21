"""The connection pool an instance opens is the one its settings describe: on PostgreSQL
sized from the server's concurrency, recycled instead of pinged; SQLite keeps its own."""

from __future__ import annotations

from sqlalchemy.pool import QueuePool

from ehrlich.domains import open_instance
from ehrlich.settings import Settings
from ehrlich.storage.database import SQLITE_POOL
from tests.instances import InstanceTemplates


def _pool(settings: Settings, instance_templates: InstanceTemplates) -> QueuePool:
    instance_templates.install(settings)
    instance = open_instance(settings)
    try:
        pool = instance.db.engine.pool
        assert isinstance(pool, QueuePool)
        return pool
    finally:
        instance.close()


def test_the_pool_follows_the_settings(settings: Settings,
                                       instance_templates: InstanceTemplates) -> None:
    sized = settings.model_copy(update={"server_threads": 12, "worker_threads": 3,
                                        "database_max_overflow": 2,
                                        "database_pool_recycle": 600})
    pool = _pool(sized, instance_templates)
    if settings.is_sqlite:
        assert (pool.size(), pool._max_overflow) == (SQLITE_POOL["pool_size"],
                                                    SQLITE_POOL["max_overflow"])
        return
    # one connection for every request and job that may run at once, and no ping
    assert (pool.size(), pool._max_overflow, pool._recycle) == (15, 2, 600)
    assert pool._pre_ping is False


def test_a_set_pool_size_wins(settings: Settings, instance_templates: InstanceTemplates
                              ) -> None:
    if settings.is_sqlite:
        assert settings.model_copy(update={"database_pool_size": 7}).database_pool == {}
        return
    pool = _pool(settings.model_copy(update={"database_pool_size": 7}), instance_templates)
    assert pool.size() == 7
