"""The confirmation mail is queued in the signup's own transaction: the request and its
mail are both kept or both gone, so no crash leaves a request waiting for a mail that
was never queued (docs/jobs.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from ehrlich.consent.models import ConsentEvent
from ehrlich.consent.schemas import Evidence, SignupInput
from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance
from ehrlich.jobs import JobQueue
from ehrlich.mail.service import QueuedMailSender
from ehrlich.settings import Settings
from tests.conftest import NOW
from tests.consent.conftest import NEWSLETTER_EN, publish
from tests.instances import InstanceTemplates


@pytest.fixture
def queued(settings: Settings, instance_templates: InstanceTemplates) -> Iterator[Instance]:
    """The instance as it runs, with the queue-backed sender (not the tests' outbox)."""
    settings = settings.model_copy(update={"base_url": "https://shop.example"})
    instance_templates.install(settings)
    opened = open_instance(settings)
    publish(opened)
    yield opened
    opened.close()


def sign_up(instance: Instance) -> None:
    instance.signups.sign_up(
        instance.db, instance.mail, SignupInput.model_validate({
            "email": "ada@example.org", "language": "en", "notice_version": 1,
            "consents": [{"purpose": "newsletter", "text": NEWSLETTER_EN}]}),
        method="api", evidence=Evidence(), now=NOW)


def requests(instance: Instance) -> int:
    with instance.db.read() as session:
        return int(session.execute(select(func.count()).select_from(ConsentEvent)
                                   .where(ConsentEvent.action == "requested")).scalar_one())


def test_the_request_and_its_mail_commit_together(queued: Instance) -> None:
    assert isinstance(queued.mail, QueuedMailSender)
    sign_up(queued)
    assert (requests(queued), queued.jobs.pending_count()) == (1, 1)


def test_a_failure_after_queueing_keeps_neither(queued: Instance,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    real = JobQueue.enqueue_in

    def queued_then_failed(self: JobQueue, *args: Any, **kwargs: Any) -> str:
        real(self, *args, **kwargs)
        raise RuntimeError("the process stops before the commit")

    monkeypatch.setattr(JobQueue, "enqueue_in", queued_then_failed)
    with pytest.raises(RuntimeError):
        sign_up(queued)
    assert (requests(queued), queued.jobs.pending_count()) == (0, 0)
