"""A marketing mail over real SMTP, its one-click header followed, the person gone from
the audience."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from ehrlich.consent.ledger.audience import stream_audience
from ehrlich.consent.unsubscribe.links import unsubscribe_link
from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance
from ehrlich.mail.interfaces import OutgoingMail
from ehrlich.mail.templates import MailTemplates
from ehrlich.settings import Settings
from tests.conftest import NOW
from tests.factories import new_subject, record, subject_with_consent
from tests.instances import InstanceTemplates
from tests.jobs import run_jobs
from tests.mail.conftest import SENDER
from tests.mail.smtp_server import SmtpServer


def audience(instance: Instance) -> list[str]:
    return [i for batch in stream_audience(instance.db, "newsletter", "email") for i in batch]


def test_mail_header_one_click_withdraws_and_leaves_the_audience(
        instance: Instance, client: TestClient, smtp: SmtpServer) -> None:
    smtp.start()
    ada = subject_with_consent(instance, "ada@example.org")
    assert audience(instance) == [ada]
    link = unsubscribe_link(instance.settings, instance.keyring, subject_id=ada,
                            purpose="newsletter", channel="email", now=NOW)
    instance.mail.send(OutgoingMail(to="ada@example.org", subject="Autumn news",
                                    text="New in the shop.", html="<p>New in the shop.</p>",
                                    category="marketing", unsubscribe=link))
    run_jobs(instance)
    [got] = smtp.received
    msg = message_from_bytes(got.data, policy=policy.default)
    header = str(msg["List-Unsubscribe"])
    match = re.match(r"<(https://[^>]+)>", header)
    assert match is not None
    url = urlsplit(match.group(1))
    assert url.netloc == "shop.example"
    body = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert match.group(1) in body  # the visible link
    response = client.post(url.path, data={"List-Unsubscribe": "One-Click"},
                           follow_redirects=False)
    assert response.status_code == 200
    assert audience(instance) == []


def test_confirmation_mail_renders_in_german_with_cancel_link(instance: Instance,
                                                              smtp: SmtpServer) -> None:
    smtp.start()
    ada = new_subject(instance, "ada@example.org")
    record(instance, ada, "requested")
    link = unsubscribe_link(instance.settings, instance.keyring, subject_id=ada,
                            purpose="newsletter", channel="email", now=NOW)
    rendered = MailTemplates().render(
        "confirm_subscription", "de", purposes=["Wöchentlicher Newsletter"],
        confirm_url="https://shop.example/confirm/x", unsubscribe_url=link.url, valid_days=30,
        controller_name="Shop GmbH", controller_contact="datenschutz@shop.example")
    instance.mail.send(OutgoingMail(to="ada@example.org", subject=rendered.subject,
                                    text=rendered.text, html=rendered.html, language="de",
                                    unsubscribe=link))
    run_jobs(instance)
    msg = message_from_bytes(smtp.received[0].data, policy=policy.default)
    assert msg["Subject"] == "Bitte bestätigen: Wöchentlicher Newsletter"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.count(link.url) == 1  # the template shows it; no second footer
    assert "Abmelden" not in text


def test_withdrawal_reaches_mail_already_queued(instance: Instance, client: TestClient,
                                                smtp: SmtpServer) -> None:
    smtp.start()
    stays, leaves, pending = (new_subject(instance, f"{n}@example.org")
                              for n in ("stays", "leaves", "pending"))
    record(instance, stays, "granted")
    record(instance, leaves, "granted")
    record(instance, pending, "requested")
    links = {s: unsubscribe_link(instance.settings, instance.keyring, subject_id=s,
                                 purpose="newsletter", channel="email", now=NOW)
             for s in (stays, leaves, pending)}
    for subject_id, to in ((stays, "stays@example.org"), (leaves, "leaves@example.org")):
        instance.mail.send(OutgoingMail(to=to, subject="News", text="News",
                                        category="marketing", unsubscribe=links[subject_id]))
    instance.mail.send(OutgoingMail(to="pending@example.org", subject="Please confirm",
                                    text="Confirm", unsubscribe=links[pending]))
    for subject_id in (leaves, pending):  # both leave while their mail waits in the queue
        client.post(urlsplit(links[subject_id].url).path, data={"List-Unsubscribe": "One-Click"})
    assert run_jobs(instance) == 3
    assert [r.rcpt_tos for r in smtp.received] == [["stays@example.org"]]


def test_delivery_reports_go_to_the_return_path(settings: Settings, smtp: SmtpServer,
                                               instance_templates: InstanceTemplates) -> None:
    """The envelope sender on the wire is the return path; the From header the shop."""
    smtp.start()
    settings = settings.model_copy(update={"smtp_return_path": "bounces@shop.example"})
    instance_templates.install(settings)
    shop = open_instance(settings)
    try:
        shop.mail.send(OutgoingMail(to="ada@example.org", subject="Hello", text="Hello.",
                                    category="transactional"))
        run_jobs(shop)
    finally:
        shop.close()
    [got] = smtp.received
    assert got.mail_from == "bounces@shop.example"
    assert b"\r\nFrom: " + SENDER.encode() + b"\r\n" in b"\r\n" + got.data
