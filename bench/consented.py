"""The consented population the HTTP consent benchmarks share (`bench.consent`, its
PostgreSQL twin `bench.consent_engines`, `bench.scaling`, `bench.fides_compare`,
`bench.sharing`, `bench.processor_sync`): an instance with the example notice and N people
with active newsletter consent, made once with `SubjectsService.create_many` and bulk
state rows, cached under bench/.work/ (git-ignored).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from sqlalchemy import insert, select

from bench.population import NOW, published_instance
from ehrlich.auth.api_tokens import create_api_token
from ehrlich.consent.ledger.service import GENESIS, record_consent
from ehrlich.consent.models import ConsentState
from ehrlich.consent.schemas import ConsentInput
from ehrlich.consent.signup.links import preferences_token
from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance
from ehrlich.settings import Settings
from ehrlich.storage import migrate
from ehrlich.storage.database import Database
from ehrlich.subjects.models import Subject
from ehrlich.subjects.schemas import SubjectInput

WORK = Path(__file__).with_name(".work")
BATCH = 1000


def settings_for(root: Path, database_url: str = "") -> Settings:
    return Settings(data_dir=root / "data", key_file=root / "keys" / "bench.key",
                    base_url="http://127.0.0.1", inprocess_worker=False,
                    signup_per_hour=10**9, database_url=database_url)


def prepare(root: Path, audience: int, database_url: str = "") -> tuple[Settings, str, str]:
    """An instance with the example notice, `audience` consented subjects, a token."""
    settings = settings_for(root, database_url)
    marker = root / "ready"
    if not marker.exists():
        shutil.rmtree(root, ignore_errors=True)
        with published_instance(settings, NOW) as instance:
            populate(instance, audience)
        marker.write_text(str(audience))
    cached = Database(settings.effective_database_url)
    try:
        migrate.upgrade(cached)  # a cache made before a newer migration
    finally:
        cached.dispose()
    instance = open_instance(settings)
    try:
        with instance.db.write() as session:
            token, _ = create_api_token(session, name="bench",
                                        scopes=["consent:read", "audience:read"], now=NOW)
            ada = session.execute(select(Subject.id).order_by(Subject.created_at)
                                  .limit(1)).scalar_one()
        prefs = preferences_token(instance.keyring, subject_id=ada, now=NOW)
    finally:
        instance.close()
    return settings, token, prefs


def populate(instance: Instance, n: int) -> None:
    started = time.perf_counter()
    for start in range(0, n, BATCH):
        rows = [SubjectInput(email=f"person{i}@example{i % 97}.org", name=f"Person {i}",
                             source="benchmark") for i in range(start, min(n, start + BATCH))]
        with instance.db.write() as session:
            instance.subjects.create_many(session, rows, actor="bench", now=NOW)
        if start and start % 50_000 == 0:
            rate = start / (time.perf_counter() - started)
            print(f"  {start:,} subjects ({rate:,.0f}/s)", flush=True)
    after = ""
    while True:
        with instance.db.write() as session:
            ids = list(session.execute(select(Subject.id).where(Subject.id > after)
                                       .order_by(Subject.id).limit(10 * BATCH)).scalars())
            if not ids:
                break
            session.execute(insert(ConsentState), [
                {"subject_id": i, "purpose": "newsletter", "channel": "email",
                 "state": "active", "since": NOW, "notice_version": 1,
                 "last_event_id": None, "last_event_hash": GENESIS} for i in ids])
        after = ids[-1]
    with instance.db.write() as session:  # the first subject gets a real, chained consent
        first = session.execute(select(Subject.id).order_by(Subject.created_at)
                                .limit(1)).scalar_one()
        session.execute(ConsentState.__table__.delete().where(  # type: ignore[attr-defined]
            ConsentState.subject_id == first))
        record_consent(session, instance.audit, ConsentInput(
            subject_id=first, purpose="newsletter", action="granted", method="admin",
            notice_version=1, notice_hash="sha256:bench", text_shown="bench"),
            actor="bench", now=NOW)
