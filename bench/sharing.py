"""Audience exports and releases to recipients against the audience stream they are built on.

    python -m bench.sharing [--audience 100000] [--rounds 3]

One SQLite instance (in-process, no server) with the example notice and N people
with active newsletter/email consent, made as in `bench.consent` and cached
under bench/.work/ (git-ignored). Baseline: `consent.ledger.audience.export_audience`
consumed to the end — the same keyset-paged batches of 1,000, each decrypted by
the subjects service with its audit entry. Measured, in the same rounds,
interleaved with the baseline so that the machine's other load hits both alike:

- export: `SharingService.export_audience` to the last byte (CSV and NDJSON): the
  copy recorded first, per person a signed unsubscribe and a preference token,
  CSV cells defused, the bytes hashed, the copy completed with its digest;
- release: `SharingService.release` to the `mailer` recipient, which also writes
  one disclosure row per person before each batch is decrypted.

Memory: the peak traced by `tracemalloc` over one whole CSV export (separately,
untimed), to show the stream holds a batch, not the audience.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterable
from pathlib import Path

from bench.consent import audit_bytes
from bench.consented import WORK, prepare
from bench.population import NOW
from bench.report import write_section
from ehrlich.consent.ledger.audience import export_audience
from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance
from ehrlich.sharing.copies import Caller
from ehrlich.sharing.service import ExportRequest, SharingService

OPERATOR = Caller("bench")


def _drain(chunks: Iterable[object]) -> None:
    for _ in chunks:
        pass


def _stream(instance: Instance) -> None:
    _drain(export_audience(instance.db, instance.subjects, "newsletter", "email",
                           actor="bench", now=NOW, batch="bench"))


def _export(fmt: str) -> Callable[[Instance], None]:
    def run(instance: Instance) -> None:
        file = instance.service(SharingService).export_audience(ExportRequest(
            "newsletter", "email", fmt, "benchmark of the export",  # type: ignore[arg-type]
            "nowhere at all"), OPERATOR, now=NOW)
        _drain(file.body)
    return run


def _release(instance: Instance) -> None:
    file = instance.service(SharingService).release(ExportRequest(
        "newsletter", "", "csv", "benchmark of a release", "the mailer"), "mailer",
        OPERATOR, now=NOW)
    _drain(file.body)


def _peak_mib(instance: Instance) -> float:
    tracemalloc.start()
    _export("csv")(instance)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--audience", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    root = WORK / f"sharing-{args.audience}"
    print(f"preparing {args.audience:,} consented subjects under {root} ...", flush=True)
    settings, _, _ = prepare(Path(root), args.audience)
    load_start = os.getloadavg()[0]
    instance = open_instance(settings)
    runs: dict[str, list[float]] = {}
    cases: list[tuple[str, Callable[[Instance], None]]] = [
        ("stream", _stream), ("csv", _export("csv")), ("ndjson", _export("ndjson")),
        ("release", _release)]
    try:
        for n in range(args.rounds):
            for name, case in cases:
                started = time.perf_counter()
                case(instance)
                rate = args.audience / (time.perf_counter() - started)
                runs.setdefault(name, []).append(rate)
                print(f"  round {n + 1}: {name:8} {rate:,.0f} rows/s", flush=True)
        peak = _peak_mib(instance)
        before = audit_bytes(settings)
        _export("csv")(instance)
        entries, chain, lists = (b - a for a, b in zip(before, audit_bytes(settings),
                                                       strict=True))
    finally:
        instance.close()
    load_end = os.getloadavg()[0]
    base = statistics.median(runs["stream"])
    rows = [("audience stream (baseline): decrypt + audit per batch", "stream"),
            ("export CSV: + copy, links, defused cells, digest", "csv"),
            ("export NDJSON: + copy, links, digest", "ndjson"),
            ("release to a recipient: + disclosure rows", "release")]
    table = "\n".join(
        f"| {label} | {statistics.median(runs[key]):,.0f} | "
        f"{statistics.median(runs[key]) / base:.0%} |" for label, key in rows)
    body = "\n".join([
        "## Sharing: audience exports and releases against the audience stream",
        "",
        f"`python -m bench.sharing --audience {args.audience} --rounds {args.rounds}`: "
        f"SQLite, in-process, {args.audience:,} people with active newsletter/email "
        "consent. Baseline: the consent domain's audience stream consumed to the end "
        "(batches of 1,000, each decrypted with its audit entry). Each measured export "
        f"runs to its last byte; baseline and exports alternate within each of "
        f"{args.rounds} rounds; medians of the rounds.",
        "",
        "| what | rows/s (median) | of the stream's rate |",
        "|---|---:|---:|",
        table,
        "",
        f"Peak memory traced over one whole CSV export of {args.audience:,} rows: "
        f"{peak:.1f} MiB (one batch at a time, not the audience).",
        "",
        f"Audit written by one CSV export of {args.audience:,} people: {entries:,} entries, "
        f"{chain / 1e3:,.1f} kB in the chain ({chain / args.audience:,.2f} MB per 1,000,000 "
        f"people) and {lists / 1e6:,.2f} MB of lists of who was in each batch beside it "
        f"({lists / args.audience:,.1f} MB per 1,000,000 people).",
        "",
        f"1-minute load average: {load_start:.1f} at the start, {load_end:.1f} at the end "
        "(the 2 cores are shared with other engineers' test runs; compare rows of the "
        "same run, not runs).",
    ])
    write_section("sharing", body)
    print(body)


if __name__ == "__main__":
    main()
