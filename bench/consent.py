"""Consent over HTTP against a constant endpoint of the same server, and the audience stream.

    python -m bench.consent [--seconds 8] [--threads 8] [--audience 1000000] [--postgres URL]

One real `ehrlich serve` process (SQLite) on a free loopback port; the load
generator is httpx with keep-alive connections, one per thread, each run
bounded in time. Baseline: `GET /.well-known/gpc.json` of the same app, a
constant JSON document through the same middleware, no database.

- check: `GET /api/v1/consent/check?email=&purpose=&channel=` with a bearer token
  (token look-up, blind index, state and suppression queries).
- writes: `POST /preferences/{token}` toggling one purpose on and off, each a
  `requested` + `confirmed` or a `withdrawn` event, state row and audit entries
  in one transaction; one server process, so one SQLite writer.
- audience: `GET /api/v1/audience?purpose=newsletter` streaming NDJSON for N
  consented subjects, each decrypted (data key unwrapped, two fields opened),
  one audit entry per batch of 1,000. The subjects are made once with
  `SubjectsService.create_many` and their consent states with bulk Core inserts,
  and cached under bench/.work/ (git-ignored).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Callable

import httpx2 as httpx

from bench.consent_engines import run as run_on_both_engines
from bench.consented import WORK, prepare
from bench.processes import cpu_seconds, free_port, serve
from bench.report import write_section
from ehrlich.settings import Settings


def measured(pid: int, run: Callable[[], float]) -> tuple[float, str]:
    """The rate `run` reaches and the server's CPU time per request during it."""
    before, started = cpu_seconds([pid]), time.perf_counter()
    rate = run()
    after, elapsed = cpu_seconds([pid]), time.perf_counter() - started
    return rate, f"{(after - before) / (rate * elapsed) * 1e6:,.0f} µs"


def load(base: str, seconds: float, threads: int,
         request: Callable[[httpx.Client, int], httpx.Response]) -> float:
    """Requests per second over `seconds`, `threads` keep-alive clients; all must be 2xx."""
    counts = [0] * threads
    failures: list[str] = []
    stop = time.perf_counter() + seconds

    def worker(slot: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            n = 0
            while time.perf_counter() < stop:
                response = request(client, slot * 1_000_000 + n)
                if not response.is_success:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                    return
                n += 1
            counts[slot] = n

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if failures:
        raise RuntimeError(f"requests failed: {failures[:3]}")
    return sum(counts) / (time.perf_counter() - started)


def stream_audience(base: str, token: str) -> tuple[int, float]:
    rows = 0
    started = time.perf_counter()
    with httpx.stream("GET", f"{base}/api/v1/audience?purpose=newsletter&channel=email",
                      headers={"Authorization": f"Bearer {token}"}, timeout=None) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line:
                rows += 1
    return rows, time.perf_counter() - started


def audit_bytes(settings: Settings) -> tuple[int, int, int]:
    """(audit entries, their bytes, bytes of the lists of who was in a batch), read off the
    SQLite file; the difference over a pull is what it added to the chain and beside it."""
    import sqlite3
    with sqlite3.connect(settings.data_dir / "ehrlich.db") as conn:
        entries, size = conn.execute(
            "SELECT count(*), coalesce(sum(length(actor) + length(action) + length(target)"
            " + length(detail) + length(prev_hash) + length(hash) + 40), 0)"
            " FROM audit_entries").fetchone()
        try:
            lists = conn.execute("SELECT coalesce(sum(length(members) + length(digest)"
                                 " + length(reference) + 60), 0) FROM subject_read_lists"
                                 ).fetchone()[0]
        except sqlite3.OperationalError:  # a tree without read lists
            lists = 0
    return int(entries), int(size), int(lists)


def aes_only(settings: Settings, limit: int) -> tuple[int, float]:
    """Same-run floor of the audience stream: AES-256-GCM alone (unwrap each data key
    under the KEK, open the email under it) over `limit` rows of the audience, one
    thread, inputs sliced and associated data built before the clock starts."""
    import sqlite3
    import struct

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from ehrlich.crypto.keyfile import read_key_file
    material = read_key_file(settings.key_file)
    kek = AESGCM(material.keks[material.active])
    length = struct.Struct(">I").pack

    def prefixed(*parts: bytes) -> bytes:
        return b"".join(length(len(p)) + p for p in parts)

    with sqlite3.connect(settings.data_dir / "ehrlich.db") as conn:
        rows = conn.execute("SELECT s.id, s.email_ct, k.wrapped FROM consent_states c"
                            " JOIN subjects s ON s.id = c.subject_id"
                            " JOIN data_keys k ON k.subject_id = s.id"
                            " WHERE c.purpose = 'newsletter' AND c.state = 'active'"
                            " ORDER BY c.subject_id LIMIT ?", (limit,)).fetchall()
    work = []
    for sid, blob, wrapped in rows:
        s = sid.encode()
        work.append((wrapped[6:18], wrapped[18:], prefixed(wrapped[:6], b"data_keys", b"dek",
                                                            s, s),
                     blob[6:18], blob[18:], prefixed(blob[:6], b"subjects", b"email", s, s)))
    started = time.perf_counter()
    for kn, kb, ka, n, b, a in work:
        AESGCM(kek.decrypt(kn, kb, ka)).decrypt(n, b, a)
    return len(work), time.perf_counter() - started


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of baseline, check and writes; medians are reported")
    parser.add_argument("--audience", type=int, default=1_000_000)
    parser.add_argument("--postgres", default="", help="measure on SQLite and on the "
                        "PostgreSQL server of this URL side by side (an admin database URL)")
    args = parser.parse_args()
    if args.postgres:
        run_on_both_engines(args)
        return
    root = WORK / f"consent-{args.audience}"
    print(f"preparing {root} ({args.audience:,} consented subjects; cached after the first run)")
    settings, token, prefs = prepare(root, args.audience)
    port = free_port()
    process = serve(settings.data_dir / "ehrlich.toml", port, root / "serve.log")
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {token}"}
    requests: dict[str, Callable[[httpx.Client, int], httpx.Response]] = {
        "constant": lambda c, _: c.get("/.well-known/gpc.json"),
        "check": lambda c, _: c.get(
            "/api/v1/consent/check", headers=auth,
            params={"email": "person0@example0.org", "purpose": "newsletter"}),
        "writes": lambda c, n: c.post(
            f"/preferences/{prefs}", data={"purpose": ["newsletter"]} if n % 2 else {}),
    }
    rates: dict[str, list[float]] = {name: [] for name in requests}
    cpu: dict[str, list[str]] = {name: [] for name in requests}
    try:
        for _ in range(args.rounds):  # interleaved, so drift of the machine hits all alike
            for name, request in requests.items():
                rate, used = measured(process.pid, lambda r=request: load(
                    base, args.seconds, args.threads, r))
                rates[name].append(rate)
                cpu[name].append(used)
        before = audit_bytes(settings)
        rows, elapsed = stream_audience(base, token)
        entries, chain, lists = (b - a for a, b in zip(before, audit_bytes(settings),
                                                       strict=True))
    finally:
        process.terminate()
        process.wait(timeout=30)
    share = {name: [r / c for r, c in zip(rates[name], rates["constant"], strict=True)]
             for name in requests}
    floor_rows, floor_time = aes_only(settings, min(rows, 200_000))
    floor = floor_rows / floor_time

    def line(label: str, name: str, aim: str) -> str:
        low, high = min(share[name]), max(share[name])
        spread = f" ({low:.0%}–{high:.0%})" if name != "constant" else ""
        return (f"| {label} | {median(rates[name]):,.0f} req/s | {median(share[name]):.0%}"
                f"{spread} | {sorted(cpu[name])[len(cpu[name]) // 2]} | {aim} |")

    body = "\n".join([
        "## Consent: check, preference writes and the audience stream over HTTP",
        "",
        "One `ehrlich serve` process (SQLite, uvicorn, one event loop) on loopback; "
        f"load from {args.threads} keep-alive httpx clients in threads, "
        f"{args.rounds} interleaved rounds of {args.seconds:.0f} s per figure; medians, "
        "with the range of the rounds in brackets. Baseline: `GET /.well-known/gpc.json`, "
        "a constant document from the same app and middleware (a plain `def` route, "
        "which FastAPI hands to a worker thread; the check reads on the event loop and "
        "needs none, so it can pass the baseline). Writes: "
        "`POST /preferences/{token}` toggling a purpose (events, state row, suppression "
        "and audit entries in one transaction, then the page). Audience: one streaming "
        "NDJSON request, every row decrypted, one audit entry per batch of 1,000. Server "
        "CPU per request is the server process's CPU time over the requests it answered; "
        "the load generator shares the machine, so the constant endpoint does not use the "
        "server's core fully.",
        "",
        "| figure | rate | of baseline | server CPU per request | aim |",
        "|---|---:|---:|---:|---:|",
        line("constant endpoint (baseline)", "constant", ""),
        line("`GET /api/v1/consent/check`", "check", ">= 70%"),
        line("preference change (write)", "writes", ">= 40%"),
        f"| audience stream, {rows:,} rows decrypted | {rows / elapsed:,.0f} rows/s | "
        f"{rows / elapsed / floor:.0%} of AES-GCM alone | | >= 200,000 rows/s |",
        f"| AES-GCM alone, same rows (same-run floor) | {floor:,.0f} rows/s | 100% | | |",
        "",
        f"AES-GCM alone: the stream's {min(rows, 200_000):,} first rows, each data key "
        "unwrapped under the KEK and the email opened under it, inputs sliced and associated "
        "data built beforehand, one thread of the load generator's process.",
        "",
        f"Audit written by the pull of {rows:,} people: {entries:,} entries, "
        f"{chain / 1e6:,.2f} MB in the chain ({chain / max(rows, 1):,.1f} MB "
        f"per 1,000,000 people), and {lists / 1e6:,.2f} MB of lists of who was in each batch "
        "beside it.",
        "",
        f"1-minute load average when the run ended: {os.getloadavg()[0]:.1f} (2 cores "
        "shared with other engineers' work; compare rows of the same run).",
    ])
    print(body)
    write_section("consent", body)


if __name__ == "__main__":
    main()
