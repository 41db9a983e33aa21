"""The console's overview at a large population, against /healthz in the same run.

    python -m bench.dashboard [--contacts 1000000] [--requests 60]

Population (built once, cached under bench/.work/dashboard): `contacts` subjects made by
`SubjectsService.create_many` (encrypted, as the product stores them); for each, consent
rows written in bulk straight into `consent_events` and `consent_states` (the ledger's
shape, not through `record_consent`, which would take hours at this size): a request and
a confirmation for the newsletter by email spread over the last 365 days, one in ten
later withdrawn; then the overview's counts are rebuilt from those rows (what `ehrlich
counts rebuild` does). Measured: median server time of `GET /admin` through the ASGI app
in-process (SQLite), signed in as a marketer (contacts, consents, the 90-day chart) and
as an owner (also the protection report, backups, mail, audit), against `GET /healthz`
(one `SELECT 1`) through the same app; and each of the overview's figures read from the
kept counts against the grouped recount over the raw tables it replaces.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bench import population
from bench.report import write_section
from ehrlich.app import create_app
from ehrlich.auth.guide import current_guide
from ehrlich.auth.roles import Role
from ehrlich.auth.sessions import STAGE_FULL
from ehrlich.consent import counts
from ehrlich.consent.models import ConsentEvent, ConsentState
from ehrlich.consent.statistics import (
    active_by_purpose,
    daily_activity,
    recount_active_by_purpose,
    recount_daily_activity,
)
from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance
from ehrlich.settings import Settings
from ehrlich.subjects.models import Subject
from ehrlich.subjects.schemas import BulkOutcome, SubjectInput

WORK = Path(__file__).parent / ".work" / "dashboard"
NOW = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
DIGEST = bytes(32)

NOTE = """The overview reads counts kept in the writing transactions (`consent_daily_counts`,
`consent_active_counts`, `subject_counts`): a few rows per purpose, channel and day,
however many contacts there are. The recounts (the grouped queries the overview ran
before) read index entries in proportion to the population. The owner's protection report
walks the whole audit chain on the first view of a process and then once an hour (the
"whole walk" figure, which grows with the chain's length: here {entries} entries, one per
batch of 5,000 contacts, each naming its contacts); other views verify only the entries
written since the last one verified."""


def _consent_rows(ids: list[str], offset: int) -> tuple[list[dict[str, object]],
                                                           list[dict[str, object]]]:
    events: list[dict[str, object]] = []
    states: list[dict[str, object]] = []
    for n, subject_id in enumerate(ids, start=offset):
        asked = NOW - timedelta(days=n % 365, minutes=n % 600)
        base = {"subject_id": subject_id, "purpose": "newsletter", "channel": "email",
                "legal_basis": "consent", "language": "en", "default_state": "unticked",
                "actor": "bench", "extra": "", "prev_hash": DIGEST, "hash": DIGEST}
        steps = [("requested", "form", asked), ("confirmed", "email-confirmation",
                                                asked + timedelta(minutes=5))]
        if n % 10 == 0:
            steps.append(("withdrawn", "one-click-unsubscribe", asked + timedelta(days=1)))
        for action, method, at in steps:
            events.append({**base, "id": str(uuid.uuid4()), "action": action,
                           "method": method, "at": min(at, NOW)})
        states.append({"subject_id": subject_id, "purpose": "newsletter", "channel": "email",
                       "state": "withdrawn" if n % 10 == 0 else "active", "since": asked,
                       "last_event_id": events[-1]["id"], "last_event_hash": DIGEST})
    return events, states


def _with_consent(session: Session, numbers: range, made: BulkOutcome) -> None:
    ids = list(session.execute(select(Subject.id).order_by(Subject.id.desc())
                               .limit(made.created)).scalars())  # UUIDv7: newest
    events, states = _consent_rows(ids, numbers.start)
    session.execute(insert(ConsentEvent), events)
    session.execute(insert(ConsentState), states)


def _subjects(numbers: range) -> list[SubjectInput]:
    return [SubjectInput(email=f"person{n}@example.org", source="bench") for n in numbers]


def _rebuild_counts(instance: Instance) -> None:
    with instance.db.write() as session:  # the consent rows went around the counts
        counts.rebuild(session)
        instance.subjects.rebuild_counts(session)


def populate(count: int) -> Settings:
    """Create (once) an instance holding `count` contacts with consent rows."""
    return population.populate(WORK, count, _subjects, now=NOW, in_batch=_with_consent,
                               finish=_rebuild_counts)


def _signed_in(instance: Instance, client: TestClient, role: Role) -> None:
    """A full session for a staff member of `role`, its cookie set on `client`."""
    now = datetime.now(UTC)
    with instance.db.write() as session:
        email = f"bench-{role.value}-{uuid.uuid4().hex[:8]}@example.org"
        view, _ = instance.staff.users.add(session, email=email, role=role, actor="bench",
                                           actor_role=Role.OWNER, now=now,
                                           password=secrets.token_urlsafe(16))
        instance.staff.users.acknowledge_guide(
            session, view.id, current_guide(instance.settings.data_dir).hash, now=now)
        token = instance.staff.sessions.create(session, view.id, stage=STAGE_FULL, now=now)
    client.cookies.set("ehrlich-session", token)


def _median_ms(action: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


def _get(client: TestClient, path: str) -> None:
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    settings = populate(args.contacts)
    load = os.getloadavg()[0]
    instance = open_instance(settings)
    try:
        with instance.db.read() as session:
            events = session.query(ConsentEvent).count()
            contacts = session.query(Subject).count()
            audit_entries = instance.audit.head(session).seq
        today = datetime.now(UTC).date()
        parts: dict[str, tuple[Callable[[Session], object], Callable[[Session], object]]] = {
            "contacts per state (`count_by_state`)":
                (instance.subjects.recount_by_state, instance.subjects.count_by_state),
            "active consents per purpose and channel (`active_by_purpose`)":
                (recount_active_by_purpose, active_by_purpose),
            "90 days of events per day and action (`daily_activity`)":
                (lambda s: recount_daily_activity(s, days=90, today=today),
                 lambda s: daily_activity(s, days=90, today=today)),
            "audit chain for the protection report (`verify_recent`)":
                (instance.audit.verify_chain,
                 lambda s: instance.audit.verify_recent(s, now=datetime.now(UTC))),
        }
        queries = {}
        for label, pair in parts.items():
            timed = []
            for query in pair:
                def run(q: Callable[[Session], object] = query) -> None:
                    with instance.db.read() as session:
                        q(session)
                timed.append(_median_ms(run, max(3, args.requests // 8)))
            with instance.db.read() as session:
                if pair[0](session) != pair[1](session):
                    raise RuntimeError(f"{label}: the kept counts differ from a recount")
            queries[label] = (timed[0], timed[1])
        figures = {}
        for role in (Role.MARKETER, Role.OWNER):
            with TestClient(create_app(instance)) as client:
                _signed_in(instance, client, role)
                _get(client, "/admin")  # warm the caches and templates once
                health = _median_ms(lambda c=client: _get(c, "/healthz"), args.requests)
                page = _median_ms(lambda c=client: _get(c, "/admin"), args.requests)
            figures[role.value] = (health, page)
    finally:
        instance.close()
    slowest = max(page for _, page in figures.values())
    verdict = (f"**Verdict at {contacts:,} contacts: the slowest overview took {slowest:.0f} ms, "
               f"{'within' if slowest < 200 else 'over'} the 200 ms target.**")
    query_rows = "\n".join(f"| {label} | {old:.1f} ms | {new:.2f} ms |"
                           for label, (old, new) in queries.items())
    rows = "\n".join(f"| {role} | {health:.1f} ms | {page:.1f} ms | {page - health:.1f} ms |"
                     for role, (health, page) in figures.items())
    write_section("dashboard", f"""## Console overview at {contacts:,} contacts

`GET /admin` through the ASGI app in-process on SQLite, median of {args.requests} requests
each, against `GET /healthz` (one `SELECT 1`) through the same app in the same run.
Population: {contacts:,} encrypted contacts (`create_many`), {events:,} consent events over
365 days and one consent state each (written in bulk in the ledger's shape, then the
counts rebuilt afterwards). The marketer's overview is the contacts count, active consents
per purpose and channel and the 90-day chart, each read off the counts kept at write
time; the owner's adds the protection report (every posture check; the audit chain walked
whole once an hour per process, on other views after the last entry verified), the last
backup verification, mail and the audit head.

| role | /healthz (median) | /admin (median) | difference |
|---|---:|---:|---:|
{rows}

Each of the overview's figures alone, in-process, median: the grouped recount over the
raw tables (what the overview ran before; baseline) against the kept counts it reads now,
and the whole walk of the audit chain against the walk after the last verified entry.
Both columns gave the same figures in this run.

| figure | recount, whole walk (baseline) | kept counts, recent walk |
|---|---:|---:|
{query_rows}

Target: the overview under 200 ms median server time at 1,000,000 contacts.

1-minute load average when the run started: {load:.1f} (the machine is shared; compare
rows of the same run).

{verdict} {NOTE.format(entries=f'{audit_entries:,}')}""")


if __name__ == "__main__":
    main()
