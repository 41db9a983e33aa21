"""`GET /api/v1/consent/check` over HTTP against a bare endpoint of the same app.

    python -m bench.consent_check [--subjects 2000] [--requests 4000] [--threads 4]

One `ehrlich` app in one uvicorn process on a free loopback port, SQLite. The
baseline is a route added to the same app that returns a constant (no token,
no database); the measured route authenticates the API token, normalises and
blind-indexes the address, and reads the consent state and suppression list.
Clients are keep-alive `http.client` connections in threads of this process,
each request a different seeded address. Aim: >= 50% of the baseline's rate.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI
from sqlalchemy import select

from bench.report import write_section
from ehrlich.app import create_app
from ehrlich.auth.api_tokens import create_api_token
from ehrlich.consent.schemas import ConsentInput
from ehrlich.consent.service import record_consent
from ehrlich.instance.service import init_instance, open_instance
from ehrlich.settings import Settings, load_settings
from ehrlich.subjects.models import Subject
from ehrlich.subjects.schemas import SubjectInput


def bench_app() -> FastAPI:
    """The server side (uvicorn --factory): the real app plus the constant route."""
    app = create_app(open_instance(load_settings()))

    @app.get("/bench/bare")
    def bare() -> dict[str, bool]:
        return {"ok": True}

    return app


def seed(settings: Settings, subjects: int) -> str:
    now = datetime.now(UTC)
    init_instance(settings, now=now)
    instance = open_instance(settings)
    try:
        with instance.db.write() as session:
            instance.subjects.create_many(
                session, [SubjectInput(email=f"p{i}@example.org") for i in range(subjects)],
                actor="bench", now=now)
        with instance.db.write() as session:
            ids = list(session.execute(select(Subject.id)).scalars())
            for n, subject_id in enumerate(ids):
                if n % 2 == 0:  # half consented, half not
                    record_consent(session, instance.audit, ConsentInput(
                        subject_id=subject_id, purpose="newsletter", action="granted",
                        method="import-with-evidence", notice_version=1, notice_hash="h",
                        text_shown="Yes, send me the newsletter."), actor="bench", now=now)
            token, _ = create_api_token(session, name="bench", scopes=["consent:read"],
                                        now=now)
    finally:
        instance.close()
    return token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(config: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "EHRLICH_CONFIG": str(config)}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "bench.consent_check:bench_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         "--no-access-log"], env=env, cwd=Path(__file__).parent.parent)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


def load(port: int, paths: list[str], headers: dict[str, str], threads: int) -> float:
    """Requests per second for all `paths`, spread over `threads` keep-alive clients."""
    failures: list[str] = []

    def worker(share: list[str]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for path in share:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                failures.append(f"{path}: {response.status}")
        conn.close()

    shares = [paths[i::threads] for i in range(threads)]
    workers = [threading.Thread(target=worker, args=(s,)) for s in shares]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. {failures[0]}")
    return len(paths) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", key_file=Path(tmp) / "keys" / "k")
        token = seed(settings, args.subjects)
        port = free_port()
        server = start_server(settings.data_dir / "ehrlich.toml", port)
        try:
            headers = {"Authorization": f"Bearer {token}"}
            checks = ["/api/v1/consent/check?" + urlencode(
                {"email": f"p{i % args.subjects}@example.org", "purpose": "newsletter"})
                for i in range(args.requests)]
            load(port, checks[:200], headers, args.threads)  # warm up
            results: dict[str, list[float]] = {"bare": [], "check": []}
            for _ in range(3):  # interleaved rounds, best of three each
                results["bare"].append(load(port, ["/bench/bare"] * args.requests, headers,
                                            args.threads))
                results["check"].append(load(port, checks, headers, args.threads))
        finally:
            server.terminate()
            server.wait(timeout=30)
    bare, check = max(results["bare"]), max(results["check"])
    ratio = check / bare
    body = (f"## consent/check over HTTP\n\n"
            f"`python -m bench.consent_check --subjects {args.subjects} --requests "
            f"{args.requests} --threads {args.threads}`: one uvicorn process, SQLite, "
            f"{args.threads} keep-alive client threads; best of 3 interleaved rounds.\n\n"
            f"| endpoint | requests/s |\n|---|---|\n"
            f"| bare endpoint of the same app (constant) | {bare:,.0f} |\n"
            f"| `GET /api/v1/consent/check` | {check:,.0f} |\n\n"
            f"consent/check reaches **{ratio:.0%}** of the baseline (aim: >= 50%). "
            f"Load average during the run: {os.getloadavg()[0]:.1f} on "
            f"{os.cpu_count()} cores (client and server share them). Each check also "
            f"authenticates the API token (one database read) before its own single "
            f"query, which the constant route does not.")
    write_section("consent_check", body)
    print(body)


if __name__ == "__main__":
    main()
