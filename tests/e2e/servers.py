"""Start real `ehrlich serve` processes for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx

START_SECONDS = 180  # a 2-core machine loaded by other work starts a server slowly (25-35 s seen)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_servers(config: Path, count: int, *, env: dict[str, str] | None = None,
                    cwd: Path | None = None, ports: list[int] | None = None
                    ) -> Iterator[list[str]]:
    """Start `count` server processes of one instance on free loopback ports (or `ports`,
    e.g. the one in the instance's base_url); yield their base URLs; stop them after. Only
    `env` sets EHRLICH_* variables for them."""
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("EHRLICH_")}
    base_env.update(env or {})
    base_env["EHRLICH_CONFIG"] = str(config)
    procs, urls = [], []
    try:
        for index in range(count):
            port = ports[index] if ports else free_port()
            log = open(config.parent / f"serve-{port}.log", "w")  # noqa: SIM115
            procs.append((subprocess.Popen(
                [sys.executable, "-m", "ehrlich", "serve", "--host", "127.0.0.1",
                 "--port", str(port)],
                env=base_env, cwd=cwd or config.parent, stdout=log, stderr=subprocess.STDOUT),
                log))
            urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + START_SECONDS
        for url, (proc, log) in zip(urls, procs, strict=True):
            wait_healthy(url, proc, Path(log.name), deadline)
        yield urls
    finally:
        for proc, _ in procs:
            proc.terminate()
        for proc, log in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, deadline: float) -> None:
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server at {url} did not start; see {log}")
        time.sleep(0.1)  # waiting for start-up, not for logic
