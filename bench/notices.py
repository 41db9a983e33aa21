"""Linting a notice and serving the public notice page, each against a baseline.

    python -m bench.notices [--repeat 200] [--requests 300]

Lint: `check_notice` (YAML with positions, schema, references, every wording
rule and readability over every text) on the example notice, against a plain
safe YAML load of the same file with the same parser (libyaml where built in).
Page: median `GET /notice` (database read,
validation of the stored version, localisation, template) through the ASGI app
on SQLite, against `GET /healthz` (one `SELECT 1`) through the same app.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from bench.report import write_section
from ehrlich.app import create_app
from ehrlich.domains import open_instance
from ehrlich.instance.service import init_instance
from ehrlich.notices.example import example_notice_text
from ehrlich.notices.service import check_notice
from ehrlich.settings import Settings


def _median_us(action: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    text = example_notice_text()
    load = os.getloadavg()[0]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    plain = _median_us(lambda: yaml.load(text, Loader=loader), args.repeat)  # noqa: S506
    lint = _median_us(lambda: check_notice(text, file="notice.yaml"), args.repeat)

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", key_file=Path(tmp) / "keys" / "k.key")
        now = datetime.now(UTC)
        init_instance(settings, now=now)
        instance = open_instance(settings)
        try:
            with instance.db.write() as session:
                instance.notices.publish(session, text, file="notice.yaml",
                                         publisher="bench", now=now)
            with TestClient(create_app(instance)) as client:
                client.get("/notice")
                health = _median_us(lambda: client.get("/healthz"), args.requests)
                page = _median_us(lambda: client.get("/notice", headers={
                    "Accept-Language": "de"}), args.requests)
        finally:
            instance.close()

    body = (
        "## Notices: linting and the public notice page\n\n"
        "Lint: `check_notice` on the example notice (4 purposes, EN+DE: YAML with positions, "
        "schema, references, every wording rule, readability) against a plain safe YAML "
        "load of the same file with the same parser (libyaml). Page: median `GET /notice` "
        "through the ASGI app on SQLite against `GET /healthz` through the same app.\n\n"
        "| what | baseline (median) | measured (median) | ratio |\n|---|---:|---:|---:|\n"
        f"| lint the example notice | {plain:,.0f} µs (plain YAML load) | {lint:,.0f} µs | "
        f"{lint / plain:.1f}× |\n"
        f"| GET /notice (de) | {health:,.0f} µs (/healthz) | {page:,.0f} µs | "
        f"{page / health:.1f}× |\n\n"
        "Target: linting well under a second (it runs at every `lint` and `publish`); "
        "the page within a few milliseconds of /healthz, whose time is mostly the "
        "test client's own overhead.\n\n"
        f"1-minute load average when the run started: {load:.1f} (other work on the "
        "machine makes medians noisy; compare rows of the same run).")
    write_section("notices", body)
    print(body)


if __name__ == "__main__":
    main()
