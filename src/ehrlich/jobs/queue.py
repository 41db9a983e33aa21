"""`JobQueue`: a thin, typed face over one huey instance."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from huey import Huey, PostgresHuey, RedisHuey, SqliteHuey
from huey.api import Result, TaskWrapper
from huey.consumer import Consumer
from sqlalchemy.engine import make_url

from ehrlich.errors import ConfigurationError
from ehrlich.settings import Settings

QUEUE_NAME = "ehrlich"


class JobQueue:
    """Tasks are registered by name once per process and enqueued by name."""

    def __init__(self, huey: Huey) -> None:
        self.huey = huey
        self._tasks: dict[str, TaskWrapper] = {}

    def task(self, name: str, *, retries: int = 0, retry_delay: int = 0,
             retry_backoff: float = 0) -> Callable[[Callable[..., Any]], TaskWrapper]:
        """`retry_backoff` multiplies the delay after each failed try (0: fixed delay)."""
        def register(fn: Callable[..., Any]) -> TaskWrapper:
            wrapper: TaskWrapper = self.huey.task(retries=retries, retry_delay=retry_delay,
                                                  retry_backoff=retry_backoff, name=name)(fn)
            self._tasks[name] = wrapper
            return wrapper

        return register

    def periodic(self, name: str, schedule: Callable[..., bool], *, retries: int = 0,
                 retry_delay: int = 0) -> Callable[[Callable[..., Any]], TaskWrapper]:
        def register(fn: Callable[..., Any]) -> TaskWrapper:
            wrapper: TaskWrapper = self.huey.periodic_task(
                schedule, retries=retries, retry_delay=retry_delay, name=name)(fn)
            self._tasks[name] = wrapper
            return wrapper

        return register

    def enqueue(self, name: str, *args: Any, **kwargs: Any) -> Result:
        try:
            task = self._tasks[name]
        except KeyError as exc:
            raise ConfigurationError(f"no job named {name!r} is registered") from exc
        result: Result = task(*args, **kwargs)
        return result

    @property
    def task_names(self) -> frozenset[str]:
        return frozenset(self._tasks)

    def pending_count(self) -> int:
        return int(self.huey.pending_count())

    def close(self) -> None:
        """Release the backend's connections (PostgreSQL, Redis, SQLite)."""
        self.huey.storage.close()

    def consumer(self, *, workers: int, in_process: bool) -> Consumer:
        """A consumer; the in-process one leaves signal handling to the web server."""
        cls = _InProcessConsumer if in_process else Consumer
        return cls(self.huey, workers=workers, worker_type="thread", periodic=True,
                   check_worker_health=True, scheduler_interval=1)


class _InProcessConsumer(Consumer):  # type: ignore[misc]
    def _set_signal_handlers(self) -> None:
        return None


def build_queue(settings: Settings) -> JobQueue:
    if settings.redis_url:
        return JobQueue(RedisHuey(QUEUE_NAME, url=settings.redis_url, utc=True))
    if not settings.is_sqlite:
        dsn = make_url(settings.effective_database_url).set(drivername="postgresql")
        return JobQueue(PostgresHuey(QUEUE_NAME, dsn=dsn.render_as_string(hide_password=False),
                                     utc=True))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return JobQueue(SqliteHuey(QUEUE_NAME, filename=str(settings.data_dir / "jobs.db"), utc=True))
