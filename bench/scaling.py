"""Several `ehrlich serve` processes on PostgreSQL + Redis, as docs/deploy.md sets them up.

    python -m bench.scaling [--processes 1 2 4] [--seconds 5] [--rounds 2] [--connections 16]
                            [--people 10000] [--postgres URL] [--redis URL]

A fresh instance database and ledger database on the PostgreSQL server, Redis for the
shared counters and token revocations, two `ehrlich worker` processes, and 1, 2 and 4
`ehrlich serve` processes on their own loopback ports. The load generator (bench/loadgen.py,
one event loop, keep-alive connections spread round-robin over the processes as a proxy
would) runs in this process; its CPU time is measured and stated.

At each process count, in interleaved rounds: the constant endpoint
(`GET /.well-known/gpc.json`, the baseline), consent checks (`GET /api/v1/consent/check`
with a bearer token) and consent writes (`POST /preferences/{token}` toggling the
newsletter; each connection changes a person of its own). Then a token is revoked and
every process is polled until it refuses it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import select

from bench import loadgen
from bench.consented import populate
from bench.population import NOW, published_instance
from bench.processes import (
    cpu_seconds,
    ehrlich_env,
    machine_busy,
    memory_mib,
    postgres_databases,
    servers,
    sessions_opened,
    start,
    stop,
)
from bench.report import write_section
from ehrlich.auth.api_tokens import create_api_token, withdraw_api_token
from ehrlich.consent.signup.links import preferences_token
from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance
from ehrlich.settings import Settings
from ehrlich.subjects.models import Subject

KINDS = ("constant", "check", "writes")


@dataclass
class Figure:
    rate: float
    p50_ms: float
    p99_ms: float
    loadgen_share: float  # of the machine's CPU
    servers_share: float
    machine_share: float
    connections_per_1000: float


def prepare(settings: Settings, people: int, connections: int
            ) -> tuple[str, list[str]]:
    """The instance with `people` consented people; a consent:read token and one
    preferences link for each connection."""
    with published_instance(settings, NOW) as instance:
        populate(instance, people)
        with instance.db.write() as session:
            token, _ = create_api_token(session, name="bench", scopes=["consent:read"], now=NOW)
            ids = list(session.execute(select(Subject.id).order_by(Subject.created_at)
                                       .limit(connections)).scalars())
        links = [preferences_token(instance.keyring, subject_id=i, now=NOW) for i in ids]
    return token, links


def requests(token: str, links: list[str]) -> dict[str, loadgen.Request]:
    auth = {"Authorization": f"Bearer {token}"}
    constant = loadgen.get("/.well-known/gpc.json")
    check = loadgen.get("/api/v1/consent/check", {"email": "person0@example0.org",
                                                  "purpose": "newsletter"}, auth)
    on = [loadgen.post_form(f"/preferences/{link}", {"purpose": ["newsletter"]})
          for link in links]
    off = [loadgen.post_form(f"/preferences/{link}", {}) for link in links]
    return {
        "constant": lambda _slot, _n: constant,
        "check": lambda _slot, _n: check,
        "writes": lambda slot, n: (on if n % 2 else off)[slot % len(links)],
    }


def measure(ports: list[int], pids: list[int], request: loadgen.Request, seconds: float,
            connections: int, database_url: str) -> Figure:
    opened = sessions_opened(database_url)
    servers_before, busy_before = cpu_seconds(pids), machine_busy()
    outcome = loadgen.run([("127.0.0.1", p) for p in ports], request,
                          connections=connections, seconds=seconds)
    servers_after, busy_after = cpu_seconds(pids), machine_busy()
    time.sleep(1.5)  # backends report their counters at most once a second
    new = sessions_opened(database_url) - opened - 1  # less the probe's own session
    cores = os.cpu_count() or 1
    return Figure(
        rate=outcome.rate, p50_ms=outcome.p50_ms, p99_ms=outcome.p99_ms,
        loadgen_share=outcome.cpu_share,
        servers_share=(servers_after - servers_before) / (outcome.seconds * cores),
        machine_share=(busy_after[0] - busy_before[0]) / (busy_after[1] - busy_before[1]),
        connections_per_1000=1000 * new / outcome.count)


def revocation_seconds(instance: Instance, ports: list[int]) -> float:
    """Seconds from a revocation's commit until the last process refuses the token."""
    with instance.db.write() as session:
        token, record = create_api_token(session, name="revoked", scopes=["consent:read"],
                                         now=NOW)
    url = "/api/v1/consent/check?email=person0@example0.org&purpose=newsletter"
    header = {"Authorization": f"Bearer {token}"}
    for port in ports:  # every process caches it
        for _ in range(3):
            httpx.get(f"http://127.0.0.1:{port}{url}", headers=header,
                      timeout=10).raise_for_status()
    with instance.db.write() as session:
        withdraw_api_token(session, instance.audit, record.id, actor="bench", now=NOW)
        instance.api_tokens.revoke_in(session, record.id)
    since = time.monotonic()
    waiting = set(ports)
    latest = 0.0
    while waiting and time.monotonic() - since < 30:
        for port in list(waiting):
            status = httpx.get(f"http://127.0.0.1:{port}{url}", headers=header,
                               timeout=10).status_code
            if status == 401:
                waiting.discard(port)
                latest = time.monotonic() - since
        time.sleep(0.005)
    if waiting:
        raise RuntimeError(f"still accepted after 30 s by ports {sorted(waiting)}")
    return latest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--postgres", default=os.environ.get(
        "EHRLICH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis", default=os.environ.get(
        "EHRLICH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    root = Path(tempfile.mkdtemp(prefix="ehrlich-scaling-"))
    table: dict[int, dict[str, list[Figure]]] = {}
    revocations: dict[int, float] = {}
    memory: dict[int, tuple[float, float]] = {}
    prefix = f"ehrlich-bench-{uuid.uuid4().hex[:8]}:"
    try:
        with postgres_databases(args.postgres, "scaling", "scaling_ledger") as (data, ledger):
            settings = Settings(
                data_dir=root / "data", key_file=root / "keys" / "bench.key",
                base_url="http://127.0.0.1", inprocess_worker=False, signup_per_hour=10**9,
                database_url=data, ledger_url=ledger, redis_url=args.redis,
                redis_prefix=prefix)
            print(f"preparing {args.people:,} people on {data.rsplit('/', 1)[1]}", flush=True)
            token, links = prepare(settings, args.people, args.connections)
            env = ehrlich_env(settings.data_dir / "ehrlich.toml", {
                "EHRLICH_LEDGER_URL": ledger, "EHRLICH_REDIS_URL": args.redis,
                "EHRLICH_REDIS_PREFIX": prefix, "EHRLICH_INPROCESS_WORKER": "false",
                "EHRLICH_SIGNUP_PER_HOUR": str(10**9)})
            workers = [start(["worker"], env, root / f"worker-{i}.log")
                       for i in range(args.workers)]
            instance = open_instance(settings)
            try:
                kinds = requests(token, links)
                for count in args.processes:
                    with servers(count, env, root) as running:
                        ports = [port for port, _ in running]
                        pids = [process.pid for _, process in running]
                        for request in kinds.values():  # warm-up: imports, caches, pools
                            loadgen.run([("127.0.0.1", p) for p in ports], request,
                                        connections=args.connections, seconds=1.0)
                        table[count] = {kind: [] for kind in KINDS}
                        for _ in range(args.rounds):
                            for kind in KINDS:
                                figure = measure(ports, pids, kinds[kind], args.seconds,
                                                 args.connections, data)
                                table[count][kind].append(figure)
                                print(f"{count} process(es) {kind}: {figure.rate:,.0f}/s "
                                      f"p99 {figure.p99_ms:.1f} ms", flush=True)
                        memory[count] = max(memory_mib(pid) for pid in pids)
                        revocations[count] = revocation_seconds(instance, ports)
            finally:
                instance.close()
                stop(workers)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    body = report(args, table, revocations, memory, load_start)
    print(body)
    write_section("scaling", body)


def _median(figures: list[Figure], name: str) -> float:
    return float(statistics.median(getattr(f, name) for f in figures))


def report(args: argparse.Namespace, table: dict[int, dict[str, list[Figure]]],
           revocations: dict[int, float], memory: dict[int, tuple[float, float]],
           load_start: float) -> str:
    labels = {"constant": "constant endpoint (baseline)", "check": "consent check",
              "writes": "consent write"}
    lines = []
    for count, figures in table.items():
        base = _median(figures["constant"], "rate")
        for kind in KINDS:
            runs = figures[kind]
            rate = _median(runs, "rate")
            first = _median(table[args.processes[0]][kind], "rate")
            lines.append(
                f"| {count} | {labels[kind]} | {rate:,.0f}/s | "
                f"{rate / base:.0%} | {rate / first:.2f}× "
                f"| {_median(runs, 'p50_ms'):.1f} ms | {_median(runs, 'p99_ms'):.1f} ms | "
                f"{_median(runs, 'loadgen_share'):.0%} | {_median(runs, 'servers_share'):.0%} | "
                f"{_median(runs, 'machine_share'):.0%} | "
                f"{_median(runs, 'connections_per_1000'):.2f} |")
    revoked = ", ".join(f"{n} process{'es' if n > 1 else ''}: {s * 1000:.0f} ms"
                        for n, s in revocations.items())
    rss = ", ".join(f"{n}: {now:.0f} MiB (peak {peak:.0f})" for n, (now, peak) in memory.items())
    return "\n".join([
        "## Scaling: 1, 2 and 4 `serve` processes on PostgreSQL + Redis "
        "(`python -m bench.scaling`)",
        "",
        f"The deploy docs' set-up on one machine: an instance database and a ledger database "
        f"on the local PostgreSQL, Redis for counters and token revocations, {args.workers} "
        f"`ehrlich worker` processes and N `ehrlich serve` processes, each on its own port. "
        f"Load: bench/loadgen.py in the bench process, {args.connections} keep-alive "
        "connections on one event loop, spread round-robin over the processes as a proxy "
        f"would; {args.rounds} interleaved rounds of {args.seconds:.0f} s per figure, "
        f"medians. {args.people:,} consented people. Check: `GET /api/v1/consent/check` "
        "with a bearer token. Write: `POST /preferences/{token}` toggling the newsletter "
        "(events, state, suppression and audit entries in one transaction, then the page), "
        "each connection changing a person of its own. Baseline: the constant endpoint "
        "`GET /.well-known/gpc.json` at the same process count. CPU columns: share of the "
        "machine's CPU time (all cores) over the figure's run: the load generator's own "
        "process, the `serve` processes together, and the whole machine (PostgreSQL, Redis, "
        "workers and other users' work included). Connections: PostgreSQL sessions opened "
        "to the instance database per 1,000 requests (`pg_stat_database.sessions`).",
        "",
        "| serve processes | figure | rate | of baseline | of 1 process | p50 | p99 | "
        "load generator CPU | serve CPU | machine busy | connections / 1,000 requests |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *lines,
        "",
        f"Token revocation (Redis pub/sub), from the revoking commit until the last process "
        f"refused the token it had cached: {revoked} (aim: within 1 s).",
        "",
        f"Largest resident memory of one `serve` process after its runs: {rss}.",
        "",
        f"1-minute load average at the start: {load_start:.1f}, at the end: "
        f"{os.getloadavg()[0]:.1f}. The machine has {os.cpu_count()} cores: more processes "
        "than cores share them with PostgreSQL and the load generator, so the table shows "
        "what several processes cost here, not what they gain on more cores.",
    ])


if __name__ == "__main__":
    main()
