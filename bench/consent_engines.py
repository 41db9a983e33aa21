"""`python -m bench.consent --postgres URL`: the consent figures on SQLite and PostgreSQL.

One `ehrlich serve` process per database, one after the other in the same run, each with
its constant endpoint as its baseline; the same requests from the same load generator
(bench/loadgen.py, keep-alive connections on one event loop). Beside the rates: p50/p99,
the PostgreSQL sessions opened per 1,000 requests (`pg_stat_database.sessions` before and
after each figure: a pool smaller than the requests in flight shows up here), and the
server's resident memory after warm-up and at its peak under load.

The PostgreSQL instance lives in a database of its own on the server of URL
(`ehrlich_bench_consent_<N>`), kept with the SQLite one under bench/.work/ between runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench import loadgen
from bench.consented import WORK, prepare, settings_for
from bench.population import NOW
from bench.processes import cpu_seconds, free_port, memory_mib, serve, sessions_opened
from bench.report import write_section
from ehrlich.auth.api_tokens import create_api_token
from ehrlich.domains import open_instance
from ehrlich.settings import Settings

KINDS = ("constant", "check", "writes", "new person")


@dataclass
class Engine:
    label: str
    rates: dict[str, list[float]] = field(default_factory=dict)
    p50: dict[str, list[float]] = field(default_factory=dict)
    p99: dict[str, list[float]] = field(default_factory=dict)
    server_us: dict[str, list[float]] = field(default_factory=dict)
    loadgen_share: dict[str, list[float]] = field(default_factory=dict)
    per_1000: dict[str, list[float]] = field(default_factory=dict)
    rss_warm: float = 0.0
    rss_peak: float = 0.0


def postgres_url(admin_url: str, audience: int, root: Path) -> str:
    """The cached instance database for `audience` people, whose marker is `root`/ready;
    made anew (and the marker removed) when either is missing."""
    name = f"ehrlich_bench_consent_{audience}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": name}).first() is not None
            if not exists or not (root / "ready").exists():
                (root / "ready").unlink(missing_ok=True)
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def writer_token(settings: Settings) -> str:
    instance = open_instance(settings)
    try:
        with instance.db.write() as session:
            token, _ = create_api_token(session, name="bench-writer",
                                        scopes=["subjects:write"], now=NOW)
    finally:
        instance.close()
    return token


def requests(token: str, writer: str, prefs: str) -> dict[str, loadgen.Request]:
    auth = {"Authorization": f"Bearer {token}"}
    constant = loadgen.get("/.well-known/gpc.json")
    check = loadgen.get("/api/v1/consent/check", {"email": "person0@example0.org",
                                                  "purpose": "newsletter"}, auth)
    on = loadgen.post_form(f"/preferences/{prefs}", {"purpose": ["newsletter"]})
    off = loadgen.post_form(f"/preferences/{prefs}", {})
    return {"constant": lambda _s, _n: constant, "check": lambda _s, _n: check,
            "writes": lambda _s, n: on if n % 2 else off,
            "new person": loadgen.new_people(writer)}


def measure(engine: Engine, settings: Settings, args: argparse.Namespace) -> None:
    token, prefs = prepare_for(settings, args.audience)
    writer = writer_token(settings)
    port = free_port()
    process = serve(settings.data_dir / "ehrlich.toml", port,
                    settings.data_dir.parent / "serve.log")
    postgres = settings.effective_database_url.startswith("postgresql")
    try:
        kinds = requests(token, writer, prefs)
        for request in kinds.values():
            loadgen.run([("127.0.0.1", port)], request, connections=args.threads, seconds=1)
        engine.rss_warm = memory_mib(process.pid)[0]
        for _ in range(args.rounds):
            for kind, request in kinds.items():
                opened = sessions_opened(settings.effective_database_url) if postgres else 0
                before = cpu_seconds([process.pid])
                outcome = loadgen.run([("127.0.0.1", port)], request,
                                      connections=args.threads, seconds=args.seconds)
                used = cpu_seconds([process.pid]) - before
                engine.rates.setdefault(kind, []).append(outcome.rate)
                engine.p50.setdefault(kind, []).append(outcome.p50_ms)
                engine.p99.setdefault(kind, []).append(outcome.p99_ms)
                engine.server_us.setdefault(kind, []).append(used / outcome.count * 1e6)
                engine.loadgen_share.setdefault(kind, []).append(outcome.cpu_share)
                if postgres:
                    time.sleep(1.5)  # backends report their counters at most once a second
                    new = sessions_opened(settings.effective_database_url) - opened - 1
                    engine.per_1000.setdefault(kind, []).append(1000 * new / outcome.count)
                print(f"{engine.label} {kind}: {outcome.rate:,.0f}/s p99 "
                      f"{outcome.p99_ms:.1f} ms", flush=True)
        engine.rss_peak = memory_mib(process.pid)[1]
    finally:
        process.terminate()
        process.wait(timeout=30)


def prepare_for(settings: Settings, audience: int) -> tuple[str, str]:
    _, token, prefs = prepare(settings.data_dir.parent, audience,
                              database_url=settings.database_url)
    return token, prefs


def run(args: argparse.Namespace) -> None:
    load_start = os.getloadavg()[0]
    pg_root = WORK / f"consent-{args.audience}-postgres"
    pg = postgres_url(args.postgres, args.audience, pg_root)
    engines = []
    for label, url, root in (("SQLite", "", WORK / f"consent-{args.audience}"),
                             ("PostgreSQL", pg, pg_root)):
        engine = Engine(label)
        measure(engine, settings_for(root, database_url=url), args)
        engines.append(engine)
    body = report(engines, args, load_start)
    print(body)
    write_section("consent_engines", body)


def _med(values: list[float]) -> float:
    return statistics.median(values)


def report(engines: list[Engine], args: argparse.Namespace, load_start: float) -> str:
    labels = {"constant": "constant endpoint (baseline)", "check": "consent check",
              "writes": "preference change (write)", "new person": "new person (API)"}
    lines = []
    for engine in engines:
        base = _med(engine.rates["constant"])
        for kind in KINDS:
            rate = _med(engine.rates[kind])
            per_1000 = f"{_med(engine.per_1000[kind]):.2f}" if engine.per_1000 else "n/a"
            lines.append(
                f"| {engine.label} | {labels[kind]} | {rate:,.0f}/s | {rate / base:.0%} | "
                f"{_med(engine.p50[kind]):.1f} ms | {_med(engine.p99[kind]):.1f} ms | "
                f"{_med(engine.server_us[kind]):,.0f} µs | "
                f"{_med(engine.loadgen_share[kind]):.0%} | {per_1000} |")
    sqlite, postgres = engines
    ratios = ", ".join(
        f"{labels[k]} {_med(postgres.rates[k]) / _med(sqlite.rates[k]):.0%}"
        for k in KINDS[1:])
    memory = "; ".join(f"{e.label}: {e.rss_warm:.0f} MiB after warm-up, {e.rss_peak:.0f} MiB "
                       "at its peak" for e in engines)
    return "\n".join([
        "## Consent on SQLite and PostgreSQL (`python -m bench.consent --postgres URL`)",
        "",
        f"One `ehrlich serve` process per database, one after the other in the same run; "
        f"{args.audience:,} consented people in each. Load: bench/loadgen.py, "
        f"{args.threads} keep-alive connections on one event loop in the bench process, "
        f"{args.rounds} interleaved rounds of {args.seconds:.0f} s per figure; medians. "
        "Check: `GET /api/v1/consent/check` with a bearer token; write: "
        "`POST /preferences/{token}` toggling the newsletter of one person; new person: "
        "`POST /api/v1/subjects` with a new address each time (sealed under a new data key, "
        "blind index, audit entry). Baseline: `GET /.well-known/gpc.json` of the same "
        "process. Connections: PostgreSQL sessions opened to the instance database per "
        "1,000 requests (`pg_stat_database.sessions` before and after each figure).",
        "",
        "| database | figure | rate | of baseline | p50 | p99 | server CPU per request | "
        "load generator CPU (of the machine) | connections / 1,000 requests |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        *lines,
        "",
        f"PostgreSQL against SQLite in the same run: {ratios}.",
        "",
        f"Resident memory of the `serve` process: {memory}.",
        "",
        f"1-minute load average at the start: {load_start:.1f}, at the end: "
        f"{os.getloadavg()[0]:.1f}.",
    ])
