"""The job queue (huey): mails, scheduled backups, retention.

Backends, chosen once from settings: Redis when `EHRLICH_REDIS_URL` is set,
otherwise PostgreSQL when the database is PostgreSQL, otherwise a SQLite file
beside the database. Domains register their tasks in their own `tasks.py`
through `JobQueue`; `ehrlich serve` runs an in-process worker in the embedded
default and `ehrlich worker` runs one apart.
"""

from ehrlich.jobs.queue import JobQueue, build_queue

__all__ = ["JobQueue", "build_queue"]
