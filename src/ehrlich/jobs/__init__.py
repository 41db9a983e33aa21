"""The durable job queue: mails, scheduled backups, retention.

Jobs are rows of the database's `jobs` table (SQLite or PostgreSQL, the same
code): acknowledged only after they finish, run again when their worker died,
periodic ones enqueued once per schedule whatever the number of workers.
Domains register their tasks in their own `tasks.py` through `JobQueue`;
`ehrlich serve` runs an in-process worker in the embedded default and
`ehrlich worker` runs one apart. See docs/jobs.md.
"""

from ehrlich.jobs.queue import GiveUp, JobQueue, JobRun, RetryLater, build_queue, current_job
from ehrlich.jobs.schedule import Schedule, crontab

__all__ = ["GiveUp", "JobQueue", "JobRun", "RetryLater", "Schedule", "build_queue", "crontab",
           "current_job"]
