"""The retention run over a population: the dry run against the reads it is made of, and
the run's erasures against the bulk create of the same run.

    python -m bench.retention [--people 10000] [--due 2500]

An instance on SQLite (in a temporary directory) with the example notice holds `people`
subjects made by `SubjectsService.create_many`, each with one newsletter consent event:
`due` of them withdrew three years ago (past the declared two years), the others gave
consent a year ago and keep it. Measured:

- baseline: the plain reads the dry run is made of (active subject ids in id order, and
  the grouped consent events and states of those people), no Python decisions;
- dry run: `RetentionService.plan`, everyone decided;
- run: `RetentionService.run` erasing the `due` people through the rights erasure path,
  as people per second, against the bulk create's rate in the same run.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import bindparam, text

from bench.population import NOW, published_instance
from bench.report import write_section
from ehrlich.consent.ledger.service import record_consent
from ehrlich.consent.schemas import ConsentInput
from ehrlich.rights.retention import RetentionService
from ehrlich.settings import Settings
from ehrlich.subjects.schemas import SubjectInput

BATCH = 1000
TEXT = ("Yes, send me the Lindenhof newsletter by email, about once a month. I can "
        "unsubscribe at any time with the link in each email.")


EVENTS = text("SELECT subject_id, purpose, max(at) FROM consent_events WHERE subject_id IN "
              ":ids GROUP BY subject_id, purpose").bindparams(bindparam("ids", expanding=True))
STATES = text("SELECT subject_id, purpose, state, since FROM consent_states WHERE "
              "subject_id IN :ids").bindparams(bindparam("ids", expanding=True))


def _consent(subject_id: str, action: str) -> ConsentInput:
    shown = ({"notice_version": 1, "notice_hash": "sha256:" + "ab" * 32, "text_shown": TEXT,
              "language": "en", "form": "https://shop.example/signup"}
             if action == "granted" else {})
    return ConsentInput(subject_id=subject_id, purpose="newsletter", channel="email",
                        action=action, method="api" if action == "granted"
                        else "one-click-unsubscribe", **shown)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=2_500)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-retention-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", key_file=Path(tmp) / "keys" / "k.key")
        with published_instance(settings, NOW) as instance:
            ids: list[str] = []
            created = 0.0
            for start in range(0, args.people, BATCH):
                rows = [SubjectInput(email=f"p{n}@example.org", name="Kim Meyer")
                        for n in range(start, min(start + BATCH, args.people))]
                began = time.perf_counter()
                with instance.db.write() as session:
                    placed = instance.subjects.place_many(session, rows, actor="bench",
                                                          now=NOW - timedelta(days=1500))
                created += time.perf_counter() - began
                ids += [p.subject_id for p in placed if p.created]
            for n, sid in enumerate(ids):
                with instance.db.write() as session:
                    if n < args.due:
                        record_consent(session, instance.audit, _consent(sid, "granted"),
                                       actor="bench", now=NOW - timedelta(days=1400))
                        record_consent(session, instance.audit, _consent(sid, "withdrawn"),
                                       actor="bench", now=NOW - timedelta(days=1100))
                    else:
                        record_consent(session, instance.audit, _consent(sid, "granted"),
                                       actor="bench", now=NOW - timedelta(days=365))
            retention = instance.service(RetentionService)

            began = time.perf_counter()
            with instance.db.read() as session:
                all_ids = session.execute(text(
                    "SELECT id FROM subjects WHERE state = 'active' ORDER BY id")).scalars().all()
                for s in range(0, len(all_ids), 500):
                    chunk = {"ids": list(all_ids[s:s + 500])}
                    session.execute(EVENTS, chunk).all()
                    session.execute(STATES, chunk).all()
            baseline = time.perf_counter() - began

            began = time.perf_counter()
            plan = retention.plan(instance.db, now=NOW)
            planned = time.perf_counter() - began
            assert len(plan.people) == args.due, len(plan.people)

            began = time.perf_counter()
            done = retention.run(instance.db, now=NOW)
            ran = time.perf_counter() - began
            assert sorted(done.erased) == sorted(plan.subject_ids)
    create_rate = args.people / created
    erase_rate = args.due / ran
    body = f"""## Retention: the dry run and the run (`python -m bench.retention`)

{args.people:,} people (encrypted bulk create), one newsletter consent each; {args.due:,}
withdrew three years ago (the example notice keeps them two years), the rest gave consent
a year ago. SQLite, in-process, one run each.

| what | baseline | measured | ratio |
|---|---:|---:|---:|
| dry run over {args.people:,} people | {baseline * 1000:,.0f} ms (its plain reads) \
| {planned * 1000:,.0f} ms (`plan`) | {planned / baseline:.1f}× |
| run: erase {args.due:,} people | {create_rate:,.0f} people/s (bulk create, same run) \
| {erase_rate:,.0f} people/s | {erase_rate / create_rate:.1%} |

The run re-checks each batch, then erases the people without a legal hold through
`SubjectsService.erase_many` (one ledger transaction, the erasure hooks in batch,
set-based deletes, one purge from disk per chunk of 500, an audit entry per person with
its retention reason); people under a hold go one at a time through the request's path.
About {erase_rate * 3600:,.0f} people an hour at this rate.

1-minute load average when the run started: {load:.1f}.
"""
    write_section("retention", body)
    print(body)


if __name__ == "__main__":
    main()
