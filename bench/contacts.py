"""The console's contacts pages at a million contacts, against /healthz in the same run.

    python -m bench.contacts [--contacts 1000000] [--requests 40]

The population is made once with `SubjectsService.create_many` (email, name, phone
sealed under each person's key; created over about 200 days; four source labels) and
consent states with bulk Core inserts (70% newsletter/email active, 10% withdrawn),
cached under bench/.work/contacts (git-ignored). Requests go through the ASGI app
in-process with a signed-in support session (the client's own overhead is in every
figure, the baseline's too):

- list: `GET /admin/contacts`, the first page and a page half-way down (keyset:
  one index range each), then with every filter at once (purpose state, source,
  signup dates): 50 rows decrypted in one batch, masked, one audit entry per page;
- search: `GET /admin/contacts?q=<email>` (blind index, one row);
- person: `GET /admin/contacts/<id>` (masked attributes, notes, consent timeline,
  suppressions, preference and unsubscribe links; three audit entries);
- baseline: `GET /healthz` through the same app.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from bench import population
from bench.population import BATCH, NOW
from bench.report import write_section
from ehrlich.app import create_app
from ehrlich.auth.guide import current_guide
from ehrlich.auth.roles import Role
from ehrlich.auth.sessions import STAGE_FULL
from ehrlich.consent.ledger.service import GENESIS, record_consent
from ehrlich.consent.models import ConsentState
from ehrlich.consent.schemas import ConsentInput, Evidence
from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance
from ehrlich.settings import Settings
from ehrlich.subjects.models import Subject
from ehrlich.subjects.schemas import SubjectInput

WORK = Path(__file__).with_name(".work") / "contacts"
SOURCES = ("shop", "fair-2026", "import-crm", "api")
PASSWORD = "violet-harbour-lantern-917"  # noqa: S105 - a throwaway bench account


def _contacts(numbers: range) -> list[SubjectInput]:
    return [SubjectInput(email=f"person{n}@example{n % 97}.org", name=f"Person {n}",
                         phone=f"+4930{n:08d}", source=SOURCES[n % 4],
                         attributes={"customer_no": n}) for n in numbers]


def populate(count: int, work: Path = WORK) -> Settings:
    """Create (once) an instance holding `count` contacts; later runs reuse it."""
    batches = count // BATCH

    def signed_up(offset: int) -> datetime:  # 200 days of signups, oldest first
        return NOW - timedelta(days=200) * ((batches - offset // BATCH) / max(1, batches))

    return population.populate(work, count, _contacts, key_name="bench.key", now=NOW,
                               created_at=signed_up, finish=_consent_states)


def _consent_states(instance: Instance) -> None:
    after, position = "", 0
    while True:
        with instance.db.write() as session:
            ids = list(session.execute(select(Subject.id).where(Subject.id > after)
                                       .order_by(Subject.id).limit(20_000)).scalars())
            if not ids:
                return
            states = []
            for subject_id in ids:
                kind = position % 10
                position += 1
                if kind < 8:
                    states.append({"subject_id": subject_id, "purpose": "newsletter",
                                   "channel": "email",
                                   "state": "active" if kind < 7 else "withdrawn",
                                   "since": NOW, "notice_version": 1, "last_event_id": None,
                                   "last_event_hash": GENESIS})
            session.execute(insert(ConsentState), states)
        after = ids[-1]


def _sign_in(instance: Instance, client: TestClient) -> None:
    with instance.db.write() as session:
        user = instance.staff.users.by_email(session, "bench-support@example.org")
        if user is None:
            view, _ = instance.staff.users.add(session, email="bench-support@example.org",
                                               role="support", actor="bench",
                                               actor_role=Role.OWNER, now=NOW,
                                               password=PASSWORD)
            user_id = view.id
        else:
            user_id = user.id
        instance.staff.users.acknowledge_guide(
            session, user_id, current_guide(instance.settings.data_dir).hash, now=NOW)
        token = instance.staff.sessions.create(session, user_id, stage=STAGE_FULL,
                                               now=datetime.now(UTC))
    client.cookies.set("ehrlich-session", token)


def _timed(client: TestClient, urls: Callable[[int], str], n: int) -> float:
    """Median seconds of `n` GETs (after two warm-ups)."""
    for i in range(2):
        assert client.get(urls(i)).status_code == 200
    times = []
    for i in range(n):
        url = urls(i)
        t0 = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - t0)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times)


def _people(instance: Instance, n: int) -> list[str]:
    """`n` contacts spread over the table, each given a real consent history."""
    with instance.db.read() as session:
        total = int(session.execute(select(func.count()).select_from(Subject)).scalar_one())
        step = max(1, total // n)
        ids = [session.execute(select(Subject.id).order_by(Subject.id).offset(k * step)
                               .limit(1)).scalar_one() for k in range(n)]
    for subject_id in ids:
        with instance.db.write() as session:
            session.execute(ConsentState.__table__.delete().where(  # type: ignore[attr-defined]
                ConsentState.subject_id == subject_id))
            for action, method in (("requested", "form"), ("confirmed", "email-confirmation")):
                record_consent(session, instance.audit, ConsentInput(
                    subject_id=subject_id, purpose="newsletter", action=action,
                    method=method, notice_version=1, notice_hash="sha256:bench",
                    text_shown="Yes, send me the newsletter.", evidence=Evidence(
                        ip="203.0.113.9", user_agent="bench")),
                    actor="bench", now=NOW)
    return ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    settings = populate(args.contacts)
    load = os.getloadavg()[0]
    instance = open_instance(settings)
    try:
        people = _people(instance, args.requests + 2)
        client = TestClient(create_app(instance), base_url="http://127.0.0.1:8000")
        _sign_in(instance, client)
        with instance.db.read() as session:  # a cursor half-way down the list
            middle = session.execute(select(Subject.id).order_by(
                Subject.created_at.desc(), Subject.id.desc()).offset(args.contacts // 2)
                .limit(1)).scalar_one()
        n = args.requests
        since, until = (NOW - timedelta(days=120)).date(), (NOW - timedelta(days=60)).date()
        filtered = ("/admin/contacts?purpose=newsletter/email&state=withdrawn&source=fair-2026"
                    f"&since={since}&until={until}")
        page = client.get(filtered)
        assert 'rel="next"' in page.text, (page.status_code, page.text[-800:])  # full page
        figures = {
            "healthz": _timed(client, lambda i: "/healthz", n),
            "first": _timed(client, lambda i: "/admin/contacts", n),
            "middle": _timed(client, lambda i: f"/admin/contacts?after={middle}", n),
            "filtered": _timed(client, lambda i: filtered, n),
            "search": _timed(client, lambda i: (
                f"/admin/contacts?q=person{(i * 7919) % args.contacts}"
                f"@example{((i * 7919) % args.contacts) % 97}.org"), n),
            "person": _timed(client, lambda i: f"/admin/contacts/{people[i]}", n),
        }
    finally:
        instance.close()
    base = figures["healthz"]

    def row(label: str, key: str) -> str:
        return (f"| {label} | {figures[key] * 1000:,.1f} ms | "
                f"{(figures[key] - base) * 1000:,.1f} ms |")

    body = "\n".join([
        "## Contacts pages in the console (`python -m bench.contacts`)",
        "",
        f"{args.contacts:,} contacts on SQLite (email, name, phone and attributes sealed "
        "under each person's key; 70% with newsletter consent active, 10% withdrawn). "
        "Median of "
        f"{n} requests each through the ASGI app in-process, signed in as support; "
        "`/healthz` of the same app in the same run is the baseline (its time is mostly "
        "the client's own overhead). List pages decrypt and mask 50 rows in one batch and "
        "write one audit entry; keyset pagination on (created_at, id), so a page half-way "
        "down costs what the first does.",
        "",
        "| request | median | minus /healthz |",
        "|---|---:|---:|",
        f"| GET /healthz (baseline) | {base * 1000:,.1f} ms | — |",
        row("contact list, first page", "first"),
        row(f"contact list, page after row {args.contacts // 2:,}", "middle"),
        row("contact list, all filters (purpose state, source, signup dates)", "filtered"),
        row("exact search by email", "search"),
        row("person page (timeline, links, notes)", "person"),
        "",
        "Target: each contacts page under 150 ms median server time at 1,000,000 contacts.",
        "",
        f"1-minute load average when the run started: {load:.1f} (other work on the "
        "machine makes medians noisy; compare rows of the same run).",
    ])
    write_section("contacts", body)
    print(body)


if __name__ == "__main__":
    main()
