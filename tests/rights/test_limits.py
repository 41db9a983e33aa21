"""Rate limits of `/my-data`: per client network as signup counts (CAPTCHA, then a
refusal with Retry-After), and per recipient (at most a few link mails a day, with
the same answer as ever)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from ehrlich.app import create_app
from ehrlich.captcha.service import solve
from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance
from ehrlich.mail.interfaces import MemoryMailSender
from ehrlich.rights.gate import MAILS_PER_RECIPIENT_PER_DAY
from ehrlich.rights.service import RightsService
from ehrlich.settings import Settings
from tests.auth.conftest import challenge_of
from tests.conftest import NOW
from tests.factories import new_subject
from tests.jobs import run_jobs
from tests.mail.smtp_server import SmtpServer
from tests.rights.conftest import mails_to


def test_one_address_gets_a_few_links_a_day_whoever_asks(
        published: Instance, rights: RightsService, smtp: SmtpServer) -> None:
    new_subject(published, "ada@example.org")
    before = len(mails_to(smtp, "ada@example.org"))  # the server outlives one test
    outcomes = [rights.ask_for_link(published.db, MemoryMailSender(), "ADA@example.org ",
                                    language="en", client=f"192.0.2.{n}", captcha=None,
                                    no_script=False, now=NOW).status for n in range(6)]
    assert outcomes == ["sent"] * 6
    run_jobs(published)
    assert len(mails_to(smtp, "ada@example.org")) - before == MAILS_PER_RECIPIENT_PER_DAY


def test_one_network_needs_the_captcha_then_is_refused(
        client: TestClient, published: Instance, settings: Settings) -> None:
    gate = published.service(RightsService).gate
    assert gate is not None
    asked = [client.post("/my-data", data={"email": f"p{n}@example.org"})
             for n in range(gate.captcha_after)]
    assert [r.status_code for r in asked] == [200] * gate.captcha_after
    challenged = client.post("/my-data", data={"email": "q@example.org"})
    assert challenged.status_code == 429
    assert "data-altcha-challenge" in challenged.text
    assert "Send without JavaScript" in challenged.text
    solved = client.post("/my-data", data={"email": "q@example.org",
                                           "altcha": solve(challenge_of(challenged.text))})
    assert solved.status_code == 200
    statuses = [client.post("/my-data", data={"email": "r@example.org", "no_script": "1"}
                            ).status_code for _ in range(gate.per_hour)]
    assert statuses[-1] == 429
    refused = client.post("/my-data", data={"email": "s@example.org"})
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "3600"


def test_a_bad_address_names_the_field_and_the_honeypot_changes_nothing(
        client: TestClient, published: Instance) -> None:
    bad = client.post("/my-data", data={"email": "not an address"})
    assert bad.status_code == 422
    assert "Email address" in bad.text
    assert re.search(r'<input id="email"[^>]*aria-invalid="true" '
                     r'aria-describedby="email-error-1"', bad.text)
    assert '<li id="email-error-1">' in bad.text
    german = client.post("/my-data", data={"email": "a@b@example.org", "language": "de"})
    assert german.status_code == 422
    assert "Das ist keine gültige E-Mail-Adresse." in german.text
    assert "is not a valid" not in german.text
    trap = client.post("/my-data", data={"email": "ada@example.org", "website": "x"})
    assert trap.status_code == 200
    assert run_jobs(published) == 0
    foreign = client.post("/my-data", data={"email": "ada@example.org"},
                          headers={"origin": "https://evil.example"})
    assert foreign.status_code == 403


def test_without_mail_the_page_says_where_to_write(
        published: Instance, settings: Settings) -> None:
    quiet = open_instance(settings.model_copy(update={"smtp_host": None}))
    try:
        with TestClient(create_app(quiet), raise_server_exceptions=False) as client:
            page = client.get("/my-data")
            sent = client.post("/my-data", data={"email": "ada@example.org"})
    finally:
        quiet.close()
    assert page.status_code == 503
    assert "privacy@lindenhof-rad.example" in page.text
    assert sent.status_code == 503
