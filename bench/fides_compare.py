"""ehrlich (SQLite and PostgreSQL) side by side with Fides, same load generator and machine.

    python -m bench.fides_compare --fides-bin ../fides-venv/bin/fides
        [--postgres URL] [--redis-host 127.0.0.1] [--seconds 6] [--rounds 3]
        [--connections 16] [--audience 10000]

Fides is not part of this repository: install it in a virtual environment of its own
(`python3 -m venv ../fides-venv && ../fides-venv/bin/pip install ethyca-fides==2.78.2`)
and name its `fides` command. The bench starts `fides webserver` against a fresh database
of its own on the PostgreSQL server and Redis database 5, with an encryption key and root
client secret made for the run (kept nowhere), and drops the database afterwards.

Three servers run at once, one process each: ehrlich on SQLite, ehrlich on PostgreSQL and
Fides; rounds alternate between them so that the machine's changing load hits all alike.
The same load generator (bench/loadgen.py, `--connections` keep-alive connections on one
event loop) drives them:

- consent update: ehrlich `POST /preferences/{token}` toggling the newsletter of one person
  per connection (events, state, suppression and audit entries, then the page); Fides
  `PATCH /api/v1/consent-request/{id}/preferences` toggling `marketing.advertising` of
  one identity per connection (the consent rows, and the privacy request it queues to
  propagate the change).
- new person: ehrlich `POST /api/v1/subjects` (sealed under a new data key, blind index,
  audit entry); Fides `POST /api/v1/consent-request` with a new email address (a new
  provided identity, hashed and encrypted, and its consent request).

Besides rates and latencies, each server's CPU time per request (user + system of its
process over the requests it answered): on a machine loaded by other work the rates move
with the load, the CPU a request costs much less. Memory: the peak resident set (VmHWM)
of each server process over the run.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bench import loadgen
from bench.consent_engines import postgres_url, writer_token
from bench.consented import WORK, prepare, settings_for
from bench.population import NOW
from bench.processes import (
    cpu_seconds,
    free_port,
    memory_mib,
    postgres_databases,
    serve,
    stop,
)
from bench.report import write_section
from ehrlich.consent.signup.links import preferences_token
from ehrlich.domains import open_instance
from ehrlich.settings import Settings
from ehrlich.subjects.models import Subject

KINDS = ("consent update", "new person")


def ehrlich_requests(settings: Settings, connections: int) -> dict[str, loadgen.Request]:
    writer = writer_token(settings)
    instance = open_instance(settings)
    try:
        with instance.db.read() as session:
            ids = list(session.execute(select(Subject.id).order_by(Subject.created_at)
                                       .limit(connections)).scalars())
        links = [preferences_token(instance.keyring, subject_id=i, now=NOW) for i in ids]
    finally:
        instance.close()
    on = [loadgen.post_form(f"/preferences/{link}", {"purpose": ["newsletter"]})
          for link in links]
    off = [loadgen.post_form(f"/preferences/{link}", {}) for link in links]
    return {"consent update": lambda slot, n: (on if n % 2 else off)[slot % len(on)],
            "new person": loadgen.new_people(writer)}


def fides_requests(base: str, connections: int) -> dict[str, loadgen.Request]:
    ids = []
    for slot in range(connections):
        response = httpx.post(f"{base}/api/v1/consent-request", timeout=60,
                              json={"identity": {"email": f"person{slot}@example.org"}})
        response.raise_for_status()
        ids.append(response.json()["consent_request_id"])

    def update(slot: int, n: int) -> bytes:
        body = json.dumps({"consent": [{"data_use": "marketing.advertising",
                                        "opt_in": bool(n % 2)}]}).encode()
        return loadgen.raw("PATCH", f"/api/v1/consent-request/{ids[slot]}/preferences",
                            {"Content-Type": "application/json"}, body)

    run = uuid.uuid4().hex[:8]

    def person(slot: int, n: int) -> bytes:
        body = json.dumps({"identity": {"email": f"new-{run}-{slot}-{n}@example.net"}})
        return loadgen.post_json("/api/v1/consent-request", body.encode())

    return {"consent update": update, "new person": person}


def start_fides(binary: str, database_url: str, redis_host: str, port: int, log: Path
                ) -> subprocess.Popen[bytes]:
    url = make_url(database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIDES__")}
    env.update({
        "FIDES__DATABASE__SERVER": url.host or "127.0.0.1",
        "FIDES__DATABASE__PORT": str(url.port or 5432),
        "FIDES__DATABASE__USER": url.username or "postgres",
        "FIDES__DATABASE__PASSWORD": url.password or "unused-with-trust-auth",
        "FIDES__DATABASE__DB": url.database or "",
        "FIDES__REDIS__HOST": redis_host, "FIDES__REDIS__PORT": "6379",
        "FIDES__REDIS__PASSWORD": "", "FIDES__REDIS__DB_INDEX": "5",
        "FIDES__REDIS__SSL": "false",
        "FIDES__SECURITY__APP_ENCRYPTION_KEY": secrets.token_hex(16),
        "FIDES__SECURITY__OAUTH_ROOT_CLIENT_ID": "bench",
        "FIDES__SECURITY__OAUTH_ROOT_CLIENT_SECRET": secrets.token_urlsafe(24),
        "FIDES__SECURITY__ENV": "dev", "FIDES__USER__ANALYTICS_OPT_OUT": "true",
        "FIDES__LOGGING__LEVEL": "WARNING",
        "FIDES__EXECUTION__REQUIRE_MANUAL_REQUEST_APPROVAL": "false",
    })
    process = subprocess.Popen([binary, "webserver", "--port", str(port)], env=env,
                               cwd=log.parent, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 900  # migrations on a loaded machine take minutes
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Fides exited early; see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(1)  # waiting for start-up
    stop([process])
    raise RuntimeError(f"Fides did not start; see {log}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fides-bin", required=True)
    parser.add_argument("--postgres", default=os.environ.get(
        "EHRLICH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis-host", default="127.0.0.1")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--audience", type=int, default=10_000)
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    pg_root = WORK / f"consent-{args.audience}-postgres"
    pg = postgres_url(args.postgres, args.audience, pg_root)
    sites = {"ehrlich, SQLite": settings_for(WORK / f"consent-{args.audience}"),
             "ehrlich, PostgreSQL": settings_for(pg_root, database_url=pg)}
    for settings in sites.values():
        prepare(settings.data_dir.parent, args.audience, database_url=settings.database_url)
    processes: dict[str, subprocess.Popen[bytes]] = {}
    ports: dict[str, int] = {}
    kinds: dict[str, dict[str, loadgen.Request]] = {}
    results: dict[str, dict[str, list[loadgen.Outcome]]] = {}
    costs: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp, \
            postgres_databases(args.postgres, "fides") as (fides_db,):
        try:
            for name, settings in sites.items():
                ports[name] = free_port()
                processes[name] = serve(settings.data_dir / "ehrlich.toml", ports[name],
                                        settings.data_dir.parent / "serve.log")
                kinds[name] = ehrlich_requests(settings, args.connections)
            ports["Fides 2.78.2"] = free_port()
            print("starting Fides (its migrations take minutes)", flush=True)
            processes["Fides 2.78.2"] = start_fides(
                args.fides_bin, fides_db, args.redis_host, ports["Fides 2.78.2"],
                Path(tmp) / "fides.log")
            kinds["Fides 2.78.2"] = fides_requests(f"http://127.0.0.1:{ports['Fides 2.78.2']}",
                                                   args.connections)
            for name in processes:  # warm-up
                for request in kinds[name].values():
                    loadgen.run([("127.0.0.1", ports[name])], request,
                                connections=args.connections, seconds=1.0)
                results[name] = {kind: [] for kind in KINDS}
                costs[name] = {kind: [] for kind in KINDS}
            for _ in range(args.rounds):
                for name, process in processes.items():
                    for kind in KINDS:
                        before = cpu_seconds([process.pid])
                        outcome = loadgen.run([("127.0.0.1", ports[name])], kinds[name][kind],
                                              connections=args.connections,
                                              seconds=args.seconds)
                        results[name][kind].append(outcome)
                        used = cpu_seconds([process.pid]) - before
                        costs[name][kind].append(used / outcome.count * 1000)
                        print(f"{name} {kind}: {outcome.rate:,.1f}/s p99 "
                              f"{outcome.p99_ms:,.0f} ms", flush=True)
            memory = {name: memory_mib(p.pid)[1] for name, p in processes.items()}
        finally:
            stop(list(processes.values()))
    body = report(args, results, costs, memory, load_start)
    print(body)
    write_section("fides", body)


def report(args: argparse.Namespace, results: dict[str, dict[str, list[loadgen.Outcome]]],
           costs: dict[str, dict[str, list[float]]], memory: dict[str, float],
           load_start: float) -> str:
    def med(name: str, kind: str, attribute: str) -> float:
        return float(statistics.median(getattr(o, attribute) for o in results[name][kind]))

    fides = "Fides 2.78.2"
    lines = []
    for name in results:
        cells = []
        for kind in KINDS:
            rate, p99 = med(name, kind, "rate"), med(name, kind, "p99_ms")
            versus = "" if name == fides else (
                f" ({rate / med(fides, kind, 'rate'):.1f}×, p99 "
                f"{p99 / med(fides, kind, 'p99_ms'):.2f}×)")
            cost = statistics.median(costs[name][kind])
            cheaper = "" if name == fides else (
                f" ({statistics.median(costs[fides][kind]) / cost:.1f}× less)")
            cells.append(f"{rate:,.1f}/s, p50 {med(name, kind, 'p50_ms'):,.0f} ms, "
                         f"p99 {p99:,.0f} ms{versus}; {cost:.1f} ms CPU{cheaper}")
        share = statistics.median(o.cpu_share for k in KINDS for o in results[name][k])
        lines.append(f"| {name} | {' | '.join(cells)} | {memory[name]:.0f} MiB | {share:.0%} |")
    return "\n".join([
        "## Side by side with Fides 2.78.2 (`python -m bench.fides_compare`)",
        "",
        f"One server process each, all three running at once on this machine; "
        f"{args.connections} keep-alive connections from the same load generator "
        f"(bench/loadgen.py); {args.rounds} rounds of {args.seconds:.0f} s alternating "
        "between the servers; medians. Consent update: ehrlich `POST /preferences/{token}` "
        "toggling a purpose, Fides `PATCH /api/v1/consent-request/{id}/preferences` "
        "toggling a data use (one person per connection on both). New person: ehrlich "
        "`POST /api/v1/subjects`, Fides `POST /api/v1/consent-request` with a new address. "
        f"ehrlich's instances hold {args.audience:,} consented people; Fides's database is "
        "new. In brackets: ehrlich's rate as a multiple of Fides's, and its p99 as a "
        "fraction of Fides's. CPU: the server process's CPU time per request (in brackets, "
        "how many times less than Fides's). Memory: each server process's peak resident set.",
        "",
        "| server | consent update | new person | peak RSS | load generator CPU |",
        "|---|---|---|---:|---:|",
        *lines,
        "",
        "Aims: >= 10× Fides's consent update and new-person rates on both databases, p99 "
        "<= 0.1× Fides's, a web process's RSS <= 100 MB.",
        "",
        f"1-minute load average at the start: {load_start:.1f}, at the end: "
        f"{os.getloadavg()[0]:.1f}.",
    ])


if __name__ == "__main__":
    main()
