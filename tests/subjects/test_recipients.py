"""Mail to a subject is addressed by the subjects service: other domains hold a
`Recipient` (the subject id, the address sealed inside) and hand it back with a letter."""

from __future__ import annotations

import pytest

from ehrlich.errors import InvalidInput
from ehrlich.instance.service import Instance
from ehrlich.mail.interfaces import Letter, MemoryMailSender, Unsubscribe
from ehrlich.subjects.errors import SubjectErased
from ehrlich.subjects.schemas import SubjectInput
from ehrlich.subjects.service import ACTIVE, ERASED, subject_state
from tests.conftest import NOW


def test_a_letter_is_addressed_by_the_subjects_service(instance: Instance) -> None:
    with instance.db.write() as session:
        to = instance.subjects.create_recipient(
            session, SubjectInput(email="Ada@Example.org", source="test"), actor="t", now=NOW)
    assert "Ada@Example.org" not in repr(to)
    sender = MemoryMailSender()
    instance.subjects.send_mail(sender, to, Letter(
        subject="Hello", text="Hi", category="transactional", language="de",
        unsubscribe=Unsubscribe(url="https://example.org/cancel/x")))
    [mail] = sender.sent
    assert (mail.to, mail.subject, mail.text, mail.language) == (
        "Ada@Example.org", "Hello", "Hi", "de")
    assert mail.unsubscribe == Unsubscribe(url="https://example.org/cancel/x")


def test_a_known_address_gives_the_same_subject(instance: Instance) -> None:
    with instance.db.write() as session:
        first = instance.subjects.create_recipient(
            session, SubjectInput(email="b@example.org"), actor="t", now=NOW)
        again = instance.subjects.create_recipient(
            session, SubjectInput(email=" B@EXAMPLE.ORG"), actor="t", now=NOW)
    assert again.subject_id == first.subject_id


def test_a_recipient_needs_an_email_address(instance: Instance) -> None:
    with instance.db.write() as session, pytest.raises(InvalidInput) as caught:
        instance.subjects.create_recipient(
            session, SubjectInput(phone="+49 30 1234567"), actor="t", now=NOW)
    assert caught.value.problems[0].field == "email"


def test_other_domains_read_a_subjects_state_without_its_data(instance: Instance) -> None:
    with instance.db.write() as session:
        to = instance.subjects.create_recipient(
            session, SubjectInput(email="c@example.org"), actor="t", now=NOW)
    with instance.db.read() as session:
        assert subject_state(session, to.subject_id) == ACTIVE
        assert subject_state(session, "no-such-subject") is None
    instance.subjects.erase(instance.db, to.subject_id, actor="t", now=NOW)
    with instance.db.read() as session:
        assert subject_state(session, to.subject_id) == ERASED


def test_a_known_subject_is_written_to_through_a_recipient(instance: Instance) -> None:
    with instance.db.write() as session:
        created = instance.subjects.create_recipient(
            session, SubjectInput(email="d@example.org"), actor="t", now=NOW)
        found = instance.subjects.recipient(session, created.subject_id, actor="t", now=NOW)
    sender = MemoryMailSender()
    instance.subjects.send_mail(sender, found, Letter(subject="Again?", text="Please confirm"))
    assert [m.to for m in sender.sent] == ["d@example.org"]
    instance.subjects.erase(instance.db, created.subject_id, actor="t", now=NOW)
    with instance.db.write() as session, pytest.raises(SubjectErased):
        instance.subjects.recipient(session, created.subject_id, actor="t", now=NOW)
