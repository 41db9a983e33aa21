"""Start `ehrlich serve` processes on free loopback ports for multi-process tests."""

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(config: Path, count: int, env: dict[str, str], log_dir: Path
            ) -> Iterator[list[str]]:
    """Run `count` servers of one instance; yield their base URLs; stop them after."""
    ehrlich = Path(sys.executable).with_name("ehrlich")
    full_env = {**os.environ, "EHRLICH_CONFIG": str(config), **env}
    processes, urls, logs = [], [], []
    try:
        for i in range(count):
            port = free_port()
            logs.append((log_dir / f"server-{i}.log").open("wb"))
            processes.append(subprocess.Popen(
                [str(ehrlich), "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=full_env, stdout=logs[-1], stderr=subprocess.STDOUT))
            urls.append(f"http://127.0.0.1:{port}")
        for url, process in zip(urls, processes, strict=True):
            _wait_healthy(url, process, log_dir)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in logs:
            log.close()


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log_dir: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            logs = "\n".join(p.read_text() for p in log_dir.glob("server-*.log"))
            raise RuntimeError(f"server exited early:\n{logs}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # waiting for start-up, not for logic
    raise RuntimeError(f"{url} did not become healthy")
