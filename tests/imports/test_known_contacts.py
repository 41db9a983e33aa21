"""Known contacts with evidence: their grants go through the consent state machine in one
batch per transaction (`record_consents`); a contact who objected or withdrew is
suppressed, skipped and counted, and their choice stands."""

from __future__ import annotations

from sqlalchemy import select

from ehrlich.audit.models import AuditEntry
from ehrlich.consent.ledger.service import current_state, history
from ehrlich.imports.csvfile import read_table
from ehrlich.imports.service import ImportsService
from ehrlich.instance.service import Instance
from tests.conftest import NOW
from tests.factories import new_subject, record
from tests.imports.helpers import plan


def test_known_contacts_are_granted_unless_they_said_no(published: Instance) -> None:
    fresh = new_subject(published, "fresh@example.org")
    active = new_subject(published, "active@example.org")
    record(published, active, "granted")
    objected = new_subject(published, "objected@example.org")
    record(published, objected, "objected")
    withdrew = new_subject(published, "withdrew@example.org")
    record(published, withdrew, "granted")
    record(published, withdrew, "withdrawn")  # suppressed for the newsletter
    raw = (b"E-Mail;Name;Kundennummer;Opt-in-Quelle;Opt-in-Datum\n"
           b"FRESH@example.org;Fresh;1;Shop checkout;01.03.2024\n"
           b"objected@example.org;Objected;2;Shop checkout;01.03.2024\n"
           b"withdrew@example.org;Withdrew;3;Shop checkout;2024-03-01\n"
           b"new@example.org;New;4;Shop checkout;2024-03-01\n"
           b"active@example.org;Active;5;Shop checkout;2024-03-01\n")
    imports = published.service(ImportsService)
    table = read_table(raw)
    run = imports.create_run(published.db, table, plan(), actor="staff:test", now=NOW)
    done = imports.run(published.db, run.id, table, mail=published.mail, now=NOW)
    assert (done.created, done.merged, done.suppressed, done.with_evidence) == (1, 2, 2, 3)
    with published.db.read() as session:
        states = [current_state(session, s, "newsletter", "email")
                  for s in (fresh, active, objected, withdrew)]
        granted = history(session, fresh)[-1]
        unchanged = [e.action for e in history(session, active)]
        audited = session.execute(select(AuditEntry.action).where(
            AuditEntry.target == fresh)).scalars().all()
    assert states == ["active", "active", "objected", "withdrawn"]
    assert unchanged == ["granted"]  # already active: nothing recorded
    assert (granted.action, granted.method) == ("granted", "import-with-evidence")
    assert granted.extra == {"import": run.id, "source": "Shop checkout",
                             "given_at": "2024-03-01T00:00:00+00:00"}
    assert "consent.granted" in audited  # one entry per event, as the single path writes
