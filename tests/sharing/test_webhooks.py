"""Signed webhooks to recipients (Standard Webhooks v1): a real receiver on loopback
checks every signature with its own code; a failing receiver is tried again with a
growing wait until it answers, or given up after the last try; the secret is sealed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from ehrlich.errors import InvalidInput
from ehrlich.instance.service import Instance
from ehrlich.sharing import webhooks
from ehrlich.sharing.models import RecipientEndpoint
from ehrlich.sharing.webhooks import Webhooks
from ehrlich.storage.base import utcnow
from tests.jobs import run_jobs
from tests.sharing.receiver import Receiver, verify

# A known-answer vector from the Standard Webhooks specification's reference libraries.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


def _configure(instance: Instance, receiver: Receiver, recipient: str = "mailer") -> None:
    with instance.db.write() as session:
        secret = instance.service(Webhooks).set_endpoint(
            session, recipient, receiver.url, actor="cli:operator", now=utcnow())
    assert secret is not None
    receiver.secret = secret


def _queue(instance: Instance, message_id: str = "msg_one") -> str:
    with instance.db.write() as session:
        found = instance.service(Webhooks).queue(
            session, recipient="mailer", event="test.ping", message_id=message_id,
            data={"n": 1}, reference="ref-1", now=utcnow())
    assert found is not None
    return found


def test_the_signature_matches_the_specifications_vector() -> None:
    assert webhooks.sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_a_message_arrives_once_signed_and_is_recorded_delivered(
        instance: Instance, receiver: Receiver) -> None:
    _configure(instance, receiver)
    delivery_id = _queue(instance)
    assert _queue(instance) == delivery_id  # the same message id is queued once
    run_jobs(instance)
    [got] = receiver.received
    assert got.valid
    assert got.headers["webhook-id"] == "msg_one"
    assert got.payload["type"] == "test.ping"
    assert got.payload["data"] == {"n": 1}
    assert not verify(receiver.secret, got.headers, got.body + b" ")  # the check can fail
    with instance.db.read() as session:
        [view] = instance.service(Webhooks).deliveries(session)
        sealed = session.execute(select(RecipientEndpoint.secret_ct)).scalar_one()
    assert (view.status, view.attempts, view.last_result) == ("delivered", 1, "HTTP 204")
    assert receiver.secret.encode() not in sealed
    assert instance.jobs.pending_count() == 0


def test_a_failing_receiver_is_tried_again_until_it_answers(
        instance: Instance, receiver: Receiver) -> None:
    _configure(instance, receiver)
    receiver.statuses = [500, 503, 200]
    _queue(instance)
    run_jobs(instance)
    with instance.db.read() as session:
        [view] = instance.service(Webhooks).deliveries(session)
    assert (view.status, view.attempts, view.last_result) == ("failing", 1, "HTTP 500")
    assert view.next_try_at is not None
    assert view.last_try_at is not None
    assert view.next_try_at - view.last_try_at == timedelta(seconds=webhooks.RETRY_DELAY)
    run_jobs(instance)  # not yet due
    assert len(receiver.received) == 1
    run_jobs(instance, later=timedelta(seconds=31))
    run_jobs(instance, later=timedelta(seconds=91))
    assert len(receiver.received) == 3
    assert all(r.valid for r in receiver.received)
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    with instance.db.read() as session:
        [view] = instance.service(Webhooks).deliveries(session)
    assert (view.status, view.attempts) == ("delivered", 3)


def test_a_receiver_that_never_answers_well_is_given_up_after_the_last_try(
        instance: Instance, receiver: Receiver) -> None:
    _configure(instance, receiver)
    receiver.statuses = [500]
    _queue(instance)
    for _ in range(webhooks.RETRIES + 2):
        run_jobs(instance, later=timedelta(hours=3))
    assert len(receiver.received) == webhooks.RETRIES + 1
    with instance.db.read() as session:
        [view] = instance.service(Webhooks).deliveries(session, status="given-up")
    assert view.attempts == webhooks.RETRIES + 1
    assert instance.jobs.counts()["failed"] == 1


def test_without_an_endpoint_nothing_is_queued(instance: Instance) -> None:
    with instance.db.write() as session:
        assert instance.service(Webhooks).queue(
            session, recipient="mailer", event="test.ping", message_id="msg_x", data={},
            reference="r", now=utcnow()) is None
    assert instance.jobs.pending_count() == 0


@pytest.mark.parametrize("url", ["ftp://example.org/x", "http://example.org/hook", "hooks",
                                 "https://" + "a" * 500 + ".org",
                                 "https://mail.example:99999/hook"])
def test_an_endpoint_must_be_an_https_url(instance: Instance, url: str) -> None:
    with pytest.raises(InvalidInput) as raised, instance.db.write() as session:
        instance.service(Webhooks).set_endpoint(session, "mailer", url, actor="cli:x",
                                                now=utcnow())
    assert [p.field for p in raised.value.problems] == ["url"]
    with instance.db.read() as session:
        assert instance.service(Webhooks).endpoints(session) == []
