"""A small HTTP/1.1 load generator: keep-alive connections on one event loop.

Each of `connections` connections sends one request, reads the whole response (parsed by
httptools, the C parser uvicorn uses) and sends the next, until the time is up; its
latency is recorded. Connections are spread round-robin over the `targets` (one process
each), as a reverse proxy spreads them. The requests are prebuilt bytes, so the generator
spends little CPU per request; how much it spent is measured (its process's CPU time) and
reported beside the rates, because it shares the machine with the servers.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httptools

# (connection number, request number on that connection) -> the raw request
Request = Callable[[int, int], bytes]


@dataclass
class Outcome:
    """What one run reached: requests answered, over how long, their latencies."""

    count: int
    seconds: float
    cpu_seconds: float  # the load generator's own CPU time (user + system)
    latencies: list[float] = field(repr=False)

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0

    @property
    def p50_ms(self) -> float:
        return self.percentile(0.50) * 1000

    @property
    def p99_ms(self) -> float:
        return self.percentile(0.99) * 1000

    @property
    def cpu_share(self) -> float:
        """The generator's share of the machine's CPU time (all cores) during the run."""
        return self.cpu_seconds / (self.seconds * (os.cpu_count() or 1))


def get(path: str, params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None) -> bytes:
    target = f"{path}?{urlencode(params)}" if params else path
    return raw("GET", target, headers or {}, b"")


def post_form(path: str, form: dict[str, str | list[str]],
              headers: dict[str, str] | None = None) -> bytes:
    body = urlencode(form, doseq=True).encode()
    return raw("POST", path, {"Content-Type": "application/x-www-form-urlencoded",
                               **(headers or {})}, body)


def post_json(path: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    return raw("POST", path, {"Content-Type": "application/json", **(headers or {})}, body)


def new_people(token: str) -> Request:
    """`POST /api/v1/subjects` of a new person per request: an address no other request of
    this run (or of an earlier run) uses, so each request creates someone."""
    run = uuid.uuid4().hex[:8]
    auth = {"Authorization": f"Bearer {token}"}

    def person(slot: int, n: int) -> bytes:
        body = json.dumps({"email": f"new-{run}-{slot}-{n}@example.net",
                           "name": f"New {slot} {n}", "source": "benchmark"}).encode()
        return post_json("/api/v1/subjects", body, auth)

    return person


def raw(method: str, target: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1",
             *(f"{k}: {v}" for k, v in headers.items())]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class _Response:
    """httptools callbacks: the status and whether the message is complete."""

    def __init__(self) -> None:
        self.done = False
        self.parser = httptools.HttpResponseParser(self)

    def on_message_complete(self) -> None:
        self.done = True


class RequestFailed(RuntimeError):
    pass


def run(targets: Sequence[tuple[str, int]], request: Request, *, connections: int = 16,
        seconds: float = 5.0) -> Outcome:
    """Load `targets` for `seconds` over `connections` keep-alive connections; every
    response must be 2xx or 3xx (else RequestFailed, with the first failure)."""
    try:
        import uvloop
        runner: Callable[..., Outcome] = uvloop.run
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        runner = asyncio.run
    cpu = os.times()
    outcome = runner(_load(targets, request, connections, seconds))
    after = os.times()
    outcome.cpu_seconds = (after.user - cpu.user) + (after.system - cpu.system)
    return outcome


async def _load(targets: Sequence[tuple[str, int]], request: Request, connections: int,
                seconds: float) -> Outcome:
    latencies: list[list[float]] = [[] for _ in range(connections)]
    failures: list[str] = []
    opened = [await asyncio.open_connection(*targets[slot % len(targets)])
              for slot in range(connections)]
    started = time.perf_counter()
    stop = started + seconds

    async def connection(slot: int) -> None:
        reader, writer = opened[slot]
        mine, n = latencies[slot], 0
        while not failures:
            began = time.perf_counter()
            if began >= stop:
                break
            writer.write(request(slot, n))
            response = _Response()
            while not response.done:
                chunk = await reader.read(65536)
                if not chunk:
                    failures.append(f"connection {slot} closed by the server")
                    return
                response.parser.feed_data(chunk)
            status = response.parser.get_status_code()
            if status >= 400:
                failures.append(f"HTTP {status} on connection {slot}")
                return
            mine.append(time.perf_counter() - began)
            n += 1
            if not response.parser.should_keep_alive():
                writer.close()
                reader, writer = await asyncio.open_connection(*targets[slot % len(targets)])
        writer.close()

    await asyncio.gather(*(connection(slot) for slot in range(connections)))
    elapsed = time.perf_counter() - started
    if failures:
        raise RequestFailed(failures[0])
    every = [t for mine in latencies for t in mine]
    return Outcome(count=len(every), seconds=elapsed, cpu_seconds=0.0, latencies=every)
