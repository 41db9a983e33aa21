"""The access report of one person with 1,000 consent events, against the reads it is
made of, in the same run.

    python -m bench.rights [--events 1000] [--crowd 2000] [--releases 12] [--runs 60]

An instance on SQLite (in a temporary directory) holds `crowd` other people with ten
consent events each (the same purposes and texts), and one person whose newsletter
consent went through `events` events (granted and withdrawn in turn, each with the
exact text and notice version) and whose address was released `releases` times to the
notice's recipient (the disclosure log the report lists). Measured, as medians:

- report: `RightsService.report`, as `/my-data/{token}` runs it: decrypting read of
  the person (audited), the consent history with its texts, consent states,
  suppressions, the published notice's purposes, and the report's own audit entry,
  committed;
- report + JSON: the same, serialised for the download;
- baselines: the decrypting read with its audit entry alone (`SubjectsService.get` in
  a write transaction), and a plain SELECT of the person's consent-event rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from bench.population import NOW, published_instance
from bench.report import write_section
from ehrlich.consent.ledger.service import record_consent
from ehrlich.consent.schemas import ConsentInput
from ehrlich.instance.service import Instance
from ehrlich.rights.report import report_json
from ehrlich.rights.service import RightsService
from ehrlich.settings import Settings
from ehrlich.sharing.models import Disclosure, DisclosureBatch
from ehrlich.storage.base import new_id
from ehrlich.subjects.schemas import SubjectInput

TEXT = ("Yes, send me the Lindenhof newsletter by email, about once a month. I can "
        "unsubscribe at any time with the link in each email.")


CYCLE = ("requested", "confirmed", "withdrawn")  # double opt-in, then unsubscribe; again
METHODS = {"requested": "form", "confirmed": "email-confirmation",
           "withdrawn": "one-click-unsubscribe"}


def _event(subject_id: str, action: str) -> ConsentInput:
    shown = ({"notice_version": 1, "notice_hash": "sha256:" + "ab" * 32, "text_shown": TEXT,
              "language": "en", "form": "https://shop.example/signup"}
             if action == "requested" else {})
    method = METHODS[action]
    return ConsentInput(subject_id=subject_id, purpose="newsletter", channel="email",
                        action=action, method=method, **shown)


def _person(instance: Instance, n: int, events: int, start: datetime) -> str:
    with instance.db.write() as session:
        sid = instance.subjects.create(session, SubjectInput(
            email=f"person{n}@example.org", name="Kim Meyer",
            attributes={"city": "Berlin", "customer_no": n}), actor="bench", now=start).subject.id
        for k in range(events):
            record_consent(session, instance.audit,
                           _event(sid, CYCLE[k % 3]),
                           actor="bench", now=start + timedelta(minutes=k))
    return sid


def _released(instance: Instance, subject_id: str, releases: int, start: datetime) -> None:
    """The person's address released to `mailer` once a month (with a few others each)."""
    with instance.db.write() as session:
        for n in range(releases):
            batch = new_id()
            session.execute(insert(DisclosureBatch).values(
                id=batch, recipient="mailer", purpose="newsletter", channel="email",
                basis="consent", fields="id,email,unsubscribe_url,preferences_url",
                notice_versions="1", actor="bench", at=start + timedelta(days=30 * n),
                people=1))
            session.execute(insert(Disclosure).values(batch_id=batch, subject_id=subject_id))


def _medians_ms(fns: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median milliseconds of each function, run in turn (one of each per round), so a
    change of load on the shared machine hits them all alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()  # warm caches and statements
    for _ in range(runs):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(found) for name, found in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--crowd", type=int, default=2000)
    parser.add_argument("--releases", type=int, default=12)
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-rights-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", key_file=Path(tmp) / "keys" / "k.key")
        with published_instance(settings, NOW) as instance:
            start = NOW - timedelta(days=400)
            for n in range(args.crowd):
                _person(instance, n, 10, start)
            target = _person(instance, args.crowd, args.events, start)
            _released(instance, target, args.releases, start)
            rights = instance.service(RightsService)

            def report() -> object:
                return rights.report(instance.db, target, actor="bench", language="en",
                                     now=NOW)

            def report_and_json() -> object:
                return report_json(rights.report(instance.db, target, actor="bench",
                                                 language="en", now=NOW))

            def read() -> object:
                with instance.db.write() as session:
                    return instance.subjects.get(session, target, actor="bench", now=NOW)

            def rows() -> object:
                with instance.db.read() as session:
                    return session.execute(text(
                        "SELECT * FROM consent_events WHERE subject_id = :s"),
                        {"s": target}).all()

            made = rights.report(instance.db, target, actor="bench", language="en", now=NOW)
            assert len(made.consents) == args.events
            [shown] = [s for s in made.sections if s.key == "disclosures"]
            assert len(shown.rows) == args.releases
            figures = _medians_ms({"rows": rows, "read": read, "report": report,
                                   "json": report_and_json}, args.runs)
    body = f"""## Rights: a person's access report (`python -m bench.rights`)

One person with {args.events:,} consent events (requested with the exact text and notice
version, confirmed, withdrawn, in turn) and {args.releases} releases to a recipient,
among {args.crowd:,} others with ten events each, SQLite, in-process, median of
{args.runs} rounds (one run of each row per round, so a change of load hits all rows
alike).
The report is what `/my-data/{{token}}` builds: the audited decrypting read of the person,
the consent history with its texts, the consent states, suppressions, the purposes and
retention of the published notice, the disclosures (recipient, date, purpose, fields),
and its own audit entry, committed.

| what | median |
|---|---:|
| baseline: plain SELECT of the person's {args.events:,} consent-event rows \
| {figures['rows']:.1f} ms |
| baseline: decrypting read + audit entry (`SubjectsService.get`) | {figures['read']:.1f} ms |
| access report | {figures['report']:.1f} ms |
| access report + JSON for the download | {figures['json']:.1f} ms |

Target: the report under 50 ms median.

1-minute load average when the run started: {load:.1f} (2 cores shared with other engineers'
test runs; medians are noisy, compare rows of the same run).
"""
    write_section("rights", body)
    print(body)


if __name__ == "__main__":
    main()
