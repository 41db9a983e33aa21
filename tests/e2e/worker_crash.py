"""The crash run: SIGKILL real `ehrlich worker` processes while mails and erasures wait.

Shared by tests/e2e/test_worker_crash.py (a suite-sized run) and bench/worker_crash.py
(the full figures). Confirmation mails go to a loopback aiosmtpd sink that counts them
by Message-ID; erasures are `subjects.erase` jobs. A worker is killed at a random point
(after a random number of further deliveries), the next one started, and so on; the
last one runs the queue empty. Before each restart the run notes which mails a killed
worker was in the middle of handing over (their `job_effects` mark): only those may
arrive twice.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

from sqlalchemy import func, select

from ehrlich.audit.models import AuditEntry
from ehrlich.instance.service import Instance
from ehrlich.jobs.models import RUNNING, JobEffect, QueuedJob
from ehrlich.jobs.store import load_payload
from ehrlich.mail.interfaces import OutgoingMail
from ehrlich.subjects.models import STATE_ERASED
from ehrlich.subjects.service import subject_state
from ehrlich.subjects.tasks import ERASE_TASK
from tests.factories import new_subject
from tests.mail.smtp_server import SmtpServer

LEASE_SECONDS = 3
WAIT_SECONDS = 300  # for the last worker to run the queue empty on a busy machine


@dataclass
class CrashRun:
    kills: int = 0
    mails: int = 0
    erasures: int = 0
    seconds: float = 0.0
    delivered: Counter[str] = field(default_factory=Counter)
    """Copies received at the sink, per Message-ID."""
    queued_ids: set[str] = field(default_factory=set)
    in_window: set[str] = field(default_factory=set)
    """Message-IDs whose SMTP hand-over a kill interrupted (the one-message window)."""
    windows: Counter[str] = field(default_factory=Counter)
    """How many kills interrupted each of those hand-overs: a mail cut off twice (its job
    run again and killed again at the same step) may arrive three times."""
    interrupted: int = 0
    """Jobs the killed workers held when they died (run again by the others)."""
    erased_once: int = 0
    """Subjects erased, each with exactly one `subject.erase` audit entry."""
    left_in_queue: int = 0

    @property
    def duplicates(self) -> dict[str, int]:
        return {mid: n for mid, n in self.delivered.items() if n > 1}


def _message_id(data: bytes) -> str:
    return str(message_from_bytes(data, policy=policy.default)["Message-ID"])


def _start_worker(config: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("EHRLICH_")}
    base.update(env, EHRLICH_CONFIG=str(config))
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "ehrlich", "worker"], env=base,
                                cwd=config.parent, stdout=out, stderr=subprocess.STDOUT)


def _mail_ids_in_window(instance: Instance, pid: int) -> set[str]:
    """The mails the dead worker `pid` had begun to hand over (marked, not acknowledged)."""
    with instance.db.read() as session:
        rows = session.execute(select(QueuedJob.payload).join(
            JobEffect, JobEffect.job_id == QueuedJob.id)
            .where(QueuedJob.worker.like(f"%:{pid}"))).scalars().all()
    return {load_payload(text)[0][0]["message_id"] for text in rows}


def _held_by(instance: Instance, pid: int) -> int:
    with instance.db.read() as session:
        return int(session.execute(select(func.count()).select_from(QueuedJob).where(
            QueuedJob.status == RUNNING, QueuedJob.worker.like(f"%:{pid}"))).scalar_one())


def _wait(condition: object, deadline: float, proc: subprocess.Popen[bytes], log: Path
          ) -> None:
    while not condition():  # type: ignore[operator]
        if proc.poll() is not None:
            raise RuntimeError(f"the worker exited early:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not finish in time; see {log}")
        time.sleep(0.02)  # polling a process from outside, not waiting for logic


def crash_run(instance: Instance, config: Path, sink: SmtpServer, *, mails: int,
              erasures: int, kills: int, seed: int) -> CrashRun:
    rng = random.Random(seed)
    run = CrashRun(kills=kills, mails=mails, erasures=erasures)
    subject_ids = [new_subject(instance, f"erase-{i}@example.org") for i in range(erasures)]
    for i in range(mails):
        instance.mail.send(OutgoingMail(
            to=f"person-{i}@example.org", subject="Please confirm",
            text="Confirm your subscription.", html="<p>Confirm your subscription.</p>",
            category="transactional"))
    with instance.db.read() as session:
        run.queued_ids = {load_payload(text)[0][0]["message_id"] for text in
                          session.execute(select(QueuedJob.payload)).scalars()}
    for subject_id in subject_ids:
        instance.jobs.enqueue(ERASE_TASK, subject_id, actor="test:crash")
    env = {"EHRLICH_SMTP_HOST": "127.0.0.1", "EHRLICH_SMTP_PORT": str(sink.port),
           "EHRLICH_SMTP_TLS": "none", "EHRLICH_SMTP_FROM": "Shop <news@shop.example>",
           "EHRLICH_JOB_LEASE_SECONDS": str(LEASE_SECONDS), "EHRLICH_WORKER_THREADS": "2"}
    log = config.parent / "worker.log"
    started = time.monotonic()
    per_kill = max(1, mails // (kills + 1))
    worker = _start_worker(config, env, log)
    for _ in range(kills):
        # The next worker starts before this one dies (two at a time, as in a deployment
        # with several), so its start-up overlaps the work and the kill lands mid-stream.
        successor = _start_worker(config, env, log)
        goal = min(mails, len(sink.received) + rng.randint(1, 2 * per_kill))
        # Past the goal, the kill waits until this worker holds a job: with its successor
        # already taking work, it may otherwise be killed between jobs (on a slow machine
        # all four kills did), and the run would not test an interrupted job.
        _wait(lambda goal=goal, pid=worker.pid: (
            len(sink.received) >= goal and _held_by(instance, pid) > 0)
            or instance.jobs.pending_count() == 0,
            time.monotonic() + WAIT_SECONDS, worker, log)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        run.interrupted += _held_by(instance, worker.pid)
        cut_off = _mail_ids_in_window(instance, worker.pid)
        run.in_window |= cut_off
        run.windows.update(cut_off)
        worker = successor
    _wait(lambda: instance.jobs.pending_count() == 0, time.monotonic() + WAIT_SECONDS,
          worker, log)
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=60)
    run.seconds = time.monotonic() - started

    run.delivered = Counter(_message_id(got.data) for got in sink.received)
    counts = instance.jobs.counts()
    run.left_in_queue = sum(counts.values())
    with instance.db.read() as session:
        per_subject = dict(session.execute(
            select(AuditEntry.target, func.count()).where(AuditEntry.action == "subject.erase")
            .group_by(AuditEntry.target)).all())
        erased = {sid for sid in subject_ids if subject_state(session, sid) == STATE_ERASED}
    run.erased_once = sum(1 for sid in erased if per_subject.get(sid) == 1)
    return run
