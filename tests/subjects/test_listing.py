"""The contact list's keyset pager: pages put together are exactly the filtered set, newest
first, with no row twice and none missing, whatever the page size and filters; and the
masks keep only what tells people apart."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ehrlich.consent.ledger.person import state_probe
from ehrlich.consent.models import ConsentState
from ehrlich.instance.service import Instance
from ehrlich.subjects.listing import ContactFilters, contacts_page
from ehrlich.subjects.masking import mask_email, mask_name, mask_phone, mask_value
from ehrlich.subjects.models import Subject
from ehrlich.subjects.schemas import SubjectInput
from tests.conftest import NOW
from tests.factories import record

SOURCES = ("api", "fair", "import")
DAYS = [NOW.date() - timedelta(days=n) for n in range(4)]


def _population(instance: Instance) -> None:
    """24 people over four days (several in the same instant, so created_at ties), three
    sources, some with newsletter consent requested or withdrawn."""
    number = 0
    for day in range(4):
        for burst in range(3):
            now = NOW - timedelta(days=day, hours=burst)
            rows = [SubjectInput(email=f"p{number + n}@example.org",
                                 source=SOURCES[(number + n) % 3]) for n in range(1 + burst)]
            number += len(rows)
            with instance.db.write() as session:
                instance.subjects.create_many(session, rows, actor="test", now=now)
    with instance.db.read() as session:
        ids = sorted(session.execute(select(Subject.id)).scalars())
    for n, subject in enumerate(ids):
        if n % 3 == 0:
            record(instance, subject, "requested")
        if n % 6 == 0:
            record(instance, subject, "withdrawn")


def _expected(instance: Instance, filters: ContactFilters, state: str | None) -> list[str]:
    with instance.db.read() as session:
        subjects = session.execute(select(Subject)).scalars().all()
        states = {(s.subject_id, s.purpose, s.channel): s.state
                  for s in session.execute(select(ConsentState)).scalars()}
    chosen = []
    for s in subjects:
        if filters.source is not None and s.source != filters.source:
            continue
        if filters.since is not None and s.created_at.date() < filters.since:
            continue
        if filters.until is not None and s.created_at.date() > filters.until:
            continue
        if state is not None and states.get((s.id, "newsletter", "email")) != state:
            continue
        chosen.append(s)
    chosen.sort(key=lambda s: (s.created_at, s.id), reverse=True)
    return [s.id for s in chosen]


def _pages(instance: Instance, filters: ContactFilters, size: int) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        with instance.db.read() as session:
            rows = contacts_page(session, filters, after=after, limit=size)
        seen.extend(r.id for r in rows)
        if len(rows) < size:
            return seen
        after = rows[-1].id


def test_pages_concatenate_to_the_filtered_set(instance: Instance) -> None:
    _population(instance)
    days = st.one_of(st.none(), st.sampled_from(DAYS))

    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(size=st.integers(min_value=1, max_value=12),
           source=st.one_of(st.none(), st.sampled_from(SOURCES)),
           state=st.one_of(st.none(), st.sampled_from(["requested", "withdrawn", "active"])),
           since=days, until=days)
    def check(size: int, source: str | None, state: str | None, since: date | None,
              until: date | None) -> None:
        consent = state_probe(purpose="newsletter" if state else None,
                              channel="email" if state else None, state=state)
        filters = ContactFilters(consent=consent, source=source, since=since, until=until)
        got = _pages(instance, filters, size)
        assert len(got) == len(set(got))
        assert got == _expected(instance, filters, state)

    check()
    assert len(_pages(instance, ContactFilters(), 7)) == 24


def test_an_unknown_cursor_is_an_empty_page(instance: Instance) -> None:
    _population(instance)
    with instance.db.read() as session:
        assert contacts_page(session, ContactFilters(), after="no-such-id") == []


def test_masks() -> None:
    assert mask_email("ada@example.org") == "a••@example.org"
    assert mask_email(None) is None
    assert mask_phone("+4915112345612") == "+49 ••• •• 12"
    assert mask_phone("+14155550123") == "+1 ••• •• 23"
    assert mask_phone("+353861234567") == "+353 ••• •• 67"
    assert mask_name("Ada  Lovelace") == "A•• L••"
    assert mask_value("London") == "L••"
    assert mask_value(42) == "••"
