"""Nothing personal in a real server's log: a signup, a confirmation, a preference change,
searches by email and phone and an erasure, then the whole log searched for each canary."""

from __future__ import annotations

import re
import time
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx2 as httpx
import pytest

from ehrlich.auth.api_tokens import create_api_token
from ehrlich.domains import open_instance
from ehrlich.instance.service import init_instance
from ehrlich.settings import Settings
from tests.conftest import NOW
from tests.consent.conftest import notice_text
from tests.e2e.servers import free_port, running_servers
from tests.factories import publish_notice
from tests.mail.smtp_server import SmtpServer

pytestmark = pytest.mark.slow

EMAIL, NAME, PHONE = "kanarie.vogel@example.org", "Kanarie Vogelsang", "+4915123456789"
CLIENT_IP = "203.0.113.77"
MAIL_SECONDS = 30  # the in-process worker sends the mail; a busy machine takes a while


def prepare(root: Path) -> tuple[Path, str]:
    settings = Settings(data_dir=root / "data", key_file=root / "keys" / "k.key")
    config = init_instance(settings, now=NOW)
    instance = open_instance(settings)
    try:
        publish_notice(instance, notice_text())
        with instance.db.write() as session:
            token, _ = create_api_token(session, name="crm",
                                        scopes=["subjects:write", "subjects:erase"], now=NOW)
    finally:
        instance.close()
    return config, token


def wait_for_mail(smtp: SmtpServer) -> str:
    deadline = time.monotonic() + MAIL_SECONDS
    while not smtp.received:
        assert time.monotonic() < deadline, "no confirmation mail arrived"
        time.sleep(0.1)  # waiting for the worker, not for logic
    message = message_from_bytes(smtp.received[0].data, policy=policy.default)
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr,no-any-return]


def test_the_server_log_holds_no_personal_data(tmp_path: Path) -> None:
    config, api_token = prepare(tmp_path)
    smtp = SmtpServer(free_port()).start()
    env = {"EHRLICH_SMTP_HOST": "127.0.0.1", "EHRLICH_SMTP_PORT": str(smtp.port),
           "EHRLICH_SMTP_TLS": "none", "EHRLICH_SMTP_FROM": "Shop <news@shop.example>",
           "EHRLICH_TRUSTED_PROXIES": "127.0.0.1"}
    browser = {"X-Forwarded-For": CLIENT_IP}
    api = {"Authorization": f"Bearer {api_token}", **browser}
    try:
        with running_servers(config, 1, env=env) as [url], httpx.Client(
                base_url=url, headers=browser, timeout=30) as client:
            page = client.get("/signup")
            version = re.search(r'name="notice_version" value="(\d+)"', page.text)
            assert version is not None
            signed_up = client.post("/signup", data={
                "email": EMAIL, "name": NAME, "notice_version": version.group(1),
                "language": "en", "purpose": ["newsletter"], "website": ""})
            assert signed_up.status_code == 200
            text = wait_for_mail(smtp)
            links = [urlsplit(u).path for u in re.findall(r"https?://\S+", text)]
            [confirm] = [link for link in links if link.startswith("/confirm/")]
            confirmed = client.post(confirm)
            assert confirmed.status_code == 200
            preferences = re.search(r'href="(/preferences/[^"]+)"', confirmed.text)
            assert preferences is not None
            assert client.get(preferences.group(1)).status_code == 200
            assert client.post(preferences.group(1), data={}).status_code == 200
            found = client.get("/api/v1/subjects", params={"email": EMAIL}, headers=api)
            [person] = found.json()
            assert client.get("/api/v1/subjects", params={"phone": PHONE},
                              headers=api).status_code == 200
            assert client.delete(f"/api/v1/subjects/{person['id']}",
                                 headers=api).status_code == 204
    finally:
        smtp.stop()

    log = "\n".join(p.read_text() for p in config.parent.glob("serve-*.log"))
    assert "Mail:          on, mail goes to 127.0.0.1" in log  # the start-up banner
    assert f"{CLIENT_IP.rsplit('.', 1)[0]}.0/24" in log
    assert "/preferences/<token>" in log
    tokens = [link.rsplit("/", 1)[1] for link in links] + [
        preferences.group(1).split("/")[2]]
    canaries = [EMAIL, quote(EMAIL), quote(EMAIL, safe=""), EMAIL.split("@", 1)[0], NAME,
                NAME.split()[1], PHONE, quote(PHONE, safe=""), PHONE[1:], CLIENT_IP,
                *tokens]
    assert [canary for canary in canaries if canary in log] == []
