"""Real `ehrlich` processes for benchmarks: start, wait, measure (CPU, memory), stop.

Linux /proc figures; where they are missing the measurements read None.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from tests.e2e import servers as e2e_servers
from tests.e2e.servers import free_port


def ehrlich_env(config: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child `ehrlich` process: only `config` and `extra` set it up."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EHRLICH_")}
    env["EHRLICH_CONFIG"] = str(config)
    env.update(extra or {})
    return env


def start(args: Sequence[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "ehrlich", *args], env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


def wait_healthy(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until the server on `port` answers /healthz (stopping it if it never does)."""
    try:
        e2e_servers.wait_healthy(f"http://127.0.0.1:{port}", process, log,
                             time.monotonic() + e2e_servers.START_SECONDS)
    except RuntimeError:
        process.terminate()
        raise


def serve(config: Path, port: int, log: Path, extra: dict[str, str] | None = None
          ) -> subprocess.Popen[bytes]:
    """One `ehrlich serve` process of the instance configured by `config`, answering."""
    process = start(["serve", "--host", "127.0.0.1", "--port", str(port)],
                    ehrlich_env(config, {"EHRLICH_SIGNUP_PER_HOUR": str(10**9),
                                         **(extra or {})}), log)
    wait_healthy(port, process, log)
    return process


@contextmanager
def servers(count: int, env: dict[str, str], logs: Path
            ) -> Iterator[list[tuple[int, subprocess.Popen[bytes]]]]:
    """`count` `ehrlich serve` processes on free loopback ports: [(port, process)]."""
    running: list[tuple[int, subprocess.Popen[bytes]]] = []
    try:
        for _ in range(count):
            port = free_port()
            running.append((port, start(["serve", "--host", "127.0.0.1", "--port", str(port)],
                                        env, logs / f"serve-{port}.log")))
        for port, process in running:
            wait_healthy(port, process, logs / f"serve-{port}.log")
        yield running
    finally:
        stop([process for _, process in running])


def stop(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time of these processes so far (0 for one that is gone)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return float(sum(values) - idle), float(sum(values))


def memory_mib(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) of a process in MiB: VmRSS and VmHWM."""
    found: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found["VmRSS"], found["VmHWM"]


@contextmanager
def postgres_databases(admin_url: str, *names: str) -> Iterator[list[str]]:
    """Fresh PostgreSQL databases `ehrlich_bench_<name>_<random>`, dropped after: their URLs."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    suffix = uuid.uuid4().hex[:8]
    made = [f"ehrlich_bench_{name}_{suffix}" for name in names]
    try:
        with admin.connect() as conn:
            for name in made:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield [make_url(admin_url).set(database=name).render_as_string(hide_password=False)
               for name in made]
    finally:
        with admin.connect() as conn:
            for name in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def sessions_opened(url: str) -> int:
    """Connections ever opened to the database of `url` (pg_stat_database.sessions)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            return int(conn.execute(text(
                "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
            )).scalar_one())
    finally:
        engine.dispose()
